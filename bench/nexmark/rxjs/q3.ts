// RxJS 7 version of queries/q3.flow (Nexmark q3, local item suggestion): all generator
// events as an Observable, multicast with `connect` into a stream of people in Oregon,
// Idaho or California and a stream of auctions in category 10, merged and joined on person
// id = auction seller as both arrive (an unbounded inner join: both sides kept forever, each
// arriving element paired with the other side's elements of its key in arrival order). The
// subscriber prints each pair as a JSON line, writing output in large chunks.
// Usage: node q3.mjs [events = 1000000] [seed = 42]
import { type OperatorFunction, connect, defer, filter, map, merge, mergeMap } from "rxjs";
import type { Auction, Person } from "../../../runtime/nexmark.js";
import { events, seed } from "../common.js";
import { nexmark, printJsonLines } from "./common.js";

/** An element of the left or the right input of a join. */
type Side<L, R> = { side: "left"; x: L } | { side: "right"; x: R };

/**
 * An unbounded inner equi-join of a merged stream of left and right elements: each element
 * is paired with every element of the other side with the same key seen so far, then kept.
 */
function unboundedJoin<L, R, K, O>(leftKey: (l: L) => K, rightKey: (r: R) => K, select: (l: L, r: R) => O): OperatorFunction<Side<L, R>, O> {
  return (source) =>
    defer(() => {
      const lefts = new Map<K, L[]>();
      const rights = new Map<K, R[]>();
      return source.pipe(
        mergeMap((e) => {
          if (e.side === "left") {
            const l = e.x;
            const k = leftKey(l);
            const pairs = (rights.get(k) ?? []).map((r) => select(l, r));
            const list = lefts.get(k);
            if (list === undefined) lefts.set(k, [l]);
            else list.push(l);
            return pairs;
          }
          const r = e.x;
          const k = rightKey(r);
          const pairs = (lefts.get(k) ?? []).map((l) => select(l, r));
          const list = rights.get(k);
          if (list === undefined) rights.set(k, [r]);
          else list.push(r);
          return pairs;
        }),
      );
    });
}

const q3$ = nexmark(events, seed).pipe(
  connect((events$) => {
    const persons$ = events$.pipe(
      map((e) => e.person),
      filter((p): p is Person => p !== null && (p.state === "OR" || p.state === "ID" || p.state === "CA")),
    );
    const auctions$ = events$.pipe(
      map((e) => e.auction),
      filter((a): a is Auction => a !== null && a.category === 10),
    );
    return merge(
      persons$.pipe(map((p): Side<Person, Auction> => ({ side: "left", x: p }))),
      auctions$.pipe(map((a): Side<Person, Auction> => ({ side: "right", x: a }))),
    );
  }),
  unboundedJoin(
    (p: Person) => p.id,
    (a: Auction) => a.seller,
    (p, a) => ({ name: p.name, city: p.city, state: p.state, id: a.id }),
  ),
);

printJsonLines(q3$);
