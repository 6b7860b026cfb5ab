// What the dashboard costs a job that does not use it, in the same run: running_sum compiled
// by this flowc ("with"), and the same bundle without the dashboard, made by hand ("without"):
// its embedded chunk rebuilt without the page's assets (scripts/build.mjs, adminChunk({
// dashboard: false })) and the job graph's JSON text taken out of its entry.
//
//   node bench/dashboard.mjs [--starts N]
//
// Prints the sizes (bytes of the bundle; of the page's assets raw and with Brotli) and N
// cold starts of each bundle, interleaved, without flags and with `--admin-port 0` (the
// chunk inflated and evaluated, the endpoint started and closed): the best and the median.
import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { brotliCompressSync } from "node:zlib";
import { adminChunk, dashboardAssets } from "../scripts/build.mjs";
import { build, root } from "./common.mjs";

const { values } = parseArgs({ options: { starts: { type: "string" } } });
const STARTS = Number(values.starts ?? 40);
const fmt = (n) => n.toLocaleString("en-US");
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const out = join(build, "dashboard");
mkdirSync(out, { recursive: true });
execFileSync(join(root, "bin", "flowc"), ["compile", join(root, "dsl-examples", "running_sum.flow"), "-o", out], { stdio: ["ignore", "ignore", "inherit"] });
const withPath = join(out, "running_sum.mjs");
const code = readFileSync(withPath, "utf8");
const chunk = readFileSync(join(root, "build", "admin-chunk.txt"), "utf8");
if (!code.includes(chunk)) throw new Error("the bundle does not hold build/admin-chunk.txt: rebuild flowc (npm run build)");
const bare = await adminChunk({ dashboard: false });
const withoutPath = join(out, "running_sum-without.mjs");
const graph = /\n {2}graph: '[^'\n]*',?\n/;
if (!graph.test(code)) throw new Error("the bundle's entry has no job graph");
writeFileSync(withoutPath, code.replace(chunk, () => bare).replace(graph, "\n"));

const assets = await dashboardAssets();
const raw = Buffer.from(assets.html + assets.js + assets.css);
console.log("Sizes\n");
console.log("| what | bytes |\n|---|---:|");
console.log(`| the page's assets (HTML, script with the layout, CSS), minified | ${fmt(raw.length)} |`);
console.log(`| the same with Brotli (quality 11) | ${fmt(brotliCompressSync(raw).length)} |`);
console.log(`| the embedded chunk without the assets / with them (Z85 text) | ${fmt(bare.length)} / ${fmt(chunk.length)} |`);
console.log(`| running_sum.mjs without the dashboard | ${fmt(statSync(withoutPath).size)} |`);
console.log(`| running_sum.mjs with the dashboard | ${fmt(statSync(withPath).size)} |`);

/** One cold start: `node bundle args` as a new process, wall time in ms. */
function start(bundle, args) {
  const devnull = openSync("/dev/null", "w");
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [bundle, ...args], { stdio: ["ignore", devnull, "pipe"] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  closeSync(devnull);
  if (r.status !== 0) throw new Error(`${bundle} failed: ${r.stderr}`);
  return ms;
}

console.log(`\nStart-up of running_sum (${STARTS} cold starts each, interleaved)\n`);
console.log("| bundle | flags | best | median |\n|---|---|---:|---:|");
const sides = [
  ["without the dashboard", withoutPath],
  ["with the dashboard", withPath],
];
for (const args of [[], ["--admin-port", "0"]]) {
  const ms = sides.map(() => []);
  for (const [, b] of sides) start(b, args); // the file cache warm for both
  for (let i = 0; i < STARTS; i++) sides.forEach(([, b], s) => ms[s].push(start(b, args)));
  sides.forEach(([name], s) => console.log(`| ${name} | ${args.join(" ") || "none"} | ${Math.min(...ms[s]).toFixed(1)} ms | ${median(ms[s]).toFixed(1)} ms |`));
}
