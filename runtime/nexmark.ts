// The Nexmark generator (the `nexmark(…)` sources, and the benchmark's baselines): a
// deterministic stream of people, auctions and bids in the proportions of the Nexmark model
// (1 : 3 : 46 in every block of 50 events), each event computed from its index and the seed
// alone, so any event can be produced again from its index (a replayable source).
//
// Model (after the Nexmark benchmark's generator): ids count up from 1000; a new auction's
// seller is usually one of a few "hot" people, else a recently active one; a bid usually goes
// to a hot auction (else one of the 100 latest) and comes from a hot bidder (else a recent
// person); prices follow 10^(6·u) cents; event time is 10,000 events per second from
// 2015-07-15T00:00:00Z.

export interface Person {
  id: number;
  name: string;
  emailAddress: string;
  creditCard: string;
  city: string;
  state: string;
  dateTime: number;
  extra: string;
}

export interface Auction {
  id: number;
  itemName: string;
  description: string;
  initialBid: number;
  reserve: number;
  dateTime: number;
  expires: number;
  seller: number;
  category: number;
  extra: string;
}

export interface Bid {
  auction: number;
  bidder: number;
  price: number;
  channel: string;
  url: string;
  dateTime: number;
  extra: string;
}

export interface NexmarkEvent {
  dateTime: number;
  person: Person | null;
  auction: Auction | null;
  bid: Bid | null;
}

export type NexmarkKind = "event" | "person" | "auction" | "bid";

export const BASE_TIME = Date.UTC(2015, 6, 15);
export const EVENTS_PER_SECOND = 10_000;
const BLOCK = 50;
const AUCTIONS_PER_BLOCK = 3;
const FIRST_PERSON_ID = 1000;
const FIRST_AUCTION_ID = 1000;
const FIRST_CATEGORY_ID = 10;
const CATEGORIES = 5;
const ACTIVE_PEOPLE = 1000;
const IN_FLIGHT_AUCTIONS = 100;
const HOT_AUCTION_RATIO = 2;
const HOT_BIDDER_RATIO = 4;
const HOT_SELLER_RATIO = 4;
const AUCTION_LENGTH_MS = 10_000;

const FIRST_NAMES = ["Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"];
const LAST_NAMES = ["Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"];
const STATES = ["AZ", "CA", "ID", "OR", "WA", "WY"];
const CITIES = ["Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"];
const CHANNELS = ["Google", "Facebook", "Baidu", "Apple"];
const URLS = CHANNELS.map((c) => `https://www.nexmark.com/${c.toLowerCase()}/item.htm?query=1&channel_id=${c.length}`);
const ITEMS = ["bicycle", "camera", "guitar", "lamp", "clock", "kettle", "chair", "radio", "watch", "vase"];
const NAMES = FIRST_NAMES.flatMap((f) => LAST_NAMES.map((l) => `${f} ${l}`));
const EMAILS = FIRST_NAMES.flatMap((f) => LAST_NAMES.map((l) => `${f.toLowerCase()}.${l.toLowerCase()}@example.com`));

/** A small deterministic PRNG per event: its state comes from the seed and the event index alone. */
class Rand {
  private s = 0;

