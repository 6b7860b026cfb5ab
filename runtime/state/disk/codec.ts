// Bytes of the disk state backend (docs/operations.md, "State on disk"): keys of the store and
// values of per-key state.
//
// A key in the store is [table id: u16][part: u8][...]: part 0 holds a table's per-key state
// as [key group: u16][map key], so that a table's keys are in key-group order (a full
// checkpoint reads them group by group); the other parts are free for structures to come
// (time queues). Map keys: "s" + UTF-8 (strings),
// "i" + 4 bytes (integers of 32 bits), "n" + 8 bytes (other numbers), "b" + 0/1 (booleans),
// "z" (null: an optional key that is null).
//
// A value is a tuple of primitives in a small encoding of its own (numbers — integers of
// 0…255 in one byte, other 32-bit integers in four, the rest in eight —, strings,
// booleans, null, undefined: the fields of most state objects) or, for anything else,
// `v8.serialize` of it (maps, lists, records; object identity within one value is kept).

import { deserialize, serialize } from "node:v8";
import type { MapKey } from "../../api.js";

/** The first key after every key that starts with `prefix` (the end of a range). */
export function prefixEnd(prefix: Buffer): Buffer {
  const b = Buffer.from(prefix);
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      b[i]!++;
      return b.subarray(0, i + 1);
    }
  }
  return Buffer.alloc(b.length + 1, 0xff);
}

const TAG_STRING = 0x73;
const TAG_NUMBER = 0x6e;
const TAG_INT = 0x69;

/** Whether a number is written as a 4-byte integer (keys and values: smaller pages, a smaller store). */
function isInt32(x: number): boolean {
  return (x | 0) === x && !Object.is(x, -0);
}
const TAG_BOOL = 0x62;
const TAG_NULL = 0x7a;

/** A table's key prefix: table id and part 0. */
export function tablePrefix(table: number): Buffer {
  const b = Buffer.allocUnsafe(3);
  b.writeUInt16BE(table, 0);
  b[2] = 0;
  return b;
}

/** The store key of a map key in a table. */
export function tableKey(table: number, kg: number, mk: MapKey | null): Buffer {
  if (mk === null) {
    const z = Buffer.allocUnsafe(6);
    z.writeUInt16BE(table, 0);
    z[2] = 0;
    z.writeUInt16BE(kg, 3);
    z[5] = TAG_NULL;
    return z;
  }
  if (typeof mk === "string") {
    const len = Buffer.byteLength(mk);
    const b = Buffer.allocUnsafe(6 + len);
    b.writeUInt16BE(table, 0);
    b[2] = 0;
    b.writeUInt16BE(kg, 3);
    b[5] = TAG_STRING;
    b.write(mk, 6, "utf8");
    return b;
  }
  const b = Buffer.allocUnsafe(typeof mk === "number" ? (isInt32(mk) ? 10 : 14) : 7);
  b.writeUInt16BE(table, 0);
  b[2] = 0;
  b.writeUInt16BE(kg, 3);
  if (typeof mk === "number") {
    if (isInt32(mk)) {
      b[5] = TAG_INT;
      b.writeInt32BE(mk, 6);
    } else {
      b[5] = TAG_NUMBER;
      b.writeDoubleBE(mk, 6);
    }
  } else {
    b[5] = TAG_BOOL;
    b[6] = mk ? 1 : 0;
  }
  return b;
}

/**
 * A number read back as it was made: an integer of V8's small range as a small integer (a
 * double read from bytes is a heap number, which state objects and v8.serialize would then
 * keep as a double: 8 bytes more in a checkpoint, a slower field).
 */
function small(x: number): number {
  return x >= -1073741824 && x <= 1073741823 && (x | 0) === x && !Object.is(x, -0) ? x | 0 : x;
}

/** A reusable buffer for store keys that are only read with (no allocation per lookup). */
const scratch = Buffer.allocUnsafe(1024);

/** The store key of a map key in a table, in a shared buffer valid until the next call (for reads). */
export function tableKeyScratch(table: number, kg: number, mk: MapKey | null): Buffer {
  if (typeof mk === "number") {
    scratch.writeUInt16BE(table, 0);
    scratch[2] = 0;
    scratch.writeUInt16BE(kg, 3);
    if (isInt32(mk)) {
      scratch[5] = TAG_INT;
      scratch.writeInt32BE(mk, 6);
      return scratch.subarray(0, 10);
    }
    scratch[5] = TAG_NUMBER;
    scratch.writeDoubleBE(mk, 6);
    return scratch.subarray(0, 14);
  }
  if (typeof mk === "string" && mk.length <= 300) {
    scratch.writeUInt16BE(table, 0);
    scratch[2] = 0;
    scratch.writeUInt16BE(kg, 3);
    scratch[5] = TAG_STRING;
    const n = scratch.write(mk, 6, "utf8");
    return scratch.subarray(0, 6 + n);
  }
  return tableKey(table, kg, mk);
}

