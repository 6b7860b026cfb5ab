// `import { f } from "./udf.ts"` (section 8): reads the exported functions' signatures with
// ts-morph and maps them to .flow types — number → float, string, boolean → bool,
// T | null → T?, arrays → list, plain object types → records. A function that cannot be
// mapped is an error at its import. ts-morph is loaded only when a file imports something.

import { existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import type { Node, Project as ProjectT, Type as TsType } from "ts-morph";
import type * as A from "./ast.js";
import type { Diagnostics } from "./diagnostics/diagnostic.js";
import { didYouMean } from "./suggest.js";
import { T, typeToString, type RecordType, type Type } from "./types.js";

export interface ImportedFn {
  /** The name in the .flow file (and the TypeScript export). */
  name: string;
  /** The module specifier exactly as written (resolved against the .flow file's folder). */
  specifier: string;
  /** The absolute path of the TypeScript file. */
  path: string;
  params: { name: string; type: Type }[];
  result: Type;
  decl: A.ImportDecl;
  ident: A.Ident;
}

type TsMorph = typeof import("ts-morph");
let tsMorph: TsMorph | null = null;

/**
 * The TypeScript projects of imported files, by path. Each check has its own, unless it is
 * given one: the language server keeps one between checks, and a project whose files have
 * changed on disk since it was read is read again.
 */
export class TypeScriptFiles {
  private readonly projects = new Map<string, { project: ProjectT; stamps: [string, string][] }>();

  project(path: string): ProjectT {
    const known = this.projects.get(path);
    if (known && known.stamps.every(([file, stamp]) => stampOf(file) === stamp)) return known.project;
    tsMorph ??= createRequire(import.meta.url)("ts-morph") as TsMorph;
    const project = new tsMorph.Project({
      compilerOptions: { strict: true, target: tsMorph.ts.ScriptTarget.ES2022, module: tsMorph.ts.ModuleKind.ESNext, moduleResolution: tsMorph.ts.ModuleResolutionKind.Bundler, allowImportingTsExtensions: true, noEmit: true, skipLibCheck: true },
      skipAddingFilesFromTsConfig: true,
    });
    project.addSourceFileAtPath(path);
    project.resolveSourceFileDependencies();
    this.projects.set(path, { project, stamps: project.getSourceFiles().map((sf) => [sf.getFilePath(), stampOf(sf.getFilePath())]) });
    return project;
  }
}

/** When a file last changed, and its size ("" when it is gone). */
function stampOf(path: string): string {
  try {
    const st = statSync(path);
    return `${st.mtimeMs}:${st.size}`;
  } catch {
    return "";
  }
}

/** A mapping failure: what could not be mapped and why. */
class Unmappable extends Error {}

function map(t: TsType, at: Node, position: "param" | "result", seen: Set<TsType>): Type {
  if (t.isAny() || t.isUnknown()) throw new Unmappable(`\`${t.getText()}\` says nothing about the value; give it a precise type`);
  if (t.isNumber() || t.isNumberLiteral()) return T.float;
  if (t.isString() || t.isStringLiteral() || t.isTemplateLiteral()) return T.string;
  if (t.isBoolean() || t.isBooleanLiteral()) return T.bool;
  if (t.isUnion()) {
    const members = t.getUnionTypes();
    const hasNull = members.some((m) => m.isNull());
    const hasUndefined = members.some((m) => m.isUndefined());
    const rest = members.filter((m) => !m.isNull() && !m.isUndefined());
    if (hasUndefined && !hasNull && position === "param") throw new Unmappable(`\`${t.getText()}\`: a .flow null is passed as null, so write \`T | null\` rather than \`T | undefined\``);
    let inner: Type;
    if (rest.length > 0 && rest.every((m) => m.isBooleanLiteral())) inner = T.bool;
    else if (rest.length > 0 && rest.every((m) => m.isStringLiteral())) inner = T.string;
    else if (rest.length > 0 && rest.every((m) => m.isNumberLiteral())) inner = T.float;
    else if (rest.length === 1) inner = map(rest[0]!, at, position, seen);
    else throw new Unmappable(`the union \`${t.getText()}\` has no .flow type (only \`T | null\` maps, to \`T?\`)`);
    return hasNull || hasUndefined ? T.optional(inner) : inner;
  }
  if (t.isNull() || t.isUndefined()) throw new Unmappable("a value that is always null has no .flow type");
  if (t.isArray() || t.isReadonlyArray()) {
    const elem = t.getArrayElementType() ?? t.getTypeArguments()[0];
    if (!elem) throw new Unmappable(`\`${t.getText()}\` has no element type`);
    return T.list(map(elem, at, position, seen));
  }
  if (t.isTuple()) throw new Unmappable(`the tuple \`${t.getText()}\` has no .flow type; use an array or an object`);
  if (t.isObject()) {
    const symbol = t.getSymbol()?.getName();
    if (symbol === "Date") throw new Unmappable("`Date` has no .flow type; pass a timestamp as a number of milliseconds");
    if (symbol === "Promise") throw new Unmappable("async functions cannot be called from a stream job (the batch loop is synchronous)");
    if (symbol === "Map" || symbol === "Set") throw new Unmappable(`\`${symbol}\` has no .flow type here; use an array or a plain object`);
    if (t.getCallSignatures().length > 0) throw new Unmappable("functions cannot be passed to or returned from imported functions");
    if (t.getStringIndexType() || t.getNumberIndexType()) throw new Unmappable(`\`${t.getText()}\` has an index signature; only objects with fixed fields map to .flow records`);
    if (seen.has(t)) throw new Unmappable(`\`${t.getText()}\` refers to itself; recursive types have no .flow equivalent`);
    seen.add(t);
    const fields: RecordType["fields"] = [];
    for (const p of t.getProperties()) {
      const decl = p.getValueDeclaration() ?? at;
      const pt = p.getTypeAtLocation(decl);
      if (pt.getCallSignatures().length > 0) throw new Unmappable(`\`${p.getName()}\` is a method; only plain data objects map to .flow records`);
      const optional = p.isOptional();
      if (optional && position === "param") throw new Unmappable(`the optional field \`${p.getName()}?\` would receive null: write \`${p.getName()}: T | null\``);
      let ft = map(pt, at, position, seen);
      if (optional) ft = T.optional(ft);
      fields.push({ name: p.getName(), type: ft });
    }
    seen.delete(t);
    const alias = t.getAliasSymbol()?.getName() ?? (t.isInterface() ? symbol : undefined);
    return alias && alias !== "__type" ? { kind: "record", fields, name: alias } : { kind: "record", fields };
  }
  if (t.isVoid()) throw new Unmappable("the function returns nothing; an imported function must return a value");
  if (t.isBigInt() || t.isBigIntLiteral()) throw new Unmappable("bigint has no .flow type; use number");
  throw new Unmappable(`\`${t.getText()}\` has no .flow type`);
}

/** Reads one `import { … } from "…"` declaration; reports what cannot be used. */
export function readImports(decl: A.ImportDecl, baseDir: string, diags: Diagnostics, files: TypeScriptFiles): ImportedFn[] {
  const specifier = decl.from.value;
  const path = resolve(baseDir, specifier);
  if (!/\.(ts|mts|cts|tsx)$/.test(specifier)) {
    diags.error("FLOW2010", decl.from.span, `imports name a TypeScript file, found "${specifier}"`, { hints: ['write the path with its extension: "./udf.ts"'] });
    return [];
  }
  if (!existsSync(path)) {
    diags.error("FLOW2010", decl.from.span, `cannot find ${specifier}`, { hints: ["import paths are resolved against the folder of the .flow file"] });
    return [];
  }
  const sf = files.project(path).getSourceFileOrThrow(path);
  const exported = sf.getExportedDeclarations();
  const out: ImportedFn[] = [];
  for (const ident of decl.names) {
    const decls = exported.get(ident.name);
    if (!decls || decls.length === 0) {
      diags.error("FLOW2010", ident.span, `${specifier} exports no \`${ident.name}\``, { hints: [didYouMean(ident.name, [...exported.keys()]) ?? (exported.size ? `it exports ${[...exported.keys()].join(", ")}` : "it exports nothing")] });
      continue;
    }
    const d = decls[0]!;
    const sigs = d.getType().getCallSignatures();
    const fail = (why: string): void => {
      diags.error("FLOW3017", ident.span, `\`${ident.name}\` cannot be called from .flow: ${why}`, {
        hints: ["parameters and results may be number, string, boolean, T | null, arrays and plain objects of those"],
      });
    };
    if (sigs.length === 0) {
      fail("it is not a function");
      continue;
    }
    if (sigs.length > 1) {
      fail("it has several overloads");
      continue;
    }
    const sig = sigs[0]!;
    if (sig.getTypeParameters().length > 0) {
      fail("it is generic; give it concrete types");
      continue;
    }
    try {
      const params = sig.getParameters().map((p) => {
        const pd = p.getValueDeclaration() ?? d;
        if (pd.getText().startsWith("...")) throw new Unmappable(`\`${p.getName()}\` is a rest parameter`);
        if (p.isOptional()) throw new Unmappable(`\`${p.getName()}\` is optional; every argument is passed, so make it \`${p.getName()}: T | null\``);
        try {
          return { name: p.getName(), type: map(p.getTypeAtLocation(pd), pd, "param", new Set()) };
        } catch (e) {
          if (e instanceof Unmappable) throw new Unmappable(`parameter \`${p.getName()}\`: ${e.message}`);
          throw e;
        }
      });
      let result: Type;
      try {
        result = map(sig.getReturnType(), d, "result", new Set());
      } catch (e) {
        if (e instanceof Unmappable) throw new Unmappable(`its result: ${e.message}`);
        throw e;
      }
      out.push({ name: ident.name, specifier, path, params, result, decl, ident });
    } catch (e) {
      if (!(e instanceof Unmappable)) throw e;
      fail(e.message);
    }
  }
  return out;
}

/** `score(float, string): float`, for messages. */
export function signatureText(f: ImportedFn): string {
  return `${f.name}(${f.params.map((p) => `${p.name}: ${typeToString(p.type)}`).join(", ")}): ${typeToString(f.result)}`;
}
