// How far a finite source has been read, as text: shared by the status line
// (status-line.ts) and the dashboard's page (dashboard/page.ts). No imports: it runs in both.

/** `done of total unit (percent)`: bytes in the total's unit (`1.5 of 27.0 MiB (5%)`), records as counts. */
export function fraction(p: { done: number; total: number; unit: "bytes" | "records" }): string {
  const pct = `(${p.total ? Math.floor((100 * p.done) / p.total) : 100}%)`;
  if (p.unit === "records") return `${p.done.toLocaleString("en-US")} of ${p.total.toLocaleString("en-US")} records ${pct}`;
  let i = 0;
  while (p.total >= 1024 ** (i + 1) && i < 4) i++;
  const f = (n: number): string => (i ? (n / 1024 ** i).toFixed(1) : String(n));
  return `${f(p.done)} of ${f(p.total)} ${["B", "KiB", "MiB", "GiB", "TiB"][i]} ${pct}`;
}
