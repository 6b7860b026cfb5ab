// The body of a generated module's build(): state stores and operators, sink writers, one
// function per graph node for elements (`<node>$in(x, key, time)`) and, when the job has
// event time, one for watermarks (`<node>$wm(w[, input])`), and the source bindings.
//
// Elements and watermarks move synchronously, depth first: a node handles an element and
// calls the nodes it feeds; a watermark reaching a window or timer operator first fires
// what it reached (its results flow downstream first), then moves on.

import type { ts as TS } from "ts-morph";
import type * as A from "../ast.js";
import type { StageInfo, StatefulStage } from "../check/index.js";
import { sinkModule, sourceModule } from "../connectors/index.js";
import { accumulatorName, type GraphNode, type JobGraph } from "../plan.js";
import { isOptional, stripOptional, type Type } from "../types.js";
import { CodeGen, isIntLike, Names, type Env } from "./code.js";
import { fieldName, type Nodes } from "./tsnodes.js";

type Node = GraphNode;
type Port = "main" | "late";

/** The statements of build(). */
export function buildBody(graph: JobGraph, gen: CodeGen, n: Nodes, stateClass: (uid: string) => string, fieldCounts: Map<string, number>): TS.Statement[] {
  return new GraphCode(graph, gen, n, stateClass, fieldCounts).body();
}

class GraphCode {
  private readonly ts: typeof TS;
  private readonly K: typeof TS.SyntaxKind;
  private readonly out: TS.Statement[] = [];
  private readonly names = new Names(["$ctx", "$lib", "$rt", "manifest", "build", "$counts"]);
  private readonly entry = new Map<number, string>();
  private readonly wmFn = new Map<number, string>();
  /** `<node>$status(idle[, input])`, when a source declares `idle`. */
  private readonly statusFn = new Map<number, string>();
  private readonly byId: Map<number, Node>;
  private readonly time: boolean;

  constructor(
    private readonly graph: JobGraph,
    private readonly gen: CodeGen,
    private readonly n: Nodes,
    private readonly stateClass: (uid: string) => string,
    private readonly fieldCounts: Map<string, number>,
  ) {
    this.ts = n.ts;
    this.K = n.ts.SyntaxKind;
    this.byId = new Map(graph.nodes.map((x) => [x.id, x]));
    this.time = graph.eventTime;
    this.idle = graph.sources.some((s) => s.source.eventTime?.idle !== null && s.source.eventTime?.idle !== undefined);
  }

  private readonly idle: boolean;

  private uidOf(node: Node): string {
    return node.kind === "operator" || node.kind === "join" ? node.uid : node.label;
  }

  body(): TS.Statement[] {
    const { n } = this;
    for (const node of this.graph.nodes) {
      const base = node.kind === "source" ? `${node.label}$source` : node.kind === "chain" ? `${node.label}$chain` : node.kind === "operator" || node.kind === "join" ? `${this.uidOf(node)}$op` : `${node.label}$write`;
      const name = this.names.fresh(base);
      this.entry.set(node.id, name);
      if (this.time && node.kind !== "sink") this.wmFn.set(node.id, this.names.fresh(`${name}$wm`));
      if (this.idle && node.kind !== "sink") this.statusFn.set(node.id, this.names.fresh(`${name}$status`));
    }
    // Records in and out per stateful operator, for the admin endpoint: [in, out] by manifest order.
    if (this.graph.operators.length) this.out.push(n.constDecl("$counts", n.prop(n.id("$ctx"), "counts")));
    this.declareOperators();
    for (const s of this.graph.sinks) {
      const conn = s.sink.connector!;
      const routed = sinkModule(conn).generated(conn).route ? "routedSink" : "sink";
      this.out.push(n.constDecl(this.writer(s.index), n.call(n.prop(n.id("$ctx"), routed), [n.num(s.index)])));
    }
    this.declareExchanges();
    for (const node of this.graph.nodes) {
      if (node.kind === "source") continue;
      this.out.push(...this.nodeFunctions(node));
    }
    this.out.push(n.ret(n.f.createObjectLiteralExpression([n.f.createPropertyAssignment("sources", n.array(this.graph.sources.map((s) => this.sourceBinding(s)), true))], true)));
    return this.out;
  }

  // ---- names -----------------------------------------------------------------------------

  private readonly objectNames = new Map<string, string>();

  /** The name of a per-operator object (store, window, timers, join, dedup, writer). */
  private obj(key: string, base: string): string {
    let name = this.objectNames.get(key);
    if (!name) {
      name = this.names.fresh(base);
      this.objectNames.set(key, name);
    }
    return name;
  }

  private store(uid: string): string {
    return this.obj(`store:${uid}`, `${uid}$state`);
  }

  private writer(index: number): string {
    return this.obj(`sink:${index}`, `$sink${index}`);
  }

  private keyTypeNode(t: Type | null): TS.TypeNode {
    return t ? this.gen.tsType(t) : this.n.f.createKeywordTypeNode(this.K.UndefinedKeyword);
  }

  /** The map key of a typed key: itself, or its encoding for a record key. */
  private mapKey(keyType: Type | null, key: TS.Expression): TS.Expression {
    return keyType?.kind === "record" ? this.n.call(this.n.prop(this.n.id("$lib"), "keyOf"), [key]) : key;
  }

  // ---- wiring ----------------------------------------------------------------------------

  /** The inputs of `target` that `from` feeds, in order (a node can feed one twice: a self-join). */
  private inputIndexes(from: number, target: Node): number[] {
    return target.inputIds.flatMap((id, i) => (id === from ? [i] : []));
  }

  /** The entry function of `target` for its input `i` (joins have one per side). */
  private entryFor(target: Node, i: number): string {
    if (target.kind === "join") return `${this.entry.get(target.id)!}$${i === 0 ? "left" : "right"}`;
    return this.entry.get(target.id)!;
  }

  /** Each (target, input index) that `node` feeds through a port. */
  private edges(node: Node, port: Port): { target: Node; input: number }[] {
    const ids = port === "main" ? node.outputs : node.lateOutputs;
    const seen = new Map<number, number>();
    return ids.map((id) => {
      const target = this.byId.get(id)!;
      const k = seen.get(id) ?? 0;
      seen.set(id, k + 1);
      return { target, input: this.inputIndexes(node.id, target)[k] ?? 0 };
    });
  }

  // ---- exchanges (several instances: LANGUAGE.md 10.1) ------------------------------------

  /** The exchange on the edge from `from` into input `input` of `target`, if there is one. */
  private exchangeOn(from: Node, target: Node, input: number): string | null {
    const x = this.graph.exchanges.find((e) => e.from === from.id && e.to === target.id && e.input === input);
    return x ? this.obj(`exchange:${x.index}`, `$x${x.index}`) : null;
  }

