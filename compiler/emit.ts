// emit: job graph -> TypeScript module. A handlebars template (templates/job.ts.hbs) holds
// the module's fixed shape; ts-morph adds the generated declarations, whose bodies are
// TypeScript nodes built by emit/code.ts. The result is type-checked against the runtime's
// types (runtime/api.ts, runtime/lib.ts); a type error there is a compiler bug.

import { readFileSync } from "node:fs";
import { join, posix } from "node:path";
import type { StatementStructures, ts as TS } from "ts-morph";
import type { CheckedProgram, StatefulStage } from "./check.js";
import { CodeGen, Names, type Env } from "./emit/code.js";
import { Nodes, fieldName } from "./emit/tsnodes.js";
import { accumulatorName, type GraphNode, type JobGraph } from "./plan.js";
import { RUNTIME_DIR, TEMPLATES_DIR } from "./paths.js";
import { T, isOptional, sameType, toDesc, type Type } from "./types.js";
import type { Manifest, SinkManifest, SourceManifest } from "../runtime/api.js";

export interface EmitOptions {
  /** The .flow file as the user named it (shown in the header and in runtime errors). */
  sourceName: string;
  version: string;
  /** Format the module for reading (`--emit-ts`). */
  format?: boolean;
  /** Phase timings (ms) are added here when given. */
  timings?: Record<string, number>;
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
  tsMorph ??= await import("ts-morph");
  const t1 = performance.now();
  const Handlebars = (await import("handlebars")).default;
  const { Project, StructureKind, VariableDeclarationKind, ts } = tsMorph;
  const n = new Nodes(ts);
  const manifest = buildManifest(graph, opts);

