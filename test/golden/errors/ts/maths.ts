// TypeScript functions imported by the golden case FLOW2002-import-names-a-builtin.
export function sqrt(x: number): number {
  return Math.sqrt(x);
}
