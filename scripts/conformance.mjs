// The last step of `npm test`: the language conformance cases in ../shared/conformance,
// named one by one (only the cases whose features flowc implements). A clone without
// ../shared beside it (a user's own checkout) skips this step with one line saying so.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const runner = join(root, "..", "shared", "conformance", "run.mjs");

/** The cases `npm test` runs: every case whose features are implemented. */
export const CASES = [
  "running_sum",
  "keyed_count",
  "process_state",
  "stateless_records",
  "type_error",
  "unknown_option",
  "bad_input_fail",
  "bad_input_skip",
  "file_to_file",
  "tumbling_window",
  "outer_join",
  "count_window",
  "temporal_join",
];

if (!existsSync(runner)) {
  console.log("conformance: skipped (no ../shared/conformance beside this checkout)");
  process.exit(0);
}
const r = spawnSync(process.execPath, [runner, ...CASES], { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);
