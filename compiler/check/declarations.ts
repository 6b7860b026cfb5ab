// The top-level names: every type, helper, import, source, let and `late:` stream, each
// declared once (FLOW2002), none redefining a built-in type or function.

import * as A from "../ast.js";
import { isAggregate, isBuiltin } from "../builtins.js";
import { PRIMITIVES } from "../types.js";
import { declName, type CheckContext, type TopDecl } from "./context.js";

/** The `late: name` streams a pipeline declares. */
function lateStreams(p: A.Pipeline): A.Ident[] {
  const out: A.Ident[] = [];
  for (const st of p.stages) {
    if (st.kind !== "CallStage" || st.name.name !== "window") continue;
    for (const a of st.args) {
      if (a.name?.name === "late" && a.value.kind === "Name") out.push({ kind: "Ident", name: a.value.name, span: a.value.span });
    }
  }
  return out;
}

export function collectDeclarations(cx: CheckContext): void {
  for (const d of cx.program.decls) {
    const entries: TopDecl[] = [];
    switch (d.kind) {
      case "TypeDecl":
        entries.push({ kind: "type", decl: d });
        break;
      case "FnDecl":
        entries.push({ kind: "fn", decl: d });
        break;
      case "Import":
        for (const name of d.names) entries.push({ kind: "import", decl: d, name });
        break;
      case "Source":
        entries.push({ kind: "source", decl: d });
        break;
      case "Let":
        entries.push({ kind: "let", decl: d });
        for (const name of lateStreams(d.pipeline)) entries.push({ kind: "late", name, owner: d });
        break;
      case "Sink":
        for (const name of lateStreams(d.pipeline)) entries.push({ kind: "late", name, owner: d });
        break;
      case "Checkpoint":
      case "Restart":
      case "State":
        break;
      default:
        A.assertNever(d, "declaration");
    }
    for (const e of entries) {
      const id = declName(e);
      const prev = cx.top.get(id.name);
      if (prev) {
        cx.diags.error("FLOW2002", id.span, `\`${id.name}\` is declared twice`, {
          label: "declared again here",
          notes: [{ message: `\`${id.name}\` is first declared here`, span: declName(prev).span }],
          hints: ["names are unique per file: rename one of them"],
        });
        continue;
      }
      if (e.kind === "type" && (PRIMITIVES as readonly string[]).includes(id.name)) {
        cx.diags.error("FLOW2002", id.span, `\`${id.name}\` is a built-in type and cannot be redefined`);
        continue;
      }
      if (e.kind === "fn" && (isBuiltin(id.name) || isAggregate(id.name))) {
        cx.diags.error("FLOW2002", id.span, `\`${id.name}\` is a built-in function and cannot be redefined`, { hints: ["give the helper another name"] });
        continue;
      }
      if (e.kind === "import" && (isBuiltin(id.name) || isAggregate(id.name))) {
        // A call would reach the built-in, never the import: say so rather than shadow one silently.
        cx.diags.error("FLOW2002", id.span, `\`${id.name}\` is a built-in function: an imported function cannot take its name`, {
          hints: [`call the built-in \`${id.name}\` without importing it, or export the TypeScript function under another name`],
        });
        continue;
      }
      cx.top.set(id.name, e);
    }
  }
}
