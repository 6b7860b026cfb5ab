// emit: job graph -> TypeScript module. A handlebars template (templates/job.ts.hbs) holds
// the module's fixed shape; ts-morph adds the generated declarations, whose bodies are
// TypeScript nodes built by emit/code.ts. The result is type-checked against the runtime's
// types (runtime/api.ts, runtime/lib.ts); a type error there is a compiler bug.

import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join, posix } from "node:path";
import type { StatementStructures, ts as TS } from "ts-morph";
import type { StatefulStage } from "./check/index.js";
import { CodeGen, inlineIntChecks, Names, type Env } from "./emit/code.js";
import { buildBody } from "./emit/graph.js";
import { render } from "./emit/templates.js";
import { Nodes, fieldName } from "./emit/tsnodes.js";
import { accumulatorName, type JobGraph } from "./plan.js";
import { RUNTIME_DIR, TEMPLATES_DIR } from "./paths.js";
import { T, sameType, toDesc, type Type } from "./types.js";
import { buildManifest } from "./manifest.js";
import type { Manifest } from "../runtime/api.js";

export interface EmitOptions {
  /** The .flow file as the user named it (shown in the header and in runtime errors). */
  sourceName: string;
  version: string;
  /** Format the module for reading (`--emit-ts`). */
  format?: boolean;
  /** Phase timings (ms) are added here when given. */
  timings?: Record<string, number>;
  /**
   * Type-check the module (default true). `flowc test` leaves it out for its modules (the
   * job's own plus probe sinks), which the test suite type-checks for every example.
   */
  typeCheck?: boolean;
}

export interface EmitResult {
  code: string;
  manifest: Manifest;
}

/** Where the generated module sits in the type-check's in-memory file system (deep, so that
 * `../` in an import path stays inside it). */
const JOB_DIR = "/flowc/job/a/b/c/d";
const JOB_FILE = `${JOB_DIR}/job.ts`;

/** A compiler bug found while emitting: the generated code does not type-check. */
export class GeneratedCodeError extends Error {}

type TsMorph = typeof import("ts-morph");
let tsMorph: TsMorph | null = null;

