// `stdin(format: …)`: standard input, read asynchronously. It cannot be replayed: a resumed
// job goes on from wherever the new process's input starts.

import type { SourceBinding, SourceManifest } from "../api.js";
import { BATCH_SIZE, type BadRecords, type BatchResult, type Source, type SourceConnector, type SourcePosition } from "./contract.js";
import { bindFastJson, textDecoders, type CsvDecoder, type LineBuffer, type LineDecoder } from "./lines.js";

type StdinManifest = Extract<SourceManifest, { connector: "stdin" }>;

/** Standard input, read asynchronously (it cannot be replayed). */
export class StdinSource implements Source {
  readonly replayable = false;
  readonly live = true;
  private readonly lines: LineBuffer;
  private readonly lineDecoder: LineDecoder | null;
  private readonly csv: CsvDecoder | null;
  private readonly chunks: AsyncIterator<Buffer>;
  private records = 0;
  private done = false;

  constructor(
    readonly name: string,
    m: StdinManifest,
    private readonly errors: BadRecords,
  ) {
    this.chunks = process.stdin[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    ({ lines: this.lines, csv: this.csv, lineDecoder: this.lineDecoder } = textDecoders(name, "stdin", m, errors));
  }

  async next(): Promise<BatchResult> {
    if (this.errors.failure) throw this.errors.failure;
    const out: unknown[] = [];
    while (out.length === 0 && !this.done && !this.errors.failure) {
      if (this.csv) {
        const r = this.csv.decode(out, BATCH_SIZE);
        if (r === "end") this.done = true;
        if (r !== "input" || out.length > 0 || this.errors.failure) break;
      } else {
        let line: string | null;
        while (out.length < BATCH_SIZE && !this.errors.failure && (line = this.lines.nextLine()) !== null) this.lineDecoder!.decode(line, this.lines.lineNo, out);
        if (out.length > 0 || this.errors.failure) break;
        if (this.lines.eof) {
          this.done = true;
          break;
        }
      }
      const r = await this.chunks.next();
      if (r.done) this.lines.wrote(0);
      else this.lines.append(r.value);
    }
    this.records += out.length;
    if (out.length === 0 && this.errors.failure) throw this.errors.failure;
    return out.length === 0 && this.done ? null : out;
  }

  bind(binding: SourceBinding<unknown>): void {
    bindFastJson(this.lineDecoder, binding);
  }

  position(): SourcePosition {
    return { records: this.records };
  }

  seek(): void {
    // stdin cannot be replayed: it goes on from wherever the new process's input starts.
  }

  close(): void {
    process.stdin.destroy();
  }
}


export const connector: SourceConnector<StdinManifest> = {
  open: (m, ctx) => new StdinSource(m.name, m, ctx.errors),
};
