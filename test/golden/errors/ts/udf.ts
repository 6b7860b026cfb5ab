// TypeScript functions imported by the golden cases FLOW2010-* and FLOW3017-*.
export function score(amount: number, merchant: string): number {
  return merchant.startsWith("web") ? amount * 2 : amount;
}
export function age(born: Date): number {
  return Date.now() - born.getTime();
}
export async function lookup(id: string): Promise<string> {
  return id;
}
export function pick<T>(xs: T[]): T {
  return xs[0]!;
}