  const hb = Handlebars.create();
  hb.registerHelper("comment", (s: unknown) => String(s).replace(/[\r\n\u2028\u2029]+/g, " ").replace(/\*\//g, "* /"));
  const render = (name: string, model: object): string =>
    hb.compile(readFileSync(join(TEMPLATES_DIR, name), "utf8"), { strict: true, noEscape: true, knownHelpers: { comment: true }, knownHelpersOnly: true })(model);
  const header = render("job.ts.hbs", {
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
      statements: n.printAll([n.ret(gen.expr(fn.decl.body, env))]),
    });
  }

  // State classes: one per stateful operator, one instance per key.
  const stateClass = (uid: string): string => `${uid}$State`;
  const fieldCounts = new Map<string, number>();
  for (const node of graph.nodes) {
    if (node.kind !== "operator") continue;
    const st = node.stage;
    const keyType = node.input.key ? typeText(node.input.key) : "undefined";
    const fields = stateFields(st, gen, n, typeText);
    const self = n.f.createThis();
    const cols = n.id("$c");
    const column = (i: number): TS.Expression => n.nonNull(n.f.createElementAccessExpression(cols, n.num(i)));
    // Checkpoints save and load the fields column by column (runtime/checkpoint/snapshot.ts).
    const save = fields.map((f, i) => n.expr(n.method(column(i), "push", [n.prop(self, f.name)])));
    const load = fields.map((f, i) => n.assign(n.prop(self, f.name), n.f.createAsExpression(n.f.createElementAccessExpression(column(i), n.id("$i")), n.f.createIndexedAccessTypeNode(n.f.createTypeReferenceNode(stateClass(st.uid)), n.f.createLiteralTypeNode(n.str(f.name))))));
    fieldCounts.set(st.uid, fields.length);
    statements.push({
      kind: StructureKind.Class,
      name: stateClass(st.uid),
      docs: [`State of ${st.kind} \`${st.uid}\` for one key.`],
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
    statements: n.printAll(buildBody(graph, gen, n, stateClass, fieldCounts)),
  });

  const sf = project.createSourceFile(JOB_FILE, { statements: [header.trimEnd(), ...statements] });
  // Formatting costs ~150 ms, so only a module a person will read (--emit-ts) is formatted.
  if (opts.format) sf.formatText({ indentSize: 2, convertTabsToSpaces: true });
  const code = sf.getFullText();
  const t2 = performance.now();
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
      return st.states.map((s) => ({
        name: fieldName(s.name),
        type: typeText(s.type),
        initializer: n.print(gen.expr(s.decl.init, { vars: new Map(), names: new Names() })),
      }));
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

/** The statements of build(): state stores, sink writers, node functions, source bindings. */
function buildBody(graph: JobGraph, gen: CodeGen, n: Nodes, stateClass: (uid: string) => string, fieldCounts: Map<string, number>): TS.Statement[] {
  const ts = n.ts;
  const K = ts.SyntaxKind;
  const out: TS.Statement[] = [];
  const moduleNames = new Names(["$ctx", "$lib", "$rt", "manifest", "build"]);
  const fnOf = new Map<number, string>();
  for (const node of graph.nodes) {
    const base = node.kind === "source" ? `${node.label}$source` : node.kind === "chain" ? `${node.label}$chain` : node.kind === "operator" ? `${node.stage.uid}$op` : `${node.label}$write`;
    fnOf.set(node.id, moduleNames.fresh(base));
  }
  const byId = new Map(graph.nodes.map((x) => [x.id, x]));
  const keyTypeNode = (t: Type | null): TS.TypeNode => (t ? gen.tsType(t) : n.f.createKeywordTypeNode(K.UndefinedKeyword));

  /** Statements that hand (value, key, time) to every node `node` feeds. */
  const forward = (node: GraphNode, value: TS.Expression, key: TS.Expression, names: Names): TS.Statement[] => {
    const targets = node.outputs.map((o) => fnOf.get(o)!);
    if (targets.length === 1) return [n.expr(n.call(targets[0]!, [value, key, n.id("$ts")]))];
    const v = names.fresh("$out");
    return [n.constDecl(v, value), ...targets.map((t) => n.expr(n.call(t, [n.id(v), key, n.id("$ts")])))];
  };

  const stores = new Map<string, string>();
  for (const node of graph.nodes) {
    if (node.kind === "operator") {
      const uid = node.stage.uid;
      const store = moduleNames.fresh(`${uid}$state`);
      stores.set(uid, store);
      const cls = stateClass(uid);
      const create = node.input.key
        ? n.call(n.prop(n.id("$ctx"), "keyedState"), [n.str(uid), n.num(fieldCounts.get(uid)!), n.arrow(["$key"], n.newExpr(cls, [n.f.createAsExpression(n.id("$key"), keyTypeNode(node.input.key))]))])
        : n.call(n.prop(n.id("$ctx"), "globalState"), [n.str(uid), n.num(fieldCounts.get(uid)!), n.arrow([], n.newExpr(cls, [n.undef()]))]);
      out.push(n.constDecl(store, create));
    }
  }
  const writers = new Map<number, string>();
  for (const s of graph.sinks) {
    const w = moduleNames.fresh(`$sink${s.index}`);
    writers.set(s.index, w);
    out.push(n.constDecl(w, n.call(n.prop(n.id("$ctx"), "sink"), [n.num(s.index)])));
  }

  for (const node of graph.nodes) {
    if (node.kind === "source") continue;
    const names = new Names(["$in", "$k", "$ts", "$s"]);
    const env: Env = { vars: new Map(), names };
    let body: TS.Statement[];
    switch (node.kind) {
      case "chain":
        body = chainBody(node, n.id("$in"), n.id("$k"), env, gen, forward, false);
        break;
      case "operator":
        body = operatorBody(node, env, gen, n, stores.get(node.stage.uid)!, forward);
        break;
      case "sink": {
        const conn = node.sink.connector!;
        const bare = conn.kind === "stdout";
        body = [n.expr(n.method(n.id(writers.get(node.index)!), "write", [gen.serialize(n.id("$in"), node.input.elem, conn.format, bare)]))];
        break;
      }
    }
    const input = node.input;
    const fn = n.f.createFunctionDeclaration(
      undefined,
      undefined,
      fnOf.get(node.id)!,
      undefined,
      [
        n.f.createParameterDeclaration(undefined, undefined, "$in", undefined, gen.tsType(input.elem)),
        n.f.createParameterDeclaration(undefined, undefined, "$k", undefined, keyTypeNode(input.key)),
        n.f.createParameterDeclaration(undefined, undefined, "$ts", undefined, n.f.createKeywordTypeNode(K.NumberKeyword)),
      ],
      n.f.createKeywordTypeNode(K.VoidKeyword),
      n.f.createBlock(body, true),
    );
    out.push(ts.addSyntheticLeadingComment(fn, K.SingleLineCommentTrivia, ` ${describeNode(node, graph.checked)}`, true));
  }

  // Sources: push a batch through the graph, element by element, synchronously.
  const bindings: TS.Expression[] = [];
  for (const s of graph.sources) {
    const names = new Names(["$batch", "$i", "$ts"]);
    const elem = n.f.createNonNullExpression(n.f.createElementAccessExpression(n.id("$batch"), n.id("$i")));
    const loopBody = [n.constDecl("$ts", n.num(0)), ...forward(s, elem, n.undef(), names)];
    const loop = n.f.createForStatement(
      n.f.createVariableDeclarationList([n.f.createVariableDeclaration("$i", undefined, undefined, n.num(0))], ts.NodeFlags.Let),
      n.bin(n.id("$i"), K.LessThanToken, n.prop(n.id("$batch"), "length")),
      n.f.createPostfixIncrement(n.id("$i")),
      n.f.createBlock(loopBody, true),
    );
    const push = n.f.createMethodDeclaration(undefined, undefined, "push", undefined, undefined, [
      n.f.createParameterDeclaration(undefined, undefined, "$batch", undefined, n.f.createTypeOperatorNode(K.ReadonlyKeyword, n.f.createArrayTypeNode(wrap(n, gen.tsType(s.output.elem))))),
    ], n.f.createKeywordTypeNode(K.VoidKeyword), n.f.createBlock([loop], true));
    const members: TS.ObjectLiteralElementLike[] = [push];
    const conn = s.source.connector;
    if (conn?.kind === "values") {
      const items = conn.items.map((item) => gen.expr(item, { vars: new Map(), names: new Names() }));
      members.push(n.f.createPropertyAssignment("values", n.f.createAsExpression(n.array(items, true), n.f.createTypeOperatorNode(K.ReadonlyKeyword, n.f.createArrayTypeNode(wrap(n, gen.tsType(s.output.elem)))))));
    }
    bindings.push(n.f.createObjectLiteralExpression(members, true));
  }
  out.push(n.ret(n.f.createObjectLiteralExpression([n.f.createPropertyAssignment("sources", n.array(bindings, true))], true)));
  void byId;
  return out;
}

function wrap(n: Nodes, t: TS.TypeNode): TS.TypeNode {
  return n.ts.isUnionTypeNode(t) ? n.f.createParenthesizedType(t) : t;
}

type Forward = (node: GraphNode, value: TS.Expression, key: TS.Expression, names: Names) => TS.Statement[];

/** A fused chain of stateless stages: straight-line code, `return`/`continue` for filters. */
function chainBody(node: Extract<GraphNode, { kind: "chain" }>, value: TS.Expression, key: TS.Expression, env: Env, gen: CodeGen, forward: Forward, inLoop: boolean, from = 0): TS.Statement[] {
  const n = gen.n;
  const out: TS.Statement[] = [];
  let v = value;
  let k = key;
  for (let i = from; i < node.stages.length; i++) {
    const st = node.stages[i]!;
    bindKey(gen, st.stage.span, k, env);
    const param = gen.bindLocal(st.param, env);
    const decl = n.constDecl(param, v);
    out.push(n.ts.addSyntheticLeadingComment(decl, n.ts.SyntaxKind.SingleLineCommentTrivia, ` ${st.kind} (line ${st.stage.span.line})`, true));
    const p = n.id(param);
    switch (st.kind) {
      case "filter":
        out.push(n.if(n.f.createLogicalNot(n.paren(gen.expr(st.lambda.body, env))), [inLoop ? n.continue() : n.ret()]));
        v = p;
        break;
      case "map": {
        const name = env.names.fresh("$v");
        out.push(n.constDecl(name, gen.expr(st.lambda.body, env)));
        v = n.id(name);
        break;
      }
      case "key_by": {
        const name = env.names.fresh("$key");
        out.push(n.constDecl(name, gen.expr(st.lambda.body, env)));
        k = n.id(name);
        v = p;
        break;
      }
      case "flat_map": {
        const item = env.names.fresh("$item");
        const rest = chainBody(node, n.id(item), k, env, gen, forward, true, i + 1);
        out.push(n.forOf(item, gen.expr(st.lambda.body, env), rest));
        return out;
      }
    }
  }
  out.push(...forward(node, v, k, env.names));
  return out;
}

/** An aggregate, reduce or process operator: look up the key's state object, update, emit. */
function operatorBody(node: Extract<GraphNode, { kind: "operator" }>, env: Env, gen: CodeGen, n: Nodes, store: string, forward: Forward): TS.Statement[] {
  const K = n.ts.SyntaxKind;
  const st = node.stage;
  const keyed = node.input.key !== null;
  const keyIsRecord = node.input.key?.kind === "record";
  const lookup = keyed
    ? n.method(n.id(store), "get", [keyIsRecord ? n.call(n.prop(n.id("$lib"), "keyOf"), [n.id("$k")]) : n.id("$k"), n.id("$k")])
    : n.id(store);
  const out: TS.Statement[] = [n.constDecl("$s", lookup)];
  const s = n.id("$s");
  bindKey(gen, st.stage.span, n.id("$k"), env);
  switch (st.kind) {
    case "aggregate": {
      const param = gen.bindLocal(st.param, env);
      out.push(n.constDecl(param, n.id("$in")));
      st.aggs.forEach((a, i) => {
        const acc = n.prop(s, accumulatorName(i, a.fn));
        if (a.fn === "count") {
          out.push(n.assign(acc, n.num(1), "+="));
          return;
        }
        const valueExpr = gen.expr(a.value!, env);
        const optionalValue = isOptional(a.valueType);
        const x = env.names.fresh(`$a${i}`);
        out.push(n.constDecl(x, valueExpr));
        const xv = n.id(x);
        const guard = (body: TS.Statement[], extra?: TS.Expression): TS.Statement[] => {
          const conds: TS.Expression[] = [];
          if (optionalValue || a.fn === "min" || a.fn === "max" || a.fn === "first") conds.push(n.bin(xv, K.ExclamationEqualsEqualsToken, n.null()));
          if (extra) conds.push(extra);
          if (!conds.length) return body;
          return [n.if(conds.reduce((l, r) => n.bin(l, K.AmpersandAmpersandToken, r)), body)];
        };
        switch (a.fn) {
          case "sum":
            out.push(...guard([n.assign(acc, xv, "+=")]));
            break;
          case "avg":
            out.push(...guard([n.assign(n.prop(acc, "sum"), xv, "+="), n.assign(n.prop(acc, "n"), n.num(1), "+=")]));
            break;
          case "min":
          case "max":
            out.push(...guard([n.assign(acc, xv)], n.paren(n.bin(n.bin(acc, K.EqualsEqualsEqualsToken, n.null()), K.BarBarToken, n.bin(xv, a.fn === "min" ? K.LessThanToken : K.GreaterThanToken, n.nonNull(acc))))));
            break;
          case "first":
            out.push(...guard([n.assign(acc, xv)], n.bin(acc, K.EqualsEqualsEqualsToken, n.null())));
            break;
          case "last":
            out.push(...guard([n.assign(acc, xv)]));
            break;
          case "count_distinct": {
            const base = a.valueType.kind === "optional" ? a.valueType.inner : a.valueType;
            const member = base.kind === "prim" ? xv : n.call(n.prop(n.id("$lib"), "keyOf"), [xv]);
            out.push(...guard([n.expr(n.method(acc, "add", [member]))]));
            break;
          }
          case "collect":
            out.push(...guard([n.expr(n.method(acc, "push", [xv]))]));
            break;
          case "top": {
            const r = env.names.fresh(`$r${i}`);
            out.push(n.constDecl(r, gen.expr(a.by!, env)));
            const conds: TS.Expression[] = [];
            if (optionalValue) conds.push(n.bin(xv, K.ExclamationEqualsEqualsToken, n.null()));
            if (a.byType && isOptional(a.byType)) conds.push(n.bin(n.id(r), K.ExclamationEqualsEqualsToken, n.null()));
            const call = n.expr(n.call(n.prop(n.id("$lib"), "topInsert"), [acc, n.num(a.n!), xv, n.id(r)]));
            out.push(conds.length ? n.if(conds.reduce((l, rr) => n.bin(l, K.AmpersandAmpersandToken, rr)), [call]) : call);
            break;
          }
        }
      });
      const read = (i: number): TS.Expression => {
        const a = st.aggs[i]!;
        const acc = n.prop(s, accumulatorName(i, a.fn));
        switch (a.fn) {
          case "count":
          case "sum":
            return acc;
          case "avg":
            return isOptional(a.resultType)
              ? n.cond(n.bin(n.prop(acc, "n"), K.EqualsEqualsEqualsToken, n.num(0)), n.null(), n.bin(n.prop(acc, "sum"), K.SlashToken, n.prop(acc, "n")))
              : n.bin(n.prop(acc, "sum"), K.SlashToken, n.prop(acc, "n"));
          case "min":
          case "max":
          case "first":
          case "last":
            return isOptional(a.resultType) ? acc : n.nonNull(acc);
          case "count_distinct":
            return n.prop(acc, "size");
          case "collect":
            return n.method(acc, "slice", []);
          case "top":
            return n.method(acc, "map", [n.arrow(["$e"], n.prop(n.id("$e"), "v"))]);
        }
      };
      // The element is not visible in the result expression (checked), only aggregate reads.
      const result = gen.expr(st.lambda.body, { ...env, aggRead: read });
      out.push(...forward(node, result, n.id("$k"), env.names));
      return out;
    }
    case "reduce": {
      const acc = gen.bindLocal(st.acc, env);
      const param = gen.bindLocal(st.param, env);
      out.push(n.constDecl(param, n.id("$in")));
      const r = env.names.fresh("$r");
      out.push(n.letDecl(r, n.id(param), gen.tsType(st.input.elem)));
      out.push(n.if(n.prop(s, "has"), [n.constDecl(acc, n.f.createAsExpression(n.prop(s, "acc"), gen.tsType(st.input.elem))), n.assign(n.id(r), gen.expr(st.lambda.body, env))]));
      out.push(n.assign(n.prop(s, "acc"), n.id(r)), n.assign(n.prop(s, "has"), n.bool(true)));
      out.push(...forward(node, n.id(r), n.id("$k"), env.names));
      return out;
    }
    case "process": {
      const param = gen.bindLocal(st.param, env);
      out.push(n.constDecl(param, n.id("$in")));
      for (const state of st.states) env.vars.set(state.id, n.prop(s, fieldName(state.name)));
      const emitEnv: Env = {
        ...env,
        state: s,
        emit: (value) => forward(node, value, n.id("$k"), env.names),
      };
      out.push(...gen.stmts(st.stage.body, emitEnv));
      return out;
    }
  }
}

/** Makes `key` in a stage's expressions read the typed key the element arrived with. */
function bindKey(gen: CodeGen, stageSpan: { start: number; end: number }, key: TS.Expression, env: Env): void {
  for (const [expr, b] of gen.checked.names) {
    if (b.kind === "key" && expr.span.start >= stageSpan.start && expr.span.end <= stageSpan.end) env.vars.set(b.id, key);
  }
}

function describeNode(node: GraphNode, checked: CheckedProgram): string {
  void checked;
  switch (node.kind) {
    case "source":
      return `source ${node.label}`;
    case "chain":
      return node.stages.length ? `${node.stages.map((s) => s.kind).join(" |> ")} (fused, from \`${node.label}\`)` : `union into \`${node.label.replace(/_union$/, "")}\``;
    case "operator":
      return `${node.stage.kind} \`${node.stage.uid}\`${node.input.key ? ", per key" : ", one global group"}`;
    case "sink":
      return `sink ${node.index} (${node.sink.connector?.kind})`;
  }
}

function buildManifest(graph: JobGraph, opts: EmitOptions): Manifest {
  const sources: SourceManifest[] = graph.sources.map((s) => {
    const c = s.source.connector!;
    const type = toDesc(s.source.type);
    switch (c.kind) {
      case "values":
        return { name: s.label, connector: "values", type };
      case "sequence":
        return { name: s.label, connector: "sequence", type, from: c.from, to: c.to };
      case "file":
        return { name: s.label, connector: "file", type, path: c.path, format: c.format, onError: c.onError };
      case "stdin":
        return { name: s.label, connector: "stdin", type, format: c.format, onError: c.onError };
    }
  });
  const sinks: SinkManifest[] = graph.sinks.map((s) => {
    const c = s.sink.connector!;
    const columns = c.format === "csv" && s.input.elem.kind === "record" ? s.input.elem.fields.map((f) => f.name) : null;
    return c.kind === "stdout" ? { connector: "stdout", format: c.format, columns } : { connector: "file", path: c.path, format: c.format, columns };
  });
  return {
    formatVersion: 1,
    job: graph.job,
    flowFile: opts.sourceName,
    compiler: `flowc ${opts.version}`,
    sources,
    sinks,
    operators: graph.operators,
    checkpoint: graph.checkpoint,
    restart: graph.restart,
  };
}