  reset(seed: number, index: number): void {
    // Mix the two into 32 bits (the finaliser of MurmurHash3).
    let h = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index | 0, 0xc2b2ae35) ^ Math.imul(Math.floor(index / 0x100000000), 0x27d4eb2f)) >>> 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    this.s = h | 1;
  }

  /** Uniform in [0, 1). */
  next(): number {
    // xorshift32
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x;
    return (x >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** The event time of event `index`. */
export function timeOf(index: number): number {
  return BASE_TIME + Math.floor((index * 1000) / EVENTS_PER_SECOND);
}

/** 0 for a person, 1 for an auction, 2 for a bid. */
export function kindOf(index: number): 0 | 1 | 2 {
  const o = index % BLOCK;
  return o === 0 ? 0 : o <= AUCTIONS_PER_BLOCK ? 1 : 2;
}

function lastPerson(index: number): number {
  return FIRST_PERSON_ID + Math.floor(index / BLOCK);
}

function lastAuction(index: number): number {
  const block = Math.floor(index / BLOCK);
  const o = index % BLOCK;
  // Auctions made in this block so far (the current one included).
  const made = o === 0 ? 0 : Math.min(o, AUCTIONS_PER_BLOCK);
  return FIRST_AUCTION_ID + block * AUCTIONS_PER_BLOCK + made - 1;
}

function price(r: Rand): number {
  return Math.round(Math.pow(10, r.next() * 6) * 100);
}

/** Generates events by index for one seed, reusing its PRNG. */
export class NexmarkGenerator {
  private readonly r = new Rand();

  constructor(private readonly seed: number) {}

  person(index: number): Person {
    const r = this.r;
    r.reset(this.seed, index);
    const n = r.int(NAMES.length);
    const card = `${1000 + r.int(9000)} ${1000 + r.int(9000)} ${1000 + r.int(9000)} ${1000 + r.int(9000)}`;
    return { id: lastPerson(index), name: NAMES[n]!, emailAddress: EMAILS[n]!, creditCard: card, city: CITIES[r.int(CITIES.length)]!, state: STATES[r.int(STATES.length)]!, dateTime: timeOf(index), extra: "" };
  }

  auction(index: number): Auction {
    const r = this.r;
    r.reset(this.seed, index);
    const id = lastAuction(index);
    const people = lastPerson(index);
    const seller = r.int(HOT_SELLER_RATIO) > 0 ? Math.floor(people / HOT_SELLER_RATIO) * HOT_SELLER_RATIO : Math.max(FIRST_PERSON_ID, people - r.int(ACTIVE_PEOPLE));
    const item = r.int(ITEMS.length);
    const initialBid = price(r);
    const dateTime = timeOf(index);
    return {
      id,
      itemName: ITEMS[item]!,
      description: `a used ${ITEMS[item]!}`,
      initialBid,
      reserve: initialBid + price(r),
      dateTime,
      expires: dateTime + AUCTION_LENGTH_MS + r.int(AUCTION_LENGTH_MS),
      seller,
      category: FIRST_CATEGORY_ID + r.int(CATEGORIES),
      extra: "",
    };
  }

  bid(index: number): Bid {
    const r = this.r;
    r.reset(this.seed, index);
    const auctions = lastAuction(index);
    const auction = r.int(HOT_AUCTION_RATIO) > 0 ? Math.floor(auctions / HOT_AUCTION_RATIO) * HOT_AUCTION_RATIO : Math.max(FIRST_AUCTION_ID, auctions - r.int(IN_FLIGHT_AUCTIONS));
    const people = lastPerson(index);
    const bidder = r.int(HOT_BIDDER_RATIO) > 0 ? Math.floor(people / HOT_BIDDER_RATIO) * HOT_BIDDER_RATIO + 1 : Math.max(FIRST_PERSON_ID, people - r.int(ACTIVE_PEOPLE));
    const c = r.int(CHANNELS.length);
    return { auction, bidder, price: price(r), channel: CHANNELS[c]!, url: URLS[c]!, dateTime: timeOf(index), extra: "" };
  }

  event(index: number): NexmarkEvent {
    const k = kindOf(index);
    return { dateTime: timeOf(index), person: k === 0 ? this.person(index) : null, auction: k === 1 ? this.auction(index) : null, bid: k === 2 ? this.bid(index) : null };
  }

  /**
   * Up to `max` elements of one kind from event `from` on, before event `to`: the elements
   * and the index of the next event to look at.
   */
  batch(kind: NexmarkKind, from: number, to: number, max: number, out: unknown[]): number {
    let i = from;
    for (; i < to && out.length < max; i++) {
      if (kind === "event") out.push(this.event(i));
      else {
        const k = kindOf(i);
        if (kind === "bid" && k === 2) out.push(this.bid(i));
        else if (kind === "auction" && k === 1) out.push(this.auction(i));
        else if (kind === "person" && k === 0) out.push(this.person(i));
      }
    }
    return i;
  }
}
