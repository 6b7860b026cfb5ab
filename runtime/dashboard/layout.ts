// A layered ("Sugiyama") layout of a directed graph, left to right, for the dashboard's job
// graph: ranks by longest path from the sources, long edges broken by dummy points, crossings
// reduced by barycenter sweeps, then rows placed near their neighbours. Job graphs are
// small (tens of nodes), so the simple forms of each step are enough. Plain TypeScript with
// no DOM: the dashboard's page runs it in the browser, test/dashboard.test.ts in Node.
//
// Why not dagre: with its graphlib it is 48.6 KB minified, 15.5 KB with Brotli, which would
// take the smallest bundle (running_sum.mjs) past its 150 KB bound (docs/architecture.md).

export interface LayoutInput {
  nodes: { id: string; width: number; height: number }[];
  edges: { from: string; to: string }[];
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Layout {
  nodes: Map<string, Box>;
  /** Per input edge, in order: the points to draw it through (from the right side of `from` to the left of `to`). */
  edges: { x: number; y: number }[][];
  width: number;
  height: number;
}

export interface LayoutOptions {
  /** Space between ranks (columns). */
  rankGap?: number;
  /** Space between nodes of one rank. */
  nodeGap?: number;
  margin?: number;
}

interface Item {
  id: string;
  width: number;
  height: number;
  rank: number;
  /** Dummy points of long edges have no size. */
  dummy: boolean;
  preds: Item[];
  succs: Item[];
  order: number;
  y: number;
}

/** Ranks by longest path from the nodes without inputs; an edge that closes a cycle is ignored. */
function rank(items: Item[], edges: [Item, Item][]): void {
  const indeg = new Map(items.map((i) => [i, 0]));
  for (const [, b] of edges) indeg.set(b, indeg.get(b)! + 1);
  const queue = items.filter((i) => indeg.get(i) === 0);
  const seen = new Set<Item>();
  while (queue.length || seen.size < items.length) {
    // A cycle: take the first node not placed yet.
    const i = queue.shift() ?? items.find((x) => !seen.has(x))!;
    if (seen.has(i)) continue;
    seen.add(i);
    for (const s of i.succs) {
      if (seen.has(s)) continue;
      s.rank = Math.max(s.rank, i.rank + 1);
      indeg.set(s, indeg.get(s)! - 1);
      if (indeg.get(s) === 0) queue.push(s);
    }
  }
}

/** Crossings between two adjacent layers (edges from `upper` to the next). */
function crossings(upper: Item[]): number {
  const es: [number, number][] = [];
  for (const u of upper) for (const s of u.succs) es.push([u.order, s.order]);
  let n = 0;
  for (let i = 0; i < es.length; i++) for (let j = i + 1; j < es.length; j++) if ((es[i]![0] - es[j]![0]) * (es[i]![1] - es[j]![1]) < 0) n++;
  return n;
}

function totalCrossings(layers: Item[][]): number {
  let n = 0;
  for (let r = 0; r + 1 < layers.length; r++) n += crossings(layers[r]!);
  return n;
}

function barycenter(of: Item[], fallback: number): number {
  if (!of.length) return fallback;
  let sum = 0;
  for (const o of of) sum += o.order;
  return sum / of.length;
}

/** Orders each layer by the mean position of its neighbours, sweeping down and up; keeps the best. */
function order(layers: Item[][]): void {
  const renumber = (layer: Item[]) => layer.forEach((x, i) => (x.order = i));
  layers.forEach(renumber);
  let best = layers.map((l) => [...l]);
  let bestCount = totalCrossings(layers);
  for (let sweep = 0; sweep < 16 && bestCount > 0; sweep++) {
    const down = sweep % 2 === 0;
    const range = down ? layers.map((_, i) => i).slice(1) : layers.map((_, i) => i).reverse().slice(1);
    for (const r of range) {
      const layer = layers[r]!;
      const keys = new Map(layer.map((x) => [x, barycenter(down ? x.preds : x.succs, x.order)]));
      layer.sort((a, b) => keys.get(a)! - keys.get(b)! || a.order - b.order);
      renumber(layer);
    }
    const count = totalCrossings(layers);
    if (count < bestCount) {
      bestCount = count;
      best = layers.map((l) => [...l]);
    }
  }
  best.forEach((l, r) => {
    layers[r] = l;
    renumber(l);
  });
}

/**
 * Places one layer's nodes as near to `want` (their wished centres) as their order and
 * the gap allow: each overlap is resolved by moving the blocks involved to their mean wish.
 */
function place(layer: Item[], want: number[], gap: number): void {
  // Blocks of nodes that touch: each sits at the mean of its members' wishes.
  const blocks: { start: number; end: number; top: number; size: number; wish: number }[] = [];
  layer.forEach((x, i) => {
    const wishTop = want[i]! - x.height / 2;
    blocks.push({ start: i, end: i, top: wishTop, size: x.height, wish: wishTop });
    for (;;) {
      const b = blocks[blocks.length - 1]!;
      const a = blocks[blocks.length - 2];
      if (!a || a.top + a.size + gap <= b.top) break;
      // Merge: the block's top is the mean of where each member's wish would put it.
      const n1 = a.end - a.start + 1;
      const n2 = b.end - b.start + 1;
      const wish = (a.wish * n1 + (b.wish - a.size - gap) * n2) / (n1 + n2);
      blocks.splice(blocks.length - 2, 2, { start: a.start, end: b.end, top: wish, size: a.size + gap + b.size, wish });
    }
  });
  for (const b of blocks) {
    let y = b.top;
    for (let i = b.start; i <= b.end; i++) {
      layer[i]!.y = y;
      y += layer[i]!.height + gap;
    }
  }
}

export function layout(input: LayoutInput, opts: LayoutOptions = {}): Layout {
  const rankGap = opts.rankGap ?? 56;
  const nodeGap = opts.nodeGap ?? 20;
  const margin = opts.margin ?? 12;
  const byId = new Map<string, Item>();
  const items: Item[] = input.nodes.map((n) => {
    const it: Item = { id: n.id, width: n.width, height: n.height, rank: 0, dummy: false, preds: [], succs: [], order: 0, y: 0 };
    byId.set(n.id, it);
    return it;
  });
  const pairs: [Item, Item][] = [];
  for (const e of input.edges) {
    const a = byId.get(e.from);
    const b = byId.get(e.to);
    if (!a || !b || a === b) continue;
    pairs.push([a, b]);
    a.succs.push(b);
    b.preds.push(a);
  }
  rank(items, pairs);
  // Edges that go back (a cycle) or skip ranks: a chain of dummy points, one per rank between.
  for (const it of items) (it.preds = []), (it.succs = []);
  const routes = new Map<number, Item[]>();
  input.edges.forEach((e, k) => {
    const a = byId.get(e.from);
    const b = byId.get(e.to);
    if (!a || !b || a === b) return;
    const chain = [a];
    const step = b.rank > a.rank ? 1 : -1;
    for (let r = a.rank + step; r !== b.rank && b.rank !== a.rank; r += step) {
      const d: Item = { id: `~${k}.${r}`, width: 0, height: 0, rank: r, dummy: true, preds: [], succs: [], order: 0, y: 0 };
      items.push(d);
      chain.push(d);
    }
    chain.push(b);
    for (let i = 0; i + 1 < chain.length; i++) {
      // Within one rank (a cycle on a rank), no link: the ordering ignores it.
      if (chain[i]!.rank === chain[i + 1]!.rank) continue;
      const [u, v] = chain[i]!.rank < chain[i + 1]!.rank ? [chain[i]!, chain[i + 1]!] : [chain[i + 1]!, chain[i]!];
      u.succs.push(v);
      v.preds.push(u);
    }
    routes.set(k, chain);
  });
  const ranks = Math.max(0, ...items.map((i) => i.rank)) + 1;
  const layers: Item[][] = Array.from({ length: ranks }, () => []);
  // First order: depth first from the sources in input order, so that a chain stays in line.
  const visited = new Set<Item>();
  const visit = (i: Item): void => {
    if (visited.has(i)) return;
    visited.add(i);
    layers[i.rank]!.push(i);
    for (const s of i.succs) visit(s);
  };
  for (const i of items) if (!i.preds.length) visit(i);
  for (const i of items) visit(i);
  order(layers);

  // Rows: start stacked, then move each node toward its neighbours, sweeping both ways.
  for (const layer of layers) {
    let y = 0;
    for (const x of layer) {
      x.y = y;
      y += x.height + nodeGap;
    }
  }
  const centre = (x: Item) => x.y + x.height / 2;
  const mean = (xs: Item[], fallback: number) => (xs.length ? xs.reduce((s, x) => s + centre(x), 0) / xs.length : fallback);
  for (let sweep = 0; sweep < 8; sweep++) {
    const down = sweep % 2 === 0;
    const rs = down ? layers.map((_, i) => i) : layers.map((_, i) => i).reverse();
    for (const r of rs) {
      const layer = layers[r]!;
      const want = layer.map((x) => {
        const ns = sweep < 6 ? [...(down ? x.preds : x.succs)] : [...x.preds, ...x.succs];
        return mean(ns.length ? ns : [...x.preds, ...x.succs], centre(x));
      });
      place(layer, want, nodeGap);
    }
  }
  // Columns: each rank as wide as its widest node.
  const widths = layers.map((l) => Math.max(0, ...l.map((x) => x.width)));
  const xs: number[] = [];
  let x = margin;
  for (let r = 0; r < ranks; r++) {
    xs.push(x);
    x += widths[r]! + rankGap;
  }
  const top = Math.min(...items.map((i) => i.y));
  const nodes = new Map<string, Box>();
  let height = 0;
  for (const i of items) {
    i.y += margin - top;
    height = Math.max(height, i.y + i.height + margin);
    if (!i.dummy) nodes.set(i.id, { x: xs[i.rank]! + (widths[i.rank]! - i.width) / 2, y: i.y, width: i.width, height: i.height });
  }
  const edges = input.edges.map((_, k) => {
    const chain = routes.get(k);
    if (!chain) return [];
    return chain.map((it, j) => {
      const cx = xs[it.rank]! + widths[it.rank]! / 2;
      if (it.dummy) return { x: cx, y: it.y };
      const box = nodes.get(it.id)!;
      const out = j === 0;
      return { x: out ? box.x + box.width : box.x, y: box.y + box.height / 2 };
    });
  });
  return { nodes, edges, width: Math.max(x - rankGap + margin, margin * 2), height: Math.max(height, margin * 2) };
}
