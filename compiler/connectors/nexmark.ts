// `nexmark(events: n, seed: s)` and its one-kind variants (`nexmark_persons`,
// `nexmark_auctions`, `nexmark_bids`): the Nexmark generator's events. Also the Nexmark
// prelude: the record types these sources produce (LANGUAGE.md section 9), available in every
// .flow file under these names unless the file declares its own. Field names and order
// follow the Nexmark model and runtime/nexmark.ts.

import { recordShape, sameType, T, typeToString, type RecordType, type Type } from "../types.js";
import type { SourceConnectorDef } from "./connector.js";

function rec(name: string, fields: [string, Type][]): RecordType {
  return { kind: "record", name, fields: fields.map(([n, type]) => ({ name: n, type })) };
}

const person = rec("Person", [
  ["id", T.int], ["name", T.string], ["emailAddress", T.string], ["creditCard", T.string],
  ["city", T.string], ["state", T.string], ["dateTime", T.timestamp], ["extra", T.string],
]);
const auction = rec("Auction", [
  ["id", T.int], ["itemName", T.string], ["description", T.string], ["initialBid", T.int], ["reserve", T.int],
  ["dateTime", T.timestamp], ["expires", T.timestamp], ["seller", T.int], ["category", T.int], ["extra", T.string],
]);
const bid = rec("Bid", [
  ["auction", T.int], ["bidder", T.int], ["price", T.int], ["channel", T.string], ["url", T.string],
  ["dateTime", T.timestamp], ["extra", T.string],
]);
const event = rec("NexmarkEvent", [["dateTime", T.timestamp], ["person", T.optional(person)], ["auction", T.optional(auction)], ["bid", T.optional(bid)]]);

/** The prelude's types by name. */
export const PRELUDE: ReadonlyMap<string, RecordType> = new Map([person, auction, bid, event].map((t) => [t.name!, t]));

export interface NexmarkSource {
  kind: "nexmark";
  of: "event" | "person" | "auction" | "bid";
  events: number;
  seed: number;
}

/** One source of the generator: all its events, or one kind of them. */
function nexmarkSource(name: string, of: NexmarkSource["of"], typeName: string, summary: string): SourceConnectorDef<NexmarkSource> {
  const produced = PRELUDE.get(typeName)!;
  return {
    side: "source",
    name,
    kind: "nexmark",
    replayable: true,
    args: [
      { name: "events", arg: { kind: "int" }, position: 0, required: true },
      { name: "seed", arg: { kind: "int" } },
    ],
    summary,
    check({ diags, decl, type, args }) {
      if (type.kind !== "error" && !sameType(type, produced)) {
        diags.error("FLOW3001", decl.type.span, `${name}(…) produces ${typeName} = ${recordShape(produced)}, but \`${decl.name.name}\` is declared as ${typeToString(type)}`, {
          hints: [`declare it as \`source ${decl.name.name}: ${typeName} = ${name}(…)\` (the Nexmark types need no declaration)`],
        });
      }
      const events = args.get("events")!.lit as number;
      if (events < 0) diags.error("FLOW4003", args.get("events")!.value.span, "`events` cannot be negative");
      return { kind: "nexmark", of, events, seed: (args.get("seed")?.lit as number | undefined) ?? 42 };
    },
    files: () => [],
    manifest: (c, base) => ({ name: base.name, connector: "nexmark", type: base.type, of: c.of, events: c.events, seed: c.seed, eventTime: base.eventTime }),
    generated: () => ({ fromJson: false, values: null }),
  };
}

const variant = (name: string, of: NexmarkSource["of"], typeName: string): SourceConnectorDef<NexmarkSource> =>
  nexmarkSource(name, of, typeName, `${name}(events: n, seed: s): the ${name.slice(8)} among the first n events of the Nexmark generator (type ${typeName})`);

export const NEXMARK: readonly SourceConnectorDef<NexmarkSource>[] = [
  nexmarkSource("nexmark", "event", "NexmarkEvent", "nexmark(events: n, seed: s): the first n events of the Nexmark generator (type NexmarkEvent: dateTime, and one of person, auction, bid)"),
  variant("nexmark_persons", "person", "Person"),
  variant("nexmark_auctions", "auction", "Auction"),
  variant("nexmark_bids", "bid", "Bid"),
];