  /**
   * `const $xN = $ctx.exchange(N, entry, wm, status)`: null when the job runs as one
   * instance; else records, watermarks and idle statuses on that edge go to it, and its
   * reader calls the target's functions on the instance that owns the key group.
   */
  private declareExchanges(): void {
    const { n } = this;
    for (const x of this.graph.exchanges) {
      const target = this.byId.get(x.to)!;
      if (target.kind !== "operator" && target.kind !== "join") continue;
      const name = this.obj(`exchange:${x.index}`, `$x${x.index}`);
      // Into a join: the side's element with its join key (computed by the writer), into the side's `$at`.
      const entry =
        target.kind === "join"
          ? n.arrow(["$v", "$k", "$t"], n.call(`${this.entryFor(target, x.input)}$at`, [n.f.createAsExpression(n.id("$v"), this.gen.tsType(x.input === 0 ? target.left.elem : target.right.elem)), n.f.createAsExpression(n.id("$k"), this.keyTypeNode(target.join.keyType)), n.id("$t")]))
          : n.arrow(["$v", "$k", "$t"], n.call(this.entryFor(target, x.input), [n.f.createAsExpression(n.id("$v"), this.gen.tsType(target.input.elem)), n.f.createAsExpression(n.id("$k"), this.keyTypeNode(target.input.key)), n.id("$t")]));
      const multi = target.inputIds.length > 1;
      const wmName = this.wmFn.get(target.id);
      const wm = wmName ? n.arrow(["$w"], n.call(wmName, multi ? [n.id("$w"), n.num(x.input)] : [n.id("$w")])) : n.null();
      const stName = this.statusFn.get(target.id);
      const status = stName ? n.arrow(["$on"], n.call(stName, multi ? [n.id("$on"), n.num(x.input)] : [n.id("$on")])) : n.null();
      this.out.push(n.constDecl(name, n.call(n.prop(n.id("$ctx"), "exchange"), [n.num(x.index), entry, wm, status])));
    }
  }

  /** `if ($x !== null) $x.<method>(args); else direct`: an edge that may go through an exchange. */
  private viaExchange(x: string | null, method: string, args: TS.Expression[], direct: TS.Statement): TS.Statement {
    if (x === null) return direct;
    const { n } = this;
    return n.if(n.bin(n.id(x), this.K.ExclamationEqualsEqualsToken, n.null()), [n.expr(n.method(n.id(x), method, args))], [direct]);
  }

  /** `$counts[i]++`: a record into (`in`) or out of a stateful operator. */
  count(node: Node, which: "in" | "out"): TS.Statement[] {
    if (node.kind !== "operator" && node.kind !== "join") return [];
    const i = this.graph.operators.findIndex((o) => o.uid === this.uidOf(node));
    if (i < 0) return [];
    const { n } = this;
    return [n.expr(n.f.createPostfixIncrement(n.f.createElementAccessExpression(n.id("$counts"), n.num(2 * i + (which === "out" ? 1 : 0)))))];
  }

  /** Statements that hand (value, key, time) to every node `node` feeds. */
  forward(node: Node, value: TS.Expression, key: TS.Expression, names: Names, time: TS.Expression = this.n.id("$ts"), port: Port = "main"): TS.Statement[] {
    const { n } = this;
    const edges = this.edges(node, port);
    if (edges.length === 0) return [];
    const counted = port === "main" ? this.count(node, "out") : [];
    // A keyed stream into a plain one (a union of differently keyed streams): the key ends there.
    const keyFor = (target: Node): TS.Expression => (node.output.key !== null && target.kind !== "source" && target.kind !== "join" && target.input.key === null ? n.undef() : key);
    const call = (e: { target: Node; input: number }, v: TS.Expression): TS.Statement => {
      const args = [v, keyFor(e.target), time];
      // Into a join, the side's entry computes the join key and sends it through the exchange.
      const x = port === "main" && e.target.kind !== "join" ? this.exchangeOn(node, e.target, e.input) : null;
      return this.viaExchange(x, "send", args, n.expr(n.call(this.entryFor(e.target, e.input), args)));
    };
    if (edges.length === 1) return [...counted, call(edges[0]!, value)];
    const v = names.fresh("$out");
    return [...counted, n.constDecl(v, value), ...edges.map((e) => call(e, n.id(v)))];
  }

  /** Statements that pass a watermark to every node `node` feeds. */
  forwardWm(node: Node, w: TS.Expression, port: Port = "main"): TS.Statement[] {
    const { n } = this;
    return this.edges(node, port)
      .filter((e) => e.target.kind !== "sink")
      .map((e) => this.viaExchange(port === "main" ? this.exchangeOn(node, e.target, e.input) : null, "watermark", [w], n.expr(n.call(this.wmFn.get(e.target.id)!, e.target.inputIds.length > 1 ? [w, n.num(e.input)] : [w]))));
  }

  // ---- operator objects ------------------------------------------------------------------

  private declareOperators(): void {
    const { n } = this;
    for (const node of this.graph.nodes) {
      if (node.kind === "join") {
        this.out.push(...this.declareJoin(node));
        continue;
      }
      if (node.kind !== "operator") continue;
      const st = node.stage;
      const uid = node.uid;
      if (st.kind === "dedup") {
        this.out.push(n.constDecl(this.obj(`dedup:${uid}`, `${uid}$dedup`), n.call(n.prop(n.id("$ctx"), "dedup"), [n.str(uid), n.num(st.within)])));
        continue;
      }
      const cls = this.stateClass(uid);
      if (st.kind === "aggregate") this.out.push(...this.aggregateFunctions(node, st));
      if (st.kind === "aggregate" && st.window) {
        this.out.push(this.declareWindow(node, st));
        continue;
      }
      const create = node.input.key
        ? n.call(n.prop(n.id("$ctx"), "keyedState"), [n.str(uid), n.num(this.fieldCounts.get(uid)!), n.arrow(["$key"], n.newExpr(cls, [n.f.createAsExpression(n.id("$key"), this.keyTypeNode(node.input.key))]))])
        : n.call(n.prop(n.id("$ctx"), "globalState"), [n.str(uid), n.num(this.fieldCounts.get(uid)!), n.arrow([], n.newExpr(cls, [n.undef()]))]);
      this.out.push(n.constDecl(this.store(uid), create));
      if (st.kind === "process" && (st.timers || st.ttl.size > 0)) {
        this.out.push(n.constDecl(this.obj(`timers:${uid}`, `${uid}$timers`), n.call(n.prop(n.id("$ctx"), "timers"), [n.str(uid)])));
      }
    }
  }

