export function price_in_cents(text: string): number {
  const n = Number(text);
  if (Number.isNaN(n)) throw new Error(`not a price: ${text}`);
  return Math.round(n * 100);
}
