// `sequence(from: a, to: b)`: the ints from a to b, both included.

import { assignable, T, typeToString } from "../types.js";
import type { SourceConnectorDef } from "./connector.js";

export interface SequenceSource {
  kind: "sequence";
  from: number;
  to: number;
}

export const sequence: SourceConnectorDef<SequenceSource> = {
  side: "source",
  name: "sequence",
  kind: "sequence",
  replayable: true,
  args: [
    { name: "from", arg: { kind: "int" }, position: 0, required: true },
    { name: "to", arg: { kind: "int" }, position: 1, required: true },
  ],
  summary: "sequence(from: a, to: b): the ints from a to b, both included",
  check({ diags, decl, type, args }) {
    if (!assignable(T.int, type) || type.kind !== "prim") {
      diags.error("FLOW3001", decl.type.span, `sequence(…) produces int, but \`${decl.name.name}\` is declared as ${typeToString(type)}`, { hints: [`declare it as \`source ${decl.name.name}: int = sequence(…)\``] });
    }
    return { kind: "sequence", from: args.get("from")!.lit as number, to: args.get("to")!.lit as number };
  },
  files: () => [],
  manifest: (c, base) => ({ name: base.name, connector: "sequence", type: base.type, from: c.from, to: c.to, eventTime: base.eventTime }),
  generated: () => ({ fromJson: false, values: null }),
};
