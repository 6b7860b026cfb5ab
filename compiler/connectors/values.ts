// `values([…])`: the elements written in the job, typed by the source's declared type.

import type * as A from "../ast.js";
import type { SourceConnectorDef } from "./connector.js";

export interface ValuesSource {
  kind: "values";
  items: A.Expr[];
}

export const values: SourceConnectorDef<ValuesSource> = {
  side: "source",
  name: "values",
  kind: "values",
  replayable: true,
  args: [{ name: "elements", arg: { kind: "elements" }, position: 0, required: true }],
  summary: "values([…]): the listed elements, typed by the source's declared type",
  check({ diags, decl, type, args, expect }) {
    const list = args.get("elements")!.value;
    if (list.kind !== "List") {
      diags.error("FLOW4008", list.span, "values(…) takes a list literal such as [1, 2, 3]");
      return null;
    }
    for (const item of list.items) expect(item, type, `an element of \`${decl.name.name}\``);
    return { kind: "values", items: list.items };
  },
  files: () => [],
  manifest: (_c, base) => ({ name: base.name, connector: "values", type: base.type, eventTime: base.eventTime }),
  generated: (c) => ({ fromJson: false, values: c.items }),
};