  /** `<uid>$add($s, x, key)` and `<uid>$result($s, key[, start, end])` of an aggregate. */
  private aggregateFunctions(node: Extract<Node, { kind: "operator" }>, st: Extract<StatefulStage, { kind: "aggregate" }>): TS.Statement[] {
    const { n, gen, K } = this;
    const uid = node.uid;
    const s = n.id("$s");
    const stateType = n.f.createTypeReferenceNode(this.stateClass(uid));
    const keyType = this.keyTypeNode(node.input.key);
    const addEnv: Env = { vars: new Map(), names: new Names(["$s", "$in", "$k"]) };
    bindKey(st, n.id("$k"), addEnv);
    const param = gen.bindLocal(st.param, addEnv);
    const add: TS.Statement[] = [n.constDecl(param, n.id("$in"))];
    st.aggs.forEach((a, i) => {
      const acc = n.prop(s, accumulatorName(i, a.fn));
      if (a.fn === "count") {
        add.push(n.assign(acc, n.num(1), "+="));
        return;
      }
      const x = addEnv.names.fresh(`$a${i}`);
      const optionalValue = isOptional(a.valueType);
      if (a.fn === "top" && !optionalValue && !(a.byType && isOptional(a.byType)) && plainValue(a.value!)) {
        // The value (a record, say) is made only for an element that enters the top n:
        // plain field reads and literals cannot fail, so not making it changes nothing else.
        const r = addEnv.names.fresh(`$r${i}`);
        add.push(n.constDecl(r, gen.expr(a.by!, addEnv)));
        add.push(
          n.if(n.call(n.prop(n.id("$lib"), "topAdmits"), [acc, n.num(a.n!), n.id(r)]), [
            n.constDecl(x, gen.expr(a.value!, addEnv)),
            n.expr(n.call(n.prop(n.id("$lib"), "topInsert"), [acc, n.num(a.n!), n.id(x), n.id(r)])),
          ]),
        );
        return;
      }
      add.push(n.constDecl(x, gen.expr(a.value!, addEnv)));
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
          // A sum of ints stays an exact int or stops the job (FLOW5013 at the `sum`).
          add.push(...guard([isIntLike(stripOptional(a.valueType)) ? n.assign(acc, gen.intChecked(n.bin(acc, K.PlusToken, xv), stripOptional(a.valueType), "`sum`", a.call.span)) : n.assign(acc, xv, "+=")]));
          break;
        case "avg":
          add.push(...guard([n.assign(n.prop(acc, "sum"), xv, "+="), n.assign(n.prop(acc, "n"), n.num(1), "+=")]));
          break;
        case "min":
        case "max":
          add.push(...guard([n.assign(acc, xv)], n.paren(n.bin(n.bin(acc, K.EqualsEqualsEqualsToken, n.null()), K.BarBarToken, n.bin(xv, a.fn === "min" ? K.LessThanToken : K.GreaterThanToken, n.nonNull(acc))))));
          break;
        case "first":
          add.push(...guard([n.assign(acc, xv)], n.bin(acc, K.EqualsEqualsEqualsToken, n.null())));
          break;
        case "last":
          add.push(...guard([n.assign(acc, xv)]));
          break;
        case "count_distinct": {
          const base = a.valueType.kind === "optional" ? a.valueType.inner : a.valueType;
          add.push(...guard([n.expr(n.method(acc, "add", [base.kind === "prim" ? xv : n.call(n.prop(n.id("$lib"), "keyOf"), [xv])]))]));
          break;
        }
        case "collect":
          add.push(...guard([n.expr(n.method(acc, "push", [xv]))]));
          break;
        case "top": {
          const r = addEnv.names.fresh(`$r${i}`);
          add.push(n.constDecl(r, gen.expr(a.by!, addEnv)));
          const conds: TS.Expression[] = [];
          if (optionalValue) conds.push(n.bin(xv, K.ExclamationEqualsEqualsToken, n.null()));
          if (a.byType && isOptional(a.byType)) conds.push(n.bin(n.id(r), K.ExclamationEqualsEqualsToken, n.null()));
          const call = n.expr(n.call(n.prop(n.id("$lib"), "topInsert"), [acc, n.num(a.n!), xv, n.id(r)]));
          add.push(conds.length ? n.if(conds.reduce((l, rr) => n.bin(l, K.AmpersandAmpersandToken, rr)), [call]) : call);
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
    const resultEnv: Env = { vars: new Map(), names: new Names(["$s", "$k", "$start", "$end", "$win"]), aggRead: read };
    bindKey(st, n.id("$k"), resultEnv);
    const result: TS.Statement[] = [];
    if (st.windowBinding) {
      resultEnv.vars.set(st.windowBinding.id, n.id("$win"));
      result.push(n.constDecl("$win", n.object([["start", n.id("$start")], ["end", n.id("$end")]])));
    }
    // The element is not visible in the result expression (checked), only aggregate reads.
    result.push(n.ret(gen.expr(st.lambda.body, resultEnv)));
    const p = (name: string, type: TS.TypeNode) => n.f.createParameterDeclaration(undefined, undefined, name, undefined, type);
    const num = n.f.createKeywordTypeNode(K.NumberKeyword);
    return [
      n.f.createFunctionDeclaration(undefined, undefined, this.obj(`add:${uid}`, `${uid}$add`), undefined, [p("$s", stateType), p("$in", gen.tsType(st.input.elem)), p("$k", keyType)], n.f.createKeywordTypeNode(K.VoidKeyword), n.f.createBlock(add, true)),
      n.f.createFunctionDeclaration(undefined, undefined, this.obj(`result:${uid}`, `${uid}$result`), undefined, [p("$s", stateType), p("$k", keyType), p("$start", num), p("$end", num)], gen.tsType(st.output.elem), n.f.createBlock(result, true)),
    ];
  }

  private aggFn(uid: string, which: "add" | "result"): string {
    return this.objectNames.get(`${which}:${uid}`)!;
  }

  private declareWindow(node: Extract<Node, { kind: "operator" }>, st: Extract<StatefulStage, { kind: "aggregate" }>): TS.Statement {
    const { n } = this;
    const w = st.window!;
    const uid = node.uid;
    if (w.kind === "count") return this.declareCountWindow(node, st);
    const keyT = this.keyTypeNode(node.input.key);
    const outT = this.gen.tsType(st.output.elem);
    const names = new Names(["$v", "$k", "$t"]);
    const emit = n.f.createArrowFunction(undefined, undefined, ["$v", "$k", "$t"].map((p) => n.f.createParameterDeclaration(undefined, undefined, p, undefined, p === "$t" ? n.f.createKeywordTypeNode(this.K.NumberKeyword) : n.f.createKeywordTypeNode(this.K.UnknownKeyword))), undefined, n.f.createToken(this.K.EqualsGreaterThanToken), n.f.createBlock(this.forward(node, n.f.createAsExpression(n.id("$v"), outT), n.f.createAsExpression(n.id("$k"), keyT), names, n.id("$t")), true));
    const late = node.lateOutputs.length
      ? n.f.createArrowFunction(undefined, undefined, ["$v", "$k", "$t"].map((p) => n.f.createParameterDeclaration(undefined, undefined, p, undefined, p === "$t" ? n.f.createKeywordTypeNode(this.K.NumberKeyword) : n.f.createKeywordTypeNode(this.K.UnknownKeyword))), undefined, n.f.createToken(this.K.EqualsGreaterThanToken), n.f.createBlock(this.forward(node, n.f.createAsExpression(n.id("$v"), this.gen.tsType(node.input.elem)), n.f.createAsExpression(n.id("$k"), keyT), new Names(["$v", "$k", "$t"]), n.id("$t"), "late"), true))
      : n.null();
    const agg = n.f.createObjectLiteralExpression([
      n.f.createPropertyAssignment("create", n.arrow(["$key"], n.newExpr(this.stateClass(uid), [n.f.createAsExpression(n.id("$key"), keyT)]))),
      n.f.createPropertyAssignment("add", n.id(this.aggFn(uid, "add"))),
      n.f.createPropertyAssignment("result", n.id(this.aggFn(uid, "result"))),
      n.f.createPropertyAssignment("fields", n.num(this.fieldCounts.get(uid)!)),
      ...(w.kind === "session" ? this.sessionMerge(st, uid) : []),
    ], true);
    const spec = n.literal({ kind: w.kind, size: w.size, every: w.every, allowedLateness: w.allowedLateness });
    return n.constDecl(this.obj(`window:${uid}`, `${uid}$window`), n.f.createCallExpression(n.prop(n.id("$ctx"), "window"), [n.f.createTypeReferenceNode(this.stateClass(uid))], [n.str(uid), spec, agg, emit, late]));
  }

  /** A count window: `$ctx.countWindow(uid, { size, every }, agg, emit)` (no late stream, no watermark of its own). */
  private declareCountWindow(node: Extract<Node, { kind: "operator" }>, st: Extract<StatefulStage, { kind: "aggregate" }>): TS.Statement {
    const { n, K } = this;
    const w = st.window!;
    const uid = node.uid;
    const keyT = this.keyTypeNode(node.input.key);
    const names = new Names(["$v", "$k", "$t"]);
    const params = ["$v", "$k", "$t"].map((p) => n.f.createParameterDeclaration(undefined, undefined, p, undefined, p === "$t" ? n.f.createKeywordTypeNode(K.NumberKeyword) : n.f.createKeywordTypeNode(K.UnknownKeyword)));
    const emit = n.f.createArrowFunction(undefined, undefined, params, undefined, n.f.createToken(K.EqualsGreaterThanToken), n.f.createBlock(this.forward(node, n.f.createAsExpression(n.id("$v"), this.gen.tsType(st.output.elem)), n.f.createAsExpression(n.id("$k"), keyT), names, n.id("$t")), true));
    const agg = n.f.createObjectLiteralExpression([
      n.f.createPropertyAssignment("create", n.arrow(["$key"], n.newExpr(this.stateClass(uid), [n.f.createAsExpression(n.id("$key"), keyT)]))),
      n.f.createPropertyAssignment("add", n.id(this.aggFn(uid, "add"))),
      n.f.createPropertyAssignment("result", n.id(this.aggFn(uid, "result"))),
      n.f.createPropertyAssignment("fields", n.num(this.fieldCounts.get(uid)!)),
    ], true);
    const spec = n.literal({ size: w.size, every: w.every });
    return n.constDecl(this.obj(`count:${uid}`, `${uid}$window`), n.f.createCallExpression(n.prop(n.id("$ctx"), "countWindow"), [n.f.createTypeReferenceNode(this.stateClass(uid))], [n.str(uid), spec, agg, emit]));
  }

  /**
   * `merge(into, from)` for a session window whose aggregate functions do not depend on the
   * order of elements (so merged sessions need not keep them): count, min, max,
   * count_distinct, and sum and avg of ints (float sums depend on the order of addition).
   * None for other aggregates.
   */
  private sessionMerge(st: Extract<StatefulStage, { kind: "aggregate" }>, uid: string): TS.ObjectLiteralElementLike[] {
    const { n, K, gen } = this;
    const ofInts = (t: Type): boolean => {
      const b = t.kind === "optional" ? t.inner : t;
      return b.kind === "prim" && b.name === "int";
    };
    const mergeable = st.aggs.every((a) => a.fn === "count" || a.fn === "min" || a.fn === "max" || a.fn === "count_distinct" || ((a.fn === "sum" || a.fn === "avg") && ofInts(a.valueType)));
    if (!mergeable) return [];
    const into = n.id("$a");
    const from = n.id("$b");
    const body: TS.Statement[] = st.aggs.map((a, i) => {
      const name = accumulatorName(i, a.fn);
      const to = n.prop(into, name);
      const fr = n.prop(from, name);
      switch (a.fn) {
        case "avg":
          return n.block([n.assign(n.prop(to, "sum"), n.prop(fr, "sum"), "+="), n.assign(n.prop(to, "n"), n.prop(fr, "n"), "+=")]);
        case "min":
        case "max":
          return n.if(n.bin(n.bin(fr, K.ExclamationEqualsEqualsToken, n.null()), K.AmpersandAmpersandToken, n.paren(n.bin(n.bin(to, K.EqualsEqualsEqualsToken, n.null()), K.BarBarToken, n.bin(n.nonNull(fr), a.fn === "min" ? K.LessThanToken : K.GreaterThanToken, n.nonNull(to))))), [n.assign(to, fr)]);
        case "count_distinct":
          return n.forOf("$v", fr, [n.expr(n.method(to, "add", [n.id("$v")]))]);
        case "sum": // of ints (mergeable)
          return n.assign(to, gen.intChecked(n.bin(to, K.PlusToken, fr), stripOptional(a.valueType), "`sum`", a.call.span));
        default: // count
          return n.assign(to, fr, "+=");
      }
    });
    const state = n.f.createTypeReferenceNode(this.stateClass(uid));
    const params = ["$a", "$b"].map((p) => n.f.createParameterDeclaration(undefined, undefined, p, undefined, state));
    return [n.f.createPropertyAssignment("merge", n.f.createArrowFunction(undefined, undefined, params, n.f.createKeywordTypeNode(K.VoidKeyword), n.f.createToken(K.EqualsGreaterThanToken), n.f.createBlock(body, true)))];
  }

  private declareJoin(node: Extract<Node, { kind: "join" }>): TS.Statement[] {
    const { n, gen } = this;
    const j = node.join;
    const env: Env = { vars: new Map(), names: new Names(["$a", "$b"]) };
    env.vars.set(j.leftAlias.id, n.id("$a"));
    env.vars.set(j.rightAlias.id, n.id("$b"));
    const select = n.f.createArrowFunction(undefined, undefined, [
      n.f.createParameterDeclaration(undefined, undefined, "$a", undefined, n.f.createKeywordTypeNode(this.K.UnknownKeyword)),
      n.f.createParameterDeclaration(undefined, undefined, "$b", undefined, n.f.createKeywordTypeNode(this.K.UnknownKeyword)),
    ], undefined, n.f.createToken(this.K.EqualsGreaterThanToken), n.f.createBlock([
      n.constDecl(this.jAlias(env, j.leftAlias.id, "$l"), n.f.createAsExpression(n.id("$a"), gen.tsType(j.leftAlias.type))),
      n.constDecl(this.jAlias(env, j.rightAlias.id, "$r"), n.f.createAsExpression(n.id("$b"), gen.tsType(j.rightAlias.type))),
      n.ret(gen.expr(j.join.select, env)),
    ], true));
    const emitNames = new Names(["$v", "$k", "$t"]);
    const emit = n.f.createArrowFunction(undefined, undefined, ["$v", "$k", "$t"].map((p) => n.f.createParameterDeclaration(undefined, undefined, p, undefined, p === "$t" ? n.f.createKeywordTypeNode(this.K.NumberKeyword) : n.f.createKeywordTypeNode(this.K.UnknownKeyword))), undefined, n.f.createToken(this.K.EqualsGreaterThanToken), n.f.createBlock(this.forward(node, n.f.createAsExpression(n.id("$v"), gen.tsType(j.output.elem)), n.undef(), emitNames, n.id("$t")), true));
    if (j.temporal) {
      // The versioned side is optional: probes without a version come out with null.
      const unmatched = (j.temporal.probe === 0 ? j.rightAlias : j.leftAlias).type.kind === "optional";
      const spec = n.literal({ probe: j.temporal.probe, eventTime: j.temporal.eventTime, unmatched });
      return [n.constDecl(this.obj(`join:${node.uid}`, `${node.uid}$join`), n.call(n.prop(n.id("$ctx"), "temporalJoin"), [n.str(node.uid), spec, select, emit]))];
    }
    return [n.constDecl(this.obj(`join:${node.uid}`, `${node.uid}$join`), n.call(n.prop(n.id("$ctx"), "join"), [n.str(node.uid), n.literal(j.spec), select, emit]))];
  }

  private jAlias(env: Env, id: number, name: string): string {
    env.vars.set(id, this.n.id(name));
    return name;
  }

  // ---- node functions --------------------------------------------------------------------

  private fn(name: string, params: [string, TS.TypeNode][], body: TS.Statement[], comment?: string): TS.Statement {
    const { n } = this;
    const f = n.f.createFunctionDeclaration(undefined, undefined, name, undefined, params.map(([p, t]) => n.f.createParameterDeclaration(undefined, undefined, p, undefined, t)), n.f.createKeywordTypeNode(this.K.VoidKeyword), n.f.createBlock(body, true));
    return comment ? this.ts.addSyntheticLeadingComment(f, this.K.SingleLineCommentTrivia, ` ${comment}`, true) : f;
  }

  private elementParams(elem: Type, key: Type | null): [string, TS.TypeNode][] {
    return [["$in", this.gen.tsType(elem)], ["$k", this.keyTypeNode(key)], ["$ts", this.n.f.createKeywordTypeNode(this.K.NumberKeyword)]];
  }

  private nodeFunctions(node: Node): TS.Statement[] {
    const { n } = this;
    const out: TS.Statement[] = [];
    const env: Env = { vars: new Map(), names: new Names(["$in", "$k", "$ts", "$s", "$w", "$i"]) };
    const name = this.entry.get(node.id)!;
    const num = n.f.createKeywordTypeNode(this.K.NumberKeyword);
    switch (node.kind) {
      case "chain":
        out.push(this.fn(name, this.elementParams(node.input.elem, node.input.key), chainBody(node, n.id("$in"), n.id("$k"), env, this.gen, this, false), describeNode(node)));
        break;
      case "sink": {
        const conn = node.sink.connector!;
        const { format, barePrimitives, route } = sinkModule(conn).generated(conn);
        const line = this.gen.serialize(n.id("$in"), node.input.elem, format, barePrimitives);
        if (route) {
          // A place per element (a NATS subject): the lambda's parameter is the element.
          const renv: Env = { vars: new Map(), names: new Names(["$in", "$k", "$ts"]) };
          const p = this.gen.bindLocal(route.param, renv);
          out.push(this.fn(name, this.elementParams(node.input.elem, node.input.key), [n.constDecl(p, n.id("$in")), n.expr(n.method(n.id(this.writer(node.index)), "writeTo", [this.gen.expr(route.body, renv), line]))], describeNode(node)));
        } else out.push(this.fn(name, this.elementParams(node.input.elem, node.input.key), [n.expr(n.method(n.id(this.writer(node.index)), "write", [line]))], describeNode(node)));
        break;
      }
      case "operator":
        out.push(...this.operatorFunctions(node, env, name));
        break;
      case "join": {
        const j = node.join;
        const joinObj = this.objectNames.get(`join:${node.uid}`)!;
        for (const side of [0, 1] as const) {
          const senv: Env = { vars: new Map(), names: new Names(["$in", "$k", "$ts", "$key"]) };
          const alias = side === 0 ? j.leftElem : j.rightElem;
          const p = this.gen.bindLocal(alias, senv);
          const keyExprs = j.keys.map((k) => this.gen.expr(side === 0 ? k.left : k.right, senv));
          const key = keyExprs.length === 1 ? keyExprs[0]! : n.object(keyExprs.map((e, i) => [`k${i}`, e]));
          const params = this.elementParams(side === 0 ? node.left.elem : node.right.elem, null).map(([a, t], i): [string, TS.TypeNode] => (i === 1 ? [a, n.f.createKeywordTypeNode(this.K.UnknownKeyword)] : [a, t]));
          const what = side === 0 ? `join \`${node.uid}\`: the left side (${j.left} as ${j.leftAlias.name})` : `join \`${node.uid}\`: the right side (${j.right} as ${j.rightAlias.name})`;
          const element = (k: string): TS.Statement => n.expr(n.method(n.id(joinObj), "element", [n.num(side), n.id("$in"), this.mapKey(j.keyType, n.id(k)), n.id(k), n.id("$ts")]));
          const fn = `${name}$${side === 0 ? "left" : "right"}`;
          const x = this.graph.exchanges.find((e) => e.to === node.id && e.input === side);
          if (!x) {
            out.push(this.fn(fn, params, [...this.count(node, "in"), n.constDecl(p, n.id("$in")), n.constDecl("$key", key), element("$key")], what));
            continue;
          }
          // Several instances: the side's element goes with its join key to the instance that
          // owns the key's group (LANGUAGE.md 10.1), whose exchange reader calls `$at`.
          const xName = this.obj(`exchange:${x.index}`, `$x${x.index}`);
          out.push(this.fn(fn, params, [
            n.constDecl(p, n.id("$in")),
            n.constDecl("$key", key),
            this.viaExchange(xName, "send", [n.id("$in"), n.id("$key"), n.id("$ts")], n.expr(n.call(`${fn}$at`, [n.id("$in"), n.id("$key"), n.id("$ts")]))),
          ], what));
          out.push(this.fn(`${fn}$at`, params.map(([a, t], i): [string, TS.TypeNode] => (i === 1 ? [a, this.keyTypeNode(j.keyType)] : [a, t])), [...this.count(node, "in"), element("$k")], `${what}, with its key`));
        }
        break;
      }
    }
    // Watermarks.
    const wm = this.wmFn.get(node.id);
    if (wm) {
      const bool = n.f.createKeywordTypeNode(this.K.BooleanKeyword);
      const status = this.statusFn.get(node.id);
      if (node.inputIds.length > 1 && node.kind !== "join") {
        // Several inputs: the watermark is the smallest of theirs (idle inputs left out).
        const merge = this.names.fresh(`${name}$merge`);
        out.push(n.constDecl(merge, n.f.createNewExpression(n.prop(n.id("$lib"), "WatermarkMerge"), undefined, [n.num(node.inputIds.length)])));
        out.push(this.fn(wm, [["$w", num], ["$i", num]], [
          n.constDecl("$m", n.method(n.id(merge), "update", [n.id("$i"), n.id("$w")])),
          n.if(n.bin(n.id("$m"), this.K.ExclamationEqualsEqualsToken, n.null()), this.wmBody(node, n.id("$m"))),
        ]));
        if (status) {
          out.push(this.fn(status, [["$on", bool], ["$i", num]], [
            n.constDecl("$r", n.method(n.id(merge), "setIdle", [n.id("$i"), n.id("$on")])),
            n.if(n.bin(n.prop(n.id("$r"), "advanced"), this.K.ExclamationEqualsEqualsToken, n.null()), this.wmBody(node, n.nonNull(n.prop(n.id("$r"), "advanced")))),
            ...this.forwardStatus(node, n.prop(n.id("$r"), "allIdle")),
          ]));
        }
      } else if (node.kind === "join") {
        const joinObj = this.objectNames.get(`join:${node.uid}`)!;
        out.push(this.fn(wm, [["$w", num], ["$i", num]], [n.if(n.method(n.id(joinObj), "watermark", [n.id("$w"), n.id("$i")]), this.forwardWm(node, n.prop(n.id(joinObj), "watermarkValue")))]));
        if (status) {
          out.push(this.fn(status, [["$on", bool], ["$i", num]], [
            n.if(n.method(n.id(joinObj), "setIdle", [n.id("$i"), n.id("$on")]), this.forwardWm(node, n.prop(n.id(joinObj), "watermarkValue"))),
            ...this.forwardStatus(node, n.method(n.id(joinObj), "allIdle", [])),
          ]));
        }
      } else {
        out.push(this.fn(wm, [["$w", num]], this.wmBody(node, n.id("$w"))));
        if (status) out.push(this.fn(status, [["$on", bool]], this.forwardStatus(node, n.id("$on"))));
      }
    }
    return out;
  }

  /** Statements that pass an idle status (`idle d`) to every node `node` feeds. */
  forwardStatus(node: Node, on: TS.Expression): TS.Statement[] {
    const { n } = this;
    const main = this.edges(node, "main").length;
    return [...this.edges(node, "main"), ...this.edges(node, "late")]
      .map((e, i) => ({ ...e, x: i < main ? this.exchangeOn(node, e.target, e.input) : null }))
      .filter((e) => e.target.kind !== "sink")
      .map((e) => this.viaExchange(e.x, "idle", [on], n.expr(n.call(this.statusFn.get(e.target.id)!, e.target.inputIds.length > 1 ? [on, n.num(e.input)] : [on]))));
  }

  /** What a node does when its watermark advances to `w`, then passing it on. */
  private wmBody(node: Node, w: TS.Expression): TS.Statement[] {
    const { n } = this;
    const out: TS.Statement[] = [];
    if (node.kind === "operator") {
      const uid = node.uid;
      const o = this.objectNames;
      const call = (key: string): void => {
        const name = o.get(key);
        if (name) out.push(n.expr(n.method(n.id(name), "watermark", [w])));
      };
      call(`window:${uid}`);
      call(`timers:${uid}`);
      call(`dedup:${uid}`);
      out.push(...this.forwardWm(node, w, "late"));
    }
    out.push(...this.forwardWm(node, w));
    return out;
  }

  private operatorFunctions(node: Extract<Node, { kind: "operator" }>, env: Env, name: string): TS.Statement[] {
    const { n, gen } = this;
    const st = node.stage;
    const uid = node.uid;
    const describe = describeNode(node);
    const params = this.elementParams(node.input.elem, node.input.key);
    const mk = this.mapKey(node.input.key, n.id("$k"));
    bindKey(st, n.id("$k"), env);
    if (st.kind === "aggregate" && st.window) {
      const win = this.objectNames.get(st.window.kind === "count" ? `count:${uid}` : `window:${uid}`)!;
      return [this.fn(name, params, [...this.count(node, "in"), n.expr(n.method(n.id(win), "element", [n.id("$in"), node.input.key ? mk : n.str(""), n.id("$k"), n.id("$ts")]))], describe)];
    }
    if (st.kind === "dedup") {
      const p = gen.bindLocal(st.param, env);
      const id = gen.expr(st.lambda.body, env);
      const idType = this.graph.checked.exprTypes.get(st.lambda.body)!;
      return [this.fn(name, params, [
        ...this.count(node, "in"),
        n.constDecl(p, n.id("$in")),
        n.constDecl("$id", id),
        n.if(n.method(n.id(this.objectNames.get(`dedup:${uid}`)!), "keep", [this.mapKey(idType, n.id("$id")), n.id("$id"), n.id("$ts")]), this.forward(node, n.id("$in"), n.id("$k"), env.names)),
      ], describe)];
    }
    const store = this.store(uid);
    const lookup = node.input.key ? n.method(n.id(store), "get", [mk, n.id("$k")]) : n.id(store);
    const body: TS.Statement[] = [...this.count(node, "in"), n.constDecl("$s", lookup)];
    const s = n.id("$s");
    switch (st.kind) {
      case "aggregate":
        body.push(n.expr(n.call(this.aggFn(uid, "add"), [s, n.id("$in"), n.id("$k")])));
        body.push(...this.forward(node, n.call(this.aggFn(uid, "result"), [s, n.id("$k"), n.num(0), n.num(0)]), n.id("$k"), env.names));
        return [this.fn(name, params, body, describe)];
      case "reduce": {
        const acc = gen.bindLocal(st.acc, env);
        const param = gen.bindLocal(st.param, env);
        body.push(n.constDecl(param, n.id("$in")));
        const r = env.names.fresh("$r");
        body.push(n.letDecl(r, n.id(param), gen.tsType(st.input.elem)));
        body.push(n.if(n.prop(s, "has"), [n.constDecl(acc, n.f.createAsExpression(n.prop(s, "acc"), gen.tsType(st.input.elem))), n.assign(n.id(r), gen.expr(st.lambda.body, env))]));
        body.push(n.assign(n.prop(s, "acc"), n.id(r)), n.assign(n.prop(s, "has"), n.bool(true)));
        body.push(...this.forward(node, n.id(r), n.id("$k"), env.names));
        return [this.fn(name, params, body, describe)];
      }
      case "process":
        return this.processFunctions(node, st, env, name, params, body, mk, describe);
    }
  }

  private processFunctions(
    node: Extract<Node, { kind: "operator" }>,
    st: Extract<StatefulStage, { kind: "process" }>,
    env: Env,
    name: string,
    params: [string, TS.TypeNode][],
    body: TS.Statement[],
    mk: TS.Expression,
    describe: string,
  ): TS.Statement[] {
    const { n, gen, K } = this;
    const s = n.id("$s");
    const uid = node.uid;
    const timers = this.objectNames.get(`timers:${uid}`);
    for (const state of st.states) env.vars.set(state.id, n.prop(s, fieldName(state.name)));
    const stateById = new Map(st.states.map((b) => [b.id, b]));
    // ttl: a write records its time and sets an expiry check that long after it.
    const afterWrite = (id: number): TS.Statement[] => {
      const b = stateById.get(id);
      const ttl = b ? st.ttl.get(b.name) : undefined;
      if (!b || ttl === undefined || !timers) return [];
      return [
        n.assign(n.prop(s, `$w_${fieldName(b.name)}`), n.id("$ts")),
        n.expr(n.method(n.id(timers), "set", [n.num(1), mk, n.id("$k"), n.bin(n.id("$ts"), K.PlusToken, n.num(ttl))])),
      ];
    };
    const timer = (at: TS.Expression): TS.Statement[] => [n.expr(n.method(n.id(timers!), "set", [n.num(0), mk, n.id("$k"), at]))];
    // ttl: state last written at least that long before the event-time clock reads as its
    // initial value: the clock is the watermark for an element, the timer's time in `on
    // timer`. The expiry timers (set at each write) reset and free it when the watermark
    // reaches last write + ttl; this check covers a write whose expiry time the watermark had
    // already reached, and timers due at the same time.
    const expireStale = (clock: TS.Expression): TS.Statement[] =>
      st.states
        .filter((b) => st.ttl.has(b.name))
        .map((b) => {
          const w = n.prop(s, `$w_${fieldName(b.name)}`);
          return n.if(n.bin(n.bin(w, K.PlusToken, n.num(st.ttl.get(b.name)!)), K.LessThanEqualsToken, clock), [
            n.assign(n.prop(s, fieldName(b.name)), gen.expr(b.decl.init, { vars: new Map(), names: new Names() })),
            n.assign(w, n.f.createPrefixUnaryExpression(K.MinusToken, n.id("Infinity"))),
          ]);
        });
    if (timers) body.push(...expireStale(n.prop(n.id(timers), "watermarkValue")));
    const param = gen.bindLocal(st.param, env);
    body.push(n.constDecl(param, n.id("$in")));
    const emitEnv: Env = { ...env, state: s, emit: (value) => this.forward(node, value, n.id("$k"), env.names), afterWrite, timer };
    body.push(...gen.stmts(st.stage.body, emitEnv));
    const out = [this.fn(name, params, body, describe)];
    if (!timers) return out;

    // Timers and ttl expiry: <uid>$timer(kind, mapKey, key, time).
    const tenv: Env = { vars: new Map(env.vars), names: new Names(["$kind", "$mk", "$key", "$k", "$ts", "$s"]), state: s, afterWrite, timer };
    tenv.emit = (value) => this.forward(node, value, n.id("$k"), tenv.names);
    const keyT = this.keyTypeNode(node.input.key);
    const tbody: TS.Statement[] = [
      n.constDecl("$k", n.f.createAsExpression(n.id("$key"), keyT)),
      n.constDecl("$s", node.input.key ? n.method(n.id(this.store(uid)), "get", [n.f.createAsExpression(n.id("$mk"), n.f.createTypeReferenceNode("$rt.MapKey")), n.id("$k")]) : n.id(this.store(uid))),
    ];
    const userTimer: TS.Statement[] = [...expireStale(n.id("$ts"))];
    if (st.stage.onTimer && st.timerParam) {
      const tp = gen.bindLocal(st.timerParam, tenv);
      userTimer.push(n.constDecl(tp, n.id("$ts")), ...gen.stmts(st.stage.onTimer.body, tenv));
    }
    const expiry: TS.Statement[] = [];
    for (const b of st.states) {
      const ttl = st.ttl.get(b.name);
      if (ttl === undefined) continue;
      const w = n.prop(s, `$w_${fieldName(b.name)}`);
      expiry.push(n.if(n.bin(n.bin(w, K.PlusToken, n.num(ttl)), K.LessThanEqualsToken, n.id("$ts")), [
        n.assign(n.prop(s, fieldName(b.name)), gen.expr(b.decl.init, { vars: new Map(), names: new Names() })),
        n.assign(w, n.f.createPrefixUnaryExpression(K.MinusToken, n.id("Infinity"))),
      ]));
    }
    if (st.ttl.size > 0 && st.ttl.size === st.states.length && node.input.key) {
      // Every state has a ttl: a key whose state all expired, with no timers, is freed.
      const allExpired = st.states.map((b) => n.bin(n.prop(s, `$w_${fieldName(b.name)}`), K.EqualsEqualsEqualsToken, n.f.createPrefixUnaryExpression(K.MinusToken, n.id("Infinity")))).reduce((a, b) => n.bin(a, K.AmpersandAmpersandToken, b));
      expiry.push(n.if(n.bin(allExpired, K.AmpersandAmpersandToken, n.f.createLogicalNot(n.method(n.id(timers), "hasTimers", [n.id("$mk")]))), [n.expr(n.method(n.id(this.store(uid)), "delete", [n.id("$mk")]))]));
    }
    tbody.push(n.if(n.bin(n.id("$kind"), K.EqualsEqualsEqualsToken, n.num(0)), userTimer, expiry.length ? expiry : undefined));
    const timerFn = this.names.fresh(`${uid}$timer`);
    const num = n.f.createKeywordTypeNode(K.NumberKeyword);
    const unknown = n.f.createKeywordTypeNode(K.UnknownKeyword);
    out.push(this.fn(timerFn, [["$kind", num], ["$mk", n.f.createTypeReferenceNode("$rt.MapKey")], ["$key", unknown], ["$ts", num]], tbody, `process \`${uid}\`: timers${st.ttl.size ? " and state ttl" : ""}`));
    out.push(n.assign(n.prop(n.id(timers), "onTimer"), n.id(timerFn)));
    return out;
  }

  // ---- sources ---------------------------------------------------------------------------

  private sourceBinding(s: Extract<Node, { kind: "source" }>): TS.Expression {
    const { n, gen, K } = this;
    const ts = this.ts;
    const names = new Names(["$batch", "$i", "$ts", "$x", "$w"]);
    const elemT = gen.tsType(s.output.elem);
    const et = s.source.eventTime;
    const members: TS.ObjectLiteralElementLike[] = [];
    const num = n.f.createKeywordTypeNode(K.NumberKeyword);
    const wmVar = this.time ? this.names.fresh(`${s.label}$watermark`) : null;
    if (wmVar) this.out.push(n.letDecl(wmVar, n.f.createPrefixUnaryExpression(K.MinusToken, n.id("Infinity")), num));
    let timeFn: string | null = null;
    if (et) {
      timeFn = this.names.fresh(`${s.label}$time`);
      const tenv: Env = { vars: new Map(), names: new Names(["$in"]) };
      const p = gen.bindLocal(et.param, tenv);
      this.out.push(n.f.createFunctionDeclaration(undefined, undefined, timeFn, undefined, [n.f.createParameterDeclaration(undefined, undefined, "$in", undefined, elemT)], num, n.f.createBlock([n.constDecl(p, n.id("$in")), n.ret(gen.expr(et.lambda.body, tenv))], true)));
    }
    const elem = n.nonNull(n.f.createElementAccessExpression(n.id("$batch"), n.id("$i")));
    const loopBody: TS.Statement[] = [n.constDecl("$x", elem), n.constDecl("$ts", timeFn ? n.call(timeFn, [n.id("$x")]) : n.num(0))];
    loopBody.push(...this.forward(s, n.id("$x"), n.undef(), names));
    if (wmVar && et) {
      // Watermarks advance element by element: max(previous, ts - delay).
      loopBody.push(n.constDecl("$w", n.bin(n.id("$ts"), K.MinusToken, n.num(et.delay))));
      loopBody.push(n.if(n.bin(n.id("$w"), K.GreaterThanToken, n.id(wmVar)), [n.assign(n.id(wmVar), n.id("$w")), ...this.forwardWm(s, n.id("$w"))]));
    }
    const loop = n.f.createForStatement(
      n.f.createVariableDeclarationList([n.f.createVariableDeclaration("$i", undefined, undefined, n.num(0))], ts.NodeFlags.Let),
      n.bin(n.id("$i"), K.LessThanToken, n.prop(n.id("$batch"), "length")),
      n.f.createPostfixIncrement(n.id("$i")),
      n.f.createBlock(loopBody, true),
    );
    const method = (name: string, params: [string, TS.TypeNode][], ret: TS.TypeNode, body: TS.Statement[]): TS.MethodDeclaration =>
      n.f.createMethodDeclaration(undefined, undefined, name, undefined, undefined, params.map(([p, t]) => n.f.createParameterDeclaration(undefined, undefined, p, undefined, t)), ret, n.f.createBlock(body, true));
    const voidT = n.f.createKeywordTypeNode(K.VoidKeyword);
    members.push(method("push", [["$batch", n.f.createTypeOperatorNode(K.ReadonlyKeyword, n.f.createArrayTypeNode(wrap(n, elemT)))]], voidT, [loop]));
    if (timeFn) members.push(method("time", [["$x", elemT]], num, [n.ret(n.call(timeFn, [n.id("$x")]))]));
    if (wmVar) {
      members.push(method("watermark", [], num, [n.ret(n.id(wmVar))]));
      members.push(method("setWatermark", [["$w", num]], voidT, [n.assign(n.id(wmVar), n.id("$w")), ...this.forwardWm(s, n.id("$w"))]));
      members.push(method("end", [], voidT, [n.assign(n.id(wmVar), n.id("Infinity")), ...this.forwardWm(s, n.id("Infinity"))]));
      if (this.idle) {
        // Idle: nodes with several inputs leave this source out of their watermark until
        // it has input again.
        members.push(method("idle", [["$on", n.f.createKeywordTypeNode(K.BooleanKeyword)]], voidT, this.forwardStatus(s, n.id("$on"))));
      }
    }
    const conn = s.source.connector!;
    const generated = sourceModule(conn).generated(conn);
    if (generated.fromJson) {
      const body = gen.fromJsonBody(s.output.elem, n.id("$v"));
      if (body) members.push(method("fromJson", [["$v", n.f.createKeywordTypeNode(K.AnyKeyword)]], n.f.createUnionTypeNode([elemT, n.f.createKeywordTypeNode(K.UndefinedKeyword)]), body));
    }
    if (generated.values) {
      const items = generated.values.map((item) => gen.expr(item, { vars: new Map(), names: new Names() }));
      members.push(n.f.createPropertyAssignment("values", n.f.createAsExpression(n.array(items, true), n.f.createTypeOperatorNode(K.ReadonlyKeyword, n.f.createArrayTypeNode(wrap(n, elemT))))));
    }
    return n.f.createObjectLiteralExpression(members, true);
  }
}

export type Forwarder = Pick<GraphCode, "forward">;

function wrap(n: Nodes, t: TS.TypeNode): TS.TypeNode {
  return n.ts.isUnionTypeNode(t) ? n.f.createParenthesizedType(t) : t;
}

/** A fused chain of stateless stages: straight-line code, `return`/`continue` for filters. */
function chainBody(node: Extract<Node, { kind: "chain" }>, value: TS.Expression, key: TS.Expression, env: Env, gen: CodeGen, g: Forwarder, inLoop: boolean, from = 0): TS.Statement[] {
  const n = gen.n;
  const out: TS.Statement[] = [];
  let v = value;
  let k = key;
  for (let i = from; i < node.stages.length; i++) {
    const st = node.stages[i]!;
    bindKey(st, k, env);
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
        const body = st.lambda.body;
        // At most one element (`[x]`, `[]`, `if c then [x] else []`): it goes on directly,
        // with no list made for it.
        const one = singleItem(body);
        if (one) {
          if (one.item) {
            const rest = [n.constDecl(item, gen.expr(one.item, env)), ...chainBody(node, n.id(item), k, env, gen, g, inLoop, i + 1)];
            if (!one.cond) out.push(...rest);
            else {
              const cond = gen.expr(one.cond, env);
              out.push(n.if(one.when ? cond : n.f.createLogicalNot(n.paren(cond)), rest));
            }
          }
          return out;
        }
        const rest = chainBody(node, n.id(item), k, env, gen, g, true, i + 1);
        out.push(n.forOf(item, gen.expr(body, env), rest));
        return out;
      }
    }
  }
  out.push(...g.forward(node, v, k, env.names));
  return out;
}

/**
 * A flat_map body that makes at most one element: `[x]` or `[]`, or `if c then [x] else []`
 * either way round (the element is made when `cond` is `when`). Null for other bodies.
 */
function singleItem(body: A.Expr): { item: A.Expr | null; cond: A.Expr | null; when: boolean } | null {
  const listOfOne = (e: A.Expr): A.Expr | null | undefined => (e.kind === "List" && e.items.length <= 1 ? (e.items[0] ?? null) : undefined);
  const whole = listOfOne(body);
  if (whole !== undefined) return { item: whole, cond: null, when: true };
  if (body.kind !== "Cond") return null;
  const then = listOfOne(body.then);
  const otherwise = listOfOne(body.else);
  if (then === undefined || otherwise === undefined || (then && otherwise)) return null;
  return { item: then ?? otherwise, cond: body.cond, when: then !== null };
}

/** An expression of field reads, records, lists and literals only: it cannot fail or call out. */
function plainValue(e: A.Expr): boolean {
  switch (e.kind) {
    case "Name":
    case "Int":
    case "Float":
    case "String":
    case "Bool":
    case "Null":
    case "Duration":
      return true;
    case "Field":
      return plainValue(e.object);
    case "Record":
      return e.fields.every((f) => plainValue(f.value));
    case "List":
      return e.items.every(plainValue);
    default:
      return false;
  }
}

/** Makes `key` in a stage's expressions read the typed key the element arrived with. */
function bindKey(st: StageInfo, key: TS.Expression, env: Env): void {
  if (st.key) env.vars.set(st.key.id, key);
}

function describeNode(node: Node): string {
  switch (node.kind) {
    case "source":
      return `source ${node.label}`;
    case "chain":
      return node.stages.length ? `${node.stages.map((s) => s.kind).join(" |> ")} (fused, from \`${node.label}\`)` : `union into \`${node.label.replace(/_union$/, "")}\``;
    case "operator": {
      const st = node.stage;
      const kind = st.kind === "aggregate" && st.window ? `${st.window.kind} window aggregate` : st.kind;
      return `${kind} \`${node.uid}\`${node.input.key ? ", per key" : ", one global group"}`;
    }
    case "join":
      return `join \`${node.uid}\``;
    case "sink":
      return `sink ${node.index} (${node.sink.connector?.kind})`;
  }
}

