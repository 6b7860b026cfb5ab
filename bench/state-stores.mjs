// The disk state backend's store, chosen by measurement: two embedded key-value stores with a
// synchronous read path, on the access pattern of runtime/state/disk (bench/README.md,
// "State on disk: choosing the store").
//
//   node bench/state-stores.mjs [--keys N] [--modules <folder with node_modules>]
//
// The pattern: per-key state of ~20 bytes under short string keys; a miss of the cache is
// one synchronous point read; evicted and checkpointed keys are written back in batches of
// 10,000 in one transaction (no fsync: the checkpoints are what is durable);
// a savepoint reads every key in order. Each candidate, in a new folder:
//   1. load: N new keys, written in batches;
//   2. random reads: N point reads of uniformly random keys;
//   3. read-modify-write: N random keys read, changed and written back in batches;
//   4. scan: every key in key order;
//   and the size of its files.
// lmdb is a dependency of flowc; better-sqlite3 is not (it has to be compiled here): install
// it beside, e.g. `mkdir /tmp/s && cd /tmp/s && npm i better-sqlite3@12 --ignore-scripts &&
// cd node_modules/better-sqlite3 && npx node-gyp rebuild --nodedir=/usr`, and pass
// `--modules /tmp/s`. A candidate that cannot be loaded is reported and left out.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { keys: { type: "string" }, modules: { type: "string" } } });
const N = Number(values.keys ?? 1_000_000);
const BATCH = Number(process.env.BATCH ?? 10_000);
const here = createRequire(import.meta.url);
const beside = values.modules ? createRequire(join(resolve(values.modules), "package.json")) : null;
const load = (name) => {
  for (const r of [here, beside]) {
    if (!r) continue;
    try {
      return r(name);
    } catch {
      // not there
    }
  }
  return null;
};

/** A deterministic random order of key indexes. */
function randomKeys(n, seed) {
  const out = new Uint32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out[i] = ((t ^ (t >>> 14)) >>> 0) % n;
  }
  return out;
}

const key = (i) => Buffer.from(`user-${i}`);
const value = (i, n) => {
  const b = Buffer.alloc(20);
  b.writeDoubleLE(i, 0);
  b.writeDoubleLE(n, 8);
  return b;
};

function du(dir) {
  let n = 0;
  // Blocks in use: a file mapped for writing (lmdb's writemap) is as long as its map, sparsely.
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) n += du(join(dir, e.name));
    else {
      const st = statSync(join(dir, e.name));
      n += Math.min(st.size, st.blocks * 512);
    }
  }
  return n;
}

/** A package's version (lmdb's package.json is not among its exports). */
function versionOf(name) {
  for (const r of [here, beside]) {
    try {
      let dir = dirname(r.resolve(name));
      while (!existsSync(join(dir, "package.json")) || JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).name !== name) dir = dirname(dir);
      return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).version;
    } catch {
      // not there
    }
  }
  return "";
}

