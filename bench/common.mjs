// Helpers shared by the benchmark runners: timing whole processes, checking outputs agree,
// bundling hand-written programs with esbuild.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, openSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

export const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, "..");
export const build = join(here, ".build");
const rssFile = join(build, "rss.txt");

/**
 * Runs `node file args` once with stdout to /dev/null: wall time (ms, node start included)
 * and peak RSS (MiB).
 */
export function timeRun(file, args = []) {
  const devnull = openSync("/dev/null", "w");
  rmSync(rssFile, { force: true });
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ["--import", join(here, "rss.mjs"), file, ...args], {
    stdio: ["ignore", devnull, "pipe"],
    env: { ...process.env, FLOWC_BENCH_RSS: rssFile },
  });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  closeSync(devnull);
  if (r.status !== 0) throw new Error(`${file} failed: ${r.stderr}`);
  return { ms, rssMb: Number(readFileSync(rssFile, "utf8")) / 1024 };
}

/** The sha256 of what `node file args` prints (both sides of a row must print the same bytes). */
export function outputHash(file, args = []) {
  const r = spawnSync(process.execPath, [file, ...args], { stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${file} failed: ${r.stderr}`);
  return { hash: createHash("sha256").update(r.stdout).digest("hex"), bytes: r.stdout.length };
}

/** Bundles a hand-written TypeScript program into one .mjs. */
export async function bundle(entry, outfile) {
  await esbuild.build({ entryPoints: [entry], outfile, bundle: true, platform: "node", format: "esm", target: "node20", logLevel: "error" });
  return outfile;
}
