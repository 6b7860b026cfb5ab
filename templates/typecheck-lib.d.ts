// The global types a generated job module may use, for the compile-time type check of
// generated code (emit.ts). TypeScript's own lib.es20xx files are ten times larger and
// parsing them was a third of a compile; generated code needs only this much.
// If generated code ever needs more, the check fails loudly and this file grows.

interface Object {}
interface Function {}
interface CallableFunction extends Function {}
interface NewableFunction extends Function {}
interface IArguments {
  length: number;
  [index: number]: unknown;
}
interface RegExp {
  test(s: string): boolean;
}
interface Boolean {}
interface Number {}
interface String {
  readonly length: number;
  toLowerCase(): string;
  toUpperCase(): string;
  trim(): string;
  includes(search: string): boolean;
  startsWith(search: string): boolean;
  endsWith(search: string): boolean;
  slice(start?: number, end?: number): string;
  split(separator: string): string[];
  charCodeAt(index: number): number;
  replace(pattern: RegExp | string, replacement: string): string;
  readonly [index: number]: string;
}
interface StringConstructor {
  (value?: unknown): string;
}
declare var String: StringConstructor;
interface NumberConstructor {
  (value?: unknown): number;
  isSafeInteger(n: unknown): boolean;
  isNaN(n: unknown): boolean;
  isFinite(n: unknown): boolean;
}
declare var Number: NumberConstructor;

interface Symbol {}
interface SymbolConstructor {
  readonly iterator: unique symbol;
}
declare var Symbol: SymbolConstructor;

interface IteratorYieldResult<T> {
  done?: false;
  value: T;
}
interface IteratorReturnResult<T> {
  done: true;
  value: T;
}
type IteratorResult<T, TReturn = unknown> = IteratorYieldResult<T> | IteratorReturnResult<TReturn>;
interface Iterator<T, TReturn = unknown, TNext = undefined> {
  next(...args: [] | [TNext]): IteratorResult<T, TReturn>;
}
interface Iterable<T, TReturn = unknown, TNext = undefined> {
  [Symbol.iterator](): Iterator<T, TReturn, TNext>;
}
interface IterableIterator<T, TReturn = unknown, TNext = undefined> extends Iterator<T, TReturn, TNext> {
  [Symbol.iterator](): IterableIterator<T, TReturn, TNext>;
}
interface IteratorObject<T, TReturn = unknown, TNext = undefined> extends Iterator<T, TReturn, TNext> {
  [Symbol.iterator](): IteratorObject<T, TReturn, TNext>;
}
interface ArrayIterator<T> extends IteratorObject<T, undefined, unknown> {
  [Symbol.iterator](): ArrayIterator<T>;
}
interface MapIterator<T> extends IteratorObject<T, undefined, unknown> {
  [Symbol.iterator](): MapIterator<T>;
}
interface SetIterator<T> extends IteratorObject<T, undefined, unknown> {
  [Symbol.iterator](): SetIterator<T>;
}

interface ReadonlyArray<T> {
  readonly length: number;
  readonly [n: number]: T;
  includes(item: T): boolean;
  slice(start?: number, end?: number): T[];
  map<U>(f: (value: T, index: number) => U): U[];
  join(separator?: string): string;
  [Symbol.iterator](): ArrayIterator<T>;
}
interface Array<T> {
  length: number;
  [n: number]: T;
  push(...items: T[]): number;
  pop(): T | undefined;
  includes(item: T): boolean;
  slice(start?: number, end?: number): T[];
  splice(start: number, deleteCount?: number, ...items: T[]): T[];
  map<U>(f: (value: T, index: number) => U): U[];
  join(separator?: string): string;
  [Symbol.iterator](): ArrayIterator<T>;
}
interface ArrayConstructor {
  new <T>(length: number): T[];
  isArray(value: unknown): value is unknown[];
  from<T>(items: Iterable<T>): T[];
}
declare var Array: ArrayConstructor;

interface Map<K, V> {
  get(key: K): V | undefined;
  set(key: K, value: V): this;
  has(key: K): boolean;
  delete(key: K): boolean;
  readonly size: number;
  keys(): MapIterator<K>;
  values(): MapIterator<V>;
  [Symbol.iterator](): MapIterator<[K, V]>;
}
interface MapConstructor {
  new <K, V>(entries?: Iterable<readonly [K, V]> | null): Map<K, V>;
}
declare var Map: MapConstructor;

interface Set<T> {
  add(value: T): this;
  has(value: T): boolean;
  delete(value: T): boolean;
  readonly size: number;
  [Symbol.iterator](): SetIterator<T>;
}
interface SetConstructor {
  new <T = unknown>(values?: Iterable<T> | null): Set<T>;
}
declare var Set: SetConstructor;

interface Math {
  abs(x: number): number;
  round(x: number): number;
  floor(x: number): number;
  ceil(x: number): number;
  min(...values: number[]): number;
  max(...values: number[]): number;
  imul(a: number, b: number): number;
  sqrt(x: number): number;
  pow(x: number, y: number): number;
  exp(x: number): number;
  log(x: number): number;
  log10(x: number): number;
  sign(x: number): number;
}
declare var Math: Math;

interface JSON {
  stringify(value: unknown, replacer?: (this: unknown, key: string, value: unknown) => unknown): string;
  parse(text: string): unknown;
}
declare var JSON: JSON;

interface Error {
  name: string;
  message: string;
  stack?: string;
}
interface ErrorConstructor {
  new (message?: string): Error;
  readonly prototype: Error;
}
declare var Error: ErrorConstructor;

interface ObjectConstructor {
  keys(o: object): string[];
  create(proto: object | null): object;
  getPrototypeOf(o: object): object | null;
  defineProperty<T>(o: T, key: string, attributes: { value?: unknown; enumerable?: boolean; writable?: boolean; configurable?: boolean }): T;
  readonly prototype: { hasOwnProperty(this: unknown, key: string): boolean } & Object;
}
declare var Object: ObjectConstructor;

interface TemplateStringsArray extends ReadonlyArray<string> {
  readonly raw: readonly string[];
}

type Record<K extends keyof any, T> = { [P in K]: T };
type Partial<T> = { [P in keyof T]?: T[P] };
type Readonly<T> = { readonly [P in keyof T]: T[P] };
type Extract<T, U> = T extends U ? T : never;
type Exclude<T, U> = T extends U ? never : T;
type NonNullable<T> = T & {};

declare var Infinity: number;
declare var NaN: number;