/** The map key of a table's store key. */
export function mapKeyOf(key: Buffer): MapKey | null {
  const tag = key[5];
  if (tag === TAG_NULL) return null;
  if (tag === TAG_STRING) return key.toString("utf8", 6);
  if (tag === TAG_INT) return key.readInt32BE(6);
  if (tag === TAG_NUMBER) return small(key.readDoubleBE(6));
  return key[6] === 1;
}

const FORMAT_TUPLE = 0;
const FORMAT_V8 = 1;

/** Whether a number is written in one byte (counts, flags, small sums: a smaller store). */
function isByte(x: number): boolean {
  return (x & 0xff) === x && !Object.is(x, -0);
}

/** The bytes of `values` in the tuple encoding at most (strings reckoned at 3 bytes a char); -1: only v8.serialize can write them. */
function tupleSize(values: readonly unknown[]): number {
  if (values.length > 255) return -1;
  let size = 2;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === "number") size += isByte(v) ? 2 : isInt32(v) ? 5 : 9;
    else if (typeof v === "string") size += 5 + v.length * 3;
    else if (v === null || v === undefined || typeof v === "boolean") size += 1;
    else return -1;
  }
  return size;
}

/** Writes `values` in the tuple encoding into `b` at `at` (room for tupleSize bytes); returns the end. */
function writeTuple(values: readonly unknown[], b: Buffer, at: number): number {
  b[at] = FORMAT_TUPLE;
  b[at + 1] = values.length;
  at += 2;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === "number") {
      if (isByte(v)) {
        b[at] = 7;
        b[at + 1] = v;
        at += 2;
      } else if (isInt32(v)) {
        b[at] = 6;
        b.writeInt32LE(v, at + 1);
        at += 5;
      } else {
        b[at] = 4;
        b.writeDoubleLE(v, at + 1);
        at += 9;
      }
    } else if (typeof v === "string") {
      b[at] = 5;
      const n = b.write(v, at + 5, "utf8");
      b.writeUInt32LE(n, at + 1);
      at += 5 + n;
    } else b[at++] = v === undefined ? 0 : v === null ? 1 : v ? 3 : 2;
  }
  return at;
}

/**
 * Encodes a list of values: primitives in the tuple encoding (integers of 0…255 in one byte,
 * other 32-bit integers in four, other numbers as doubles), anything else with v8.serialize.
 */
export function encodeValues(values: readonly unknown[]): Buffer {
  const size = tupleSize(values);
  if (size < 0) return encodeV8(values);
  const b = Buffer.allocUnsafe(size);
  const at = writeTuple(values, b, 0);
  // Numbers take the size reckoned: no second view of the bytes (one object less per write).
  return at === size ? b : b.subarray(0, at);
}

function encodeV8(values: readonly unknown[]): Buffer {
  const s = serialize(values);
  const b = Buffer.allocUnsafe(1 + s.length);
  b[0] = FORMAT_V8;
  s.copy(b, 1);
  return b;
}

/**
 * Decodes what encodeValues wrote into columns of one row each (`cols[i][0]`), from value
 * `from` on; returns the values before `from` (a typed key), without an array per value.
 */
export function decodeInto(b: Buffer, cols: unknown[][], from: number): unknown {
  if (b[0] === FORMAT_V8) {
    const all = deserialize(b.subarray(1)) as unknown[];
    for (let i = 0; i < cols.length; i++) cols[i]![0] = all[from + i];
    return from > 0 ? all[0] : undefined;
  }
  const n = b[1]!;
  let at = 2;
  let first: unknown;
  for (let i = 0; i < n; i++) {
    const tag = b[at]!;
    let v: unknown;
    if (tag === 7) {
      v = b[at + 1]!;
      at += 2;
    } else if (tag === 6) {
      v = b.readInt32LE(at + 1);
      at += 5;
    } else if (tag === 4) {
      v = small(b.readDoubleLE(at + 1));
      at += 9;
    } else if (tag === 5) {
      const len = b.readUInt32LE(at + 1);
      v = b.toString("utf8", at + 5, at + 5 + len);
      at += 5 + len;
    } else {
      v = tag === 0 ? undefined : tag === 1 ? null : tag === 3;
      at++;
    }
    if (i < from) first = v;
    else cols[i - from]![0] = v;
  }
  return first;
}

/** Decodes what encodeValues wrote. */
export function decodeValues(b: Buffer): unknown[] {
  if (b[0] === FORMAT_V8) return deserialize(b.subarray(1)) as unknown[];
  const n = b[1]!;
  const out: unknown[] = new Array(n);
  let at = 2;
  for (let i = 0; i < n; i++) {
    const tag = b[at]!;
    if (tag === 7) {
      out[i] = b[at + 1]!;
      at += 2;
    } else if (tag === 6) {
      out[i] = b.readInt32LE(at + 1);
      at += 5;
    } else if (tag === 4) {
      out[i] = small(b.readDoubleLE(at + 1));
      at += 9;
    } else if (tag === 5) {
      const len = b.readUInt32LE(at + 1);
      out[i] = b.toString("utf8", at + 5, at + 5 + len);
      at += 5 + len;
    } else {
      out[i] = tag === 0 ? undefined : tag === 1 ? null : tag === 3;
      at++;
    }
  }
  return out;
}