const candidates = [];
const lmdb = load("lmdb");
if (lmdb) {
  candidates.push({
    name: `lmdb ${versionOf("lmdb")}`.trim(),
    open(dir) {
      const db = lmdb.open({ path: dir, keyEncoding: "binary", encoding: "binary", noSync: true, useWritemap: true, cache: false, mapSize: 2 ** 36 });
      return {
        get: (k) => db.getBinary(k),
        batch: (pairs) => db.transactionSync(() => {
          for (const [k, v] of pairs) db.put(k, v);
        }),
        scan: (f) => {
          for (const { key: k, value: v } of db.getRange()) f(k, v);
        },
        close: () => db.close(),
      };
    },
  });
} else process.stderr.write("lmdb: not installed\n");
const Level = load("classic-level");
if (Level) {
  candidates.push({
    name: `classic-level ${load("classic-level/package.json")?.version ?? ""} (LevelDB)`.trim(),
    async: true,
    open(dir) {
      const db = new Level.ClassicLevel(dir, { keyEncoding: "buffer", valueEncoding: "buffer", cacheSize: 64 * 2 ** 20, writeBufferSize: 32 * 2 ** 20 });
      return {
        ready: () => db.open(),
        get: (k) => db.getSync(k),
        batch: (pairs) => db.batch(pairs.map(([k, v]) => ({ type: "put", key: k, value: v }))),
        scan: async (f) => {
          for await (const [k, v] of db.iterator()) f(k, v);
        },
        close: () => db.close(),
      };
    },
  });
} else process.stderr.write("classic-level: not installed\n");
const Sqlite = load("better-sqlite3");
if (Sqlite) {
  candidates.push({
    name: `better-sqlite3 ${load("better-sqlite3/package.json")?.version ?? ""}`.trim(),
    open(dir) {
      const db = new Sqlite(join(dir, "state.db"));
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = OFF");
      db.pragma("cache_size = -65536");
      db.exec("CREATE TABLE kv (k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID");
      const get = db.prepare("SELECT v FROM kv WHERE k = ?").pluck();
      const put = db.prepare("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)");
      const all = db.prepare("SELECT k, v FROM kv ORDER BY k").raw();
      const batch = db.transaction((pairs) => {
        for (const [k, v] of pairs) put.run(k, v);
      });
      return {
        get: (k) => get.get(k),
        batch,
        scan: (f) => {
          for (const [k, v] of all.iterate()) f(k, v);
        },
        close: () => db.close(),
      };
    },
  });
} else process.stderr.write("better-sqlite3: not installed (see the header of this file)\n");

const rate = (n, ms) => Math.round((n / ms) * 1000);
const fmt = (n) => n.toLocaleString("en-US");
const rows = [];
const order = randomKeys(N, 7);
const order2 = randomKeys(N, 11);
for (const c of candidates) {
  const dir = mkdtempSync(join(tmpdir(), "flowc-store-bench-"));
  let s;
  try {
    s = c.open(dir);
  } catch (e) {
    // Installed but not loadable (a native part that was never built): left out.
    process.stderr.write(`${c.name}: cannot be loaded (${String(e.message).split("\n")[0]})\n`);
    rmSync(dir, { recursive: true, force: true });
    continue;
  }
  await s.ready?.();
  let t = performance.now();
  let pairs = [];
  for (let i = 0; i < N; i++) {
    pairs.push([key(i), value(i, 1)]);
    if (pairs.length === BATCH) {
      await s.batch(pairs);
      pairs = [];
    }
  }
  if (pairs.length) await s.batch(pairs);
  const loadMs = performance.now() - t;

  t = performance.now();
  let found = 0;
  for (let i = 0; i < N; i++) if (s.get(key(order[i]))) found++;
  const readMs = performance.now() - t;
  if (found !== N) throw new Error(`${c.name}: ${found} of ${N} keys found`);

  t = performance.now();
  pairs = [];
  for (let i = 0; i < N; i++) {
    const k = key(order2[i]);
    const v = s.get(k);
    pairs.push([k, value(v.readDoubleLE(0), v.readDoubleLE(8) + 1)]);
    if (pairs.length === BATCH) {
      await s.batch(pairs);
      pairs = [];
    }
  }
  if (pairs.length) await s.batch(pairs);
  const rmwMs = performance.now() - t;

  t = performance.now();
  let scanned = 0;
  await s.scan(() => scanned++);
  const scanMs = performance.now() - t;
  await s.close();
  const bytes = du(dir);
  rmSync(dir, { recursive: true, force: true });
  rows.push({ name: c.name, load: rate(N, loadMs), read: rate(N, readMs), rmw: rate(N, rmwMs), scan: rate(scanned, scanMs), mb: (bytes / 2 ** 20).toFixed(1) });
  process.stderr.write(`${c.name}: done\n`);
}

console.log(`\n${fmt(N)} keys, writes in batches of ${fmt(BATCH)} per transaction, no fsync (operations per second)\n`);
console.log("| store | load | random reads | read-modify-write | scan in key order | on disk |");
console.log("|---|---:|---:|---:|---:|---:|");
for (const r of rows) console.log(`| ${r.name} | ${fmt(r.load)} | ${fmt(r.read)} | ${fmt(r.rmw)} | ${fmt(r.scan)} | ${r.mb} MB |`);