export async function emit(graph: JobGraph, opts: EmitOptions): Promise<EmitResult> {
  const t0 = performance.now();
  // Through require, not import(): loading TypeScript's 9 MB as CommonJS skips the export
  // scan of an ESM import and uses v8-compile-cache (about 150 ms of a cold compile).
  tsMorph ??= createRequire(import.meta.url)("ts-morph") as TsMorph;
  const t1 = performance.now();
  const { Project, StructureKind, VariableDeclarationKind, ts } = tsMorph;
  const n = new Nodes(ts);
  const manifest = buildManifest(graph, opts);

  const header = await render("job.ts.hbs", {
    version: opts.version,
    source: opts.sourceName,
    job: graph.job,
    nodeCount: graph.nodes.length,
    sourceCount: graph.sources.length,
    operatorCount: graph.operators.length,
    sinkCount: graph.sinks.length,
  });

  const project = new Project({
    useInMemoryFileSystem: true,
    compilerOptions: {
      strict: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      // A small lib of our own (templates/typecheck-lib.d.ts) instead of TypeScript's.
      noLib: true,
      types: [],
      allowImportingTsExtensions: true,
      noEmit: true,
      skipLibCheck: true,
      paths: { "@flowc/runtime/*": ["/runtime/*"] },
    },
  });
  project.createSourceFile("/typecheck-lib.d.ts", readFileSync(join(TEMPLATES_DIR, "typecheck-lib.d.ts"), "utf8"));
  for (const f of ["api.ts", "lib.ts", "udf.ts", "convert.ts", "errors.ts"]) project.createSourceFile(`/runtime/${f}`, readFileSync(join(RUNTIME_DIR, f), "utf8"));

  // A record type is written by its interface's name when it is a declared `type`; records
  // that only carry a name for messages (from an imported TypeScript type) are written out.
  const recordName = (name: string, t?: Type): string | null => {
    const declared = graph.namedTypes.get(name);
    return declared && (!t || sameType(declared, t)) ? `rec$${name}` : null;
  };
  const fnName = (name: string): string => `fn$${name}`;
  const gen = new CodeGen(n, graph.checked, recordName, fnName, opts.sourceName);
  const typeText = (t: Type): string => n.print(gen.tsType(t));
  // The module is built from structures and printed once (ts-morph's advice for speed).
  const statements: (StatementStructures | string)[] = [];

  // Imported TypeScript functions: one namespace import per file, and a wrapper per function
  // that checks the result's type and turns what it throws into a runtime error.
  const imports = [...graph.checked.imports.values()];
  const specifiers = [...new Set(imports.map((f) => f.specifier))];
  if (imports.length) {
    statements.push(n.print(n.f.createImportDeclaration(undefined, n.f.createImportClause(false, undefined, n.f.createNamedImports(["importResult", "importFailed"].map((x) => n.f.createImportSpecifier(false, undefined, n.id(x))))), n.str("@flowc/runtime/udf"))));
  }
  specifiers.forEach((spec, i) => {
    statements.push(n.print(n.f.createImportDeclaration(undefined, n.f.createImportClause(false, undefined, n.f.createNamespaceImport(n.id(`$udf${i}`))), n.str(spec))));
    // For the type check: the module as .flow sees it (declarations of the mapped signatures).
    const decls = imports.filter((f) => f.specifier === spec).map((f) =>
      n.print(n.f.createFunctionDeclaration([n.f.createModifier(ts.SyntaxKind.ExportKeyword), n.f.createModifier(ts.SyntaxKind.DeclareKeyword)], undefined, f.name, undefined,
        f.params.map((p, j) => n.f.createParameterDeclaration(undefined, undefined, `a${j}`, undefined, n.type(unnamed(p.type), () => "never"))), n.type(unnamed(f.result), () => "never"), undefined)),
    );
    project.createSourceFile(posix.resolve(JOB_DIR, spec), decls.join("\n"));
  });
  for (const f of imports) {
    const i = specifiers.indexOf(f.specifier);
    const location = `${opts.sourceName}:${f.ident.span.line}:${f.ident.span.col}`;
    const check = `${f.name}$result`;
    statements.push(n.print(n.constDecl(check, n.call("importResult", [n.str(f.name), n.literal(toDesc(f.result)), n.str(location)]))));
    const args = f.params.map((_, j) => n.id(`a${j}`));
    const body = [
      n.letDecl("$r", n.undef(), n.f.createKeywordTypeNode(ts.SyntaxKind.UnknownKeyword)),
      n.f.createTryStatement(
        n.f.createBlock([n.assign(n.id("$r"), n.call(n.prop(n.id(`$udf${i}`), f.name), args))], true),
        n.f.createCatchClause("$e", n.f.createBlock([n.f.createThrowStatement(n.call("importFailed", [n.str(f.name), n.str(location), n.id("$e")]))], true)),
        undefined,
      ),
      n.ret(n.f.createAsExpression(n.call(check, [n.id("$r")]), gen.tsType(f.result))),
    ];
    statements.push({
      kind: StructureKind.Function,
      name: `udf$${f.name}`,
      docs: [`\`${f.name}\` from ${f.specifier}.`.replace(/\*\//g, "* /")],
      parameters: f.params.map((p, j) => ({ name: `a${j}`, type: typeText(p.type) })),
      returnType: typeText(f.result),
      statements: n.printAll(body),
    });
  }

  // Record types.
  for (const [name, t] of graph.namedTypes) {
    if (t.kind !== "record") continue;
    statements.push({
      kind: StructureKind.Interface,
      name: `rec$${name}`,
      isExported: true,
      properties: t.fields.map((f) => ({ name: n.print(typePropName(n, f.name)), type: typeText(f.type) })),
    });
  }

  // Helper functions.
  for (const fn of graph.fns) {
    const env: Env = { vars: new Map(), names: new Names() };
    const params = fn.params.map((p) => ({ name: gen.bindLocal(p, env), type: typeText(p.type) }));
    statements.push({
      kind: StructureKind.Function,
      name: fnName(fn.name),
      parameters: params,
      returnType: typeText(fn.result),
      statements: n.printAll(inlineIntChecks(n, [n.ret(gen.expr(fn.decl.body, env))])),
    });
  }

  // State classes: one per stateful operator, one instance per key.
  const stateClass = (uid: string): string => `${uid}$State`;
  const fieldCounts = new Map<string, number>();
  for (const node of graph.nodes) {
    if (node.kind !== "operator") continue;
    const st = node.stage;
    const uid = node.uid;
    const keyType = node.input.key ? typeText(node.input.key) : "undefined";
    const fields = stateFields(st, gen, n, typeText);
    const self = n.f.createThis();
    const cols = n.id("$c");
    const column = (i: number): TS.Expression => n.nonNull(n.f.createElementAccessExpression(cols, n.num(i)));
    // Checkpoints save and load the fields column by column (runtime/checkpoint/snapshot.ts).
    const save = fields.map((f, i) => n.expr(n.method(column(i), "push", [n.prop(self, f.name)])));
    const load = fields.map((f, i) => n.assign(n.prop(self, f.name), n.f.createAsExpression(n.f.createElementAccessExpression(column(i), n.id("$i")), n.f.createIndexedAccessTypeNode(n.f.createTypeReferenceNode(stateClass(uid)), n.f.createLiteralTypeNode(n.str(f.name))))));
    fieldCounts.set(uid, fields.length);
    statements.push({
      kind: StructureKind.Class,
      name: stateClass(uid),
      docs: [`State of ${st.kind} \`${uid}\` for one key.`],
      properties: [{ name: "$key", type: keyType, isReadonly: true }, { name: "$dirty", type: "boolean", initializer: "false" }, ...fields],
      ctors: [{ parameters: [{ name: "$key", type: keyType }], statements: ["this.$key = $key;"] }],
      methods: [
        { name: "$saveTo", parameters: [{ name: "$c", type: "unknown[][]" }], returnType: "void", statements: n.printAll(save) },
        { name: "$loadFrom", parameters: [{ name: "$c", type: "readonly unknown[][]" }, { name: "$i", type: "number" }], returnType: "void", statements: n.printAll(load) },
      ],
    });
  }

  statements.push({
    kind: StructureKind.VariableStatement,
    isExported: true,
    declarationKind: VariableDeclarationKind.Const,
    declarations: [{ name: "manifest", type: "$rt.Manifest", initializer: n.print(n.literal(manifest)) }],
  });

  statements.push({
    kind: StructureKind.Function,
    name: "build",
    isExported: true,
    docs: ["Wires the job graph: one function per node, called synchronously for each element."],
    parameters: [{ name: "$ctx", type: "$rt.JobContext" }],
    returnType: "$rt.BuiltJob",
    statements: n.printAll(inlineIntChecks(n, buildBody(graph, gen, n, stateClass, fieldCounts))),
  });

  const sf = project.createSourceFile(JOB_FILE, { statements: [header.trimEnd(), ...statements] });
  // Formatting costs ~150 ms, so only a module a person will read (--emit-ts) is formatted.
  if (opts.format) sf.formatText({ indentSize: 2, convertTabsToSpaces: true });
  const code = sf.getFullText();
  const t2 = performance.now();
  if (opts.typeCheck === false) {
    if (opts.timings) {
      opts.timings["load ts-morph"] = t1 - t0;
      opts.timings["emit"] = t2 - t1;
    }
    return { code, manifest };
  }
  const program = project.getProgram().compilerObject;
  const jobFile = program.getSourceFile(JOB_FILE)!;
  const problems = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics(), ...program.getSyntacticDiagnostics(jobFile), ...program.getSemanticDiagnostics(jobFile)];
  if (problems.length) {
    const lines = code.split("\n");
    const details = problems.slice(0, 10).map((d) => {
      const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : undefined;
      const msg = ts.flattenDiagnosticMessageText(d.messageText, "\n");
      return `job.ts:${line ?? "?"}: ${msg}${line ? `\n    ${lines[line - 1]?.trim()}` : ""}`;
    });
    throw new GeneratedCodeError(`the generated TypeScript does not type-check:\n${details.join("\n")}`);
  }
  if (opts.timings) {
    opts.timings["load ts-morph"] = t1 - t0;
    opts.timings["emit"] = t2 - t1;
    opts.timings["type-check"] = performance.now() - t2;
  }
  return { code, manifest };
}

/** The same type with record names dropped (written out in full). */
function unnamed(t: Type): Type {
  switch (t.kind) {
    case "optional":
      return { kind: "optional", inner: unnamed(t.inner) };
    case "list":
      return { kind: "list", elem: unnamed(t.elem) };
    case "map":
      return { kind: "map", key: t.key, value: unnamed(t.value) };
    case "record":
      return { kind: "record", fields: t.fields.map((f) => ({ name: f.name, type: unnamed(f.type) })) };
    default:
      return t;
  }
}

/** `__proto__` as a quoted name in types (a computed name would need a literal type). */
function typePropName(n: Nodes, name: string): TS.PropertyName {
  return name === "__proto__" ? n.str(name) : n.propName(name);
}

/** The fields of an operator's state class, with their initial values. */
function stateFields(st: StatefulStage, gen: CodeGen, n: Nodes, typeText: (t: Type) => string): { name: string; type: string; initializer: string }[] {
  switch (st.kind) {
    case "process":
      return [
        ...st.states.map((s) => ({
          name: fieldName(s.name),
          type: typeText(s.type),
          initializer: n.print(gen.expr(s.decl.init, { vars: new Map(), names: new Names() })),
        })),
        // ttl: when each state was last written (event time).
        ...st.states.filter((s) => st.ttl.has(s.name)).map((s) => ({ name: `$w_${fieldName(s.name)}`, type: "number", initializer: "-Infinity" })),
      ];
    case "dedup":
      return [];
    case "reduce":
      return [
        { name: "acc", type: typeText(T.optional(st.input.elem)), initializer: "null" },
        { name: "has", type: "boolean", initializer: "false" },
      ];
    case "aggregate":
      return st.aggs.map((a, i) => {
        const name = accumulatorName(i, a.fn);
        const value = a.valueType.kind === "optional" ? a.valueType.inner : a.valueType;
        switch (a.fn) {
          case "count":
            return { name, type: "number", initializer: "0" };
          case "sum":
            return { name, type: "number", initializer: "0" };
          case "avg":
            return { name, type: "{ sum: number; n: number }", initializer: "{ sum: 0, n: 0 }" };
          case "min":
          case "max":
          case "first":
          case "last":
            return { name, type: `${typeText(value)} | null`, initializer: "null" };
          case "count_distinct":
            return { name, type: "Set<unknown>", initializer: "new Set()" };
          case "collect":
            return { name, type: typeText(T.list(value)), initializer: "[]" };
          case "top":
            return { name, type: `{ v: ${typeText(value)}; r: ${typeText(a.byType && a.byType.kind === "optional" ? a.byType.inner : a.byType ?? T.int)} }[]`, initializer: "[]" };
        }
      });
  }
}
