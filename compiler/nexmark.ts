// The Nexmark prelude: the record types of the `nexmark(…)` sources (LANGUAGE.md section 9),
// available in every .flow file under these names unless the file declares its own.
// Field names and order follow the Nexmark model and runtime/nexmark.ts.

import { T, type RecordType, type Type } from "./types.js";

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

/** What each nexmark source produces. */
export const NEXMARK_SOURCES = {
  nexmark: { kind: "event", type: "NexmarkEvent" },
  nexmark_persons: { kind: "person", type: "Person" },
  nexmark_auctions: { kind: "auction", type: "Auction" },
  nexmark_bids: { kind: "bid", type: "Bid" },
} as const;
