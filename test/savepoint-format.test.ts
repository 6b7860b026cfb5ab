// The savepoint format's pieces: the canonical value encoding round-trips every runtime
// value; schema evolution allows exactly what docs/savepoints.md says; the restore plan maps
// state by uid and state name, as both the job and `flowc check --against-savepoint` use it.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { OperatorManifest, SourceManifest, TypeDesc } from "../runtime/api.js";
import { decodeCanonical, encodeCanonical, evolution, migrate, showType } from "../runtime/savepoint/canonical.js";
import { planRestore, refusal } from "../runtime/savepoint/compat.js";
import type { SavepointMetadata } from "../runtime/savepoint/format.js";

const int: TypeDesc = { t: "int" };
const str: TypeDesc = { t: "string" };
const opt = (of: TypeDesc): TypeDesc => ({ t: "optional", of });
const rec = (...fields: [string, TypeDesc][]): TypeDesc => ({ t: "record", fields: fields.map(([name, type]) => ({ name, type })) });

describe("canonical encoding", () => {
  it("round-trips maps, sets, non-finite floats, records and lists", () => {
    const v = { a: new Map<unknown, unknown>([["x", [1, 2]], ["y", new Set(["p", "q"])]]), b: [NaN, Infinity, -Infinity, -0.5], c: null, d: { e: "t\n\"" } };
    const text = encodeCanonical(v);
    expect(text).toBe('{"a":{"$map":[["x",[1,2]],["y",{"$set":["p","q"]}]]},"b":[{"$float":"NaN"},{"$float":"Infinity"},{"$float":"-Infinity"},-0.5],"c":null,"d":{"e":"t\\n\\""}}');
    expect(decodeCanonical(text)).toEqual(v);
  });

  it("round-trips any JSON-like value (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(decodeCanonical(encodeCanonical(v))).toEqual(JSON.parse(JSON.stringify(v)));
      }),
    );
  });
});

describe("schema evolution", () => {
  it("allows new optional fields, dropped fields, reordered fields and values becoming optional", () => {
    expect(evolution(rec(["a", int]), rec(["a", int], ["b", opt(str)]))).toEqual({ ok: true, changes: ["new field `b` is null"] });
    expect(evolution(rec(["a", int], ["b", str]), rec(["a", int]))).toEqual({ ok: true, changes: ["field `b` is dropped"] });
    expect(evolution(int, opt(int))).toEqual({ ok: true, changes: ["becomes optional"] });
    expect(evolution({ t: "list", of: rec(["a", int]) }, { t: "list", of: rec(["a", int], ["n", opt(int)]) }).ok).toBe(true);
    expect(migrate([{ a: 1 }], { t: "list", of: rec(["a", int]) }, { t: "list", of: rec(["n", opt(int)], ["a", int]) })).toEqual([{ n: null, a: 1 }]);
    expect(Object.keys(migrate({ b: 2, a: 1 }, rec(["b", int], ["a", int]), rec(["a", int], ["b", int])) as object)).toEqual(["a", "b"]);
  });

  it("refuses other changes: a new required field, another type, another map key", () => {
    expect(evolution(rec(["a", int]), rec(["a", int], ["b", str])).ok).toBe(false);
    expect(evolution(int, str).ok).toBe(false);
    expect(evolution(opt(int), int).ok).toBe(false);
    expect(evolution({ t: "map", key: str, value: int }, { t: "map", key: int, value: int }).ok).toBe(false);
    expect(showType({ t: "map", key: str, value: { t: "list", of: opt(rec(["a", int])) } })).toBe("map<string, list<{ a: int }?>>");
  });
});

const op = (uid: string, states: [string, TypeDesc][], extra: Partial<OperatorManifest> = {}): OperatorManifest => ({ uid, kind: "aggregate", key: str, states: states.map(([name, type]) => ({ name, type })), spec: null, timers: false, ttl: [], ...extra });
const src = (name: string, path: string): SourceManifest => ({ name, connector: "file", type: str, path, format: "text", onError: { policy: "fail", deadLetter: null }, follow: false, eventTime: null });

function savepoint(ops: OperatorManifest[], sources: SourceManifest[]): SavepointMetadata {
  return {
    format: "flowc-savepoint",
    version: 1,
    job: "j",
    createdAt: "2026-01-01T00:00:00.000Z",
    compiler: "flowc test",
    flowFile: "j.flow",
    sources: sources.map((s) => ({ name: s.name, connector: s.connector, path: s.connector === "file" ? s.path : null, position: { records: 5, offset: 50, line: 5 } })),
    operators: ops.map((o) => ({ ...o, meta: {}, parts: o.states.map((s) => ({ name: s.name, internal: false, file: `${o.uid}/${s.name}.jsonl`, keys: 3, bytes: 10, sha256: "" })) })),
    sinks: [],
    checksum: "",
  };
}

describe("restore plan", () => {
  const saved = savepoint([op("counts", [["n", int], ["last", opt(rec(["a", int]))]])], [src("lines", "in.txt")]);

  it("restores by uid and state name; new state and operators start empty", () => {
    const plan = planRestore(saved, { operators: [op("counts", [["n", int], ["last", opt(rec(["a", int], ["b", opt(str)]))], ["extra", int]]), op("other", [["m", int]])], sources: [src("lines", "in.txt")] });
    expect(plan.lines.map((l) => `${l.verdict} ${l.what}`)).toEqual(["restore counts.n", "restore counts.last", "new counts.extra", "new other", "restore source lines"]);
    expect(plan.lines[1]!.detail).toContain("new field `b` is null");
    expect(refusal(plan, false)).toBeNull();
  });

  it("refuses unmapped state unless allowed, and changed types always", () => {
    const renamed = planRestore(saved, { operators: [op("per_user", [["n", int]])], sources: [src("lines", "other.txt")] });
    expect(renamed.dropped.map((l) => l.what)).toEqual(["counts.n", "counts.last", "source lines"]);
    expect(refusal(renamed, false)?.code).toBe("FLOW5007");
    expect(refusal(renamed, true)).toBeNull();
    const retyped = planRestore(saved, { operators: [op("counts", [["n", str], ["last", opt(rec(["a", int]))]])], sources: [] });
    expect(retyped.incompatible.map((l) => `${l.what}: ${l.detail}`)).toEqual(["counts.n: the savepoint keeps int, this job keeps string"]);
    expect(refusal(retyped, true)?.code).toBe("FLOW5008");
    const rekeyed = planRestore(saved, { operators: [op("counts", [["n", int]], { key: int })], sources: [] });
    expect(rekeyed.incompatible[0]!.detail).toBe("`counts` is keyed by string in the savepoint and by int in this job");
    const window = savepoint([op("w", [["n", int]], { kind: "window", spec: "tumbling(10s)" })], []);
    const resized = planRestore(window, { operators: [op("w", [["n", int]], { kind: "window", spec: "tumbling(20s)" })], sources: [] });
    expect(resized.incompatible[0]!.detail).toMatch(/over tumbling\(10s\) in the savepoint and .* over tumbling\(20s\) in this job/);
  });
});
