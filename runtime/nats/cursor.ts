// Where a reader of a stream stands when it owns some of the stream's parts (the partitions
// of a partitioned source, the key groups of an exchange): the last stream sequence it
// consumed, and, after a rescale, the parts whose previous owner had read further than
// that (their messages up to that sequence are skipped). Positions are plain JSON in
// checkpoints and savepoints; `merged` gives a new instance the positions of the parts it
// now owns from the positions of the instances that owned them before.

/** A position by parts: `seq` for every part, or `ahead[p]` where that is larger. */
export interface PartsPosition {
  seq: number;
  ahead?: Record<string, number>;
}

export class Cursor {
  /** The last stream sequence consumed. */
  seq: number;
  private readonly ahead = new Map<number, number>();

  constructor(p: PartsPosition | null) {
    this.seq = p?.seq ?? 0;
    for (const [k, v] of Object.entries(p?.ahead ?? {})) if (v > this.seq) this.ahead.set(Number(k), v);
  }

  /** Whether the message at `seq` of `part` is new to this reader. */
  wants(part: number, seq: number): boolean {
    if (this.ahead.size === 0) return true;
    const a = this.ahead.get(part);
    return a === undefined || seq > a;
  }

  advance(seq: number): void {
    this.seq = seq;
    if (this.ahead.size === 0) return;
    for (const [p, a] of this.ahead) if (a <= seq) this.ahead.delete(p);
  }

  get position(): PartsPosition {
    if (this.ahead.size === 0) return { seq: this.seq };
    return { seq: this.seq, ahead: Object.fromEntries([...this.ahead].map(([p, a]) => [String(p), a])) };
  }
}

/** The last sequence consumed of `part` at a position. */
export function partSeq(p: PartsPosition, part: number): number {
  return Math.max(p.seq, p.ahead?.[String(part)] ?? 0);
}

/**
 * The position of a new owner of `parts`, from where each part's previous owner stood
 * (`before(part)`): reading starts after the smallest; the others are skipped up to theirs.
 */
export function merged(parts: readonly number[], before: (part: number) => PartsPosition | null): PartsPosition {
  const at = parts.map((p) => {
    const b = before(p);
    return b ? partSeq(b, p) : 0;
  });
  const seq = at.length ? Math.min(...at) : 0;
  const ahead: Record<string, number> = {};
  parts.forEach((p, i) => {
    if (at[i]! > seq) ahead[String(p)] = at[i]!;
  });
  return Object.keys(ahead).length ? { seq, ahead } : { seq };
}
