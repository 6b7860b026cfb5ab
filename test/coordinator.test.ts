// The checkpoint coordinator in-process: a checkpoint that times out while its _metadata is
// being written ends once, abandoned, and never becomes complete behind the timeout's back.

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import type { Manifest } from "../runtime/api.js";
import { Coordinator } from "../runtime/checkpoint/coordinator.js";
import { Log } from "../runtime/log.js";
import { tempDir } from "./helpers.js";

/** How long the metadata write is held back (ms): far longer than the checkpoint's timeout. */
const HOLD_MS = 50;

vi.mock("../runtime/checkpoint/storage.js", async (importOriginal) => {
  const real = await importOriginal<typeof import("../runtime/checkpoint/storage.js")>();
  return {
    ...real,
    // The timeout fires while the checkpoint writes its _metadata.
    writeMetadataInBackground: async (...args: Parameters<typeof real.writeMetadataInBackground>) => {
      await new Promise((r) => setTimeout(r, HOLD_MS));
      return real.writeMetadataInBackground(...args);
    },
  };
});

const manifest: Manifest = { formatVersion: 1, job: "t", flowFile: "t.flow", compiler: "test", sources: [], sinks: [], operators: [], checkpoint: null, restart: null, state: null, keyGroups: 128 };

describe("the checkpoint coordinator", () => {
  it("abandons a checkpoint whose timeout passes while its _metadata is written: it ends once, and is not complete", async () => {
    const root = tempDir("flowc-coord-");
    const policy = { every: 1, mode: "exactly_once" as const, storage: root, retain: 2, timeout: 5, minPause: 0, incremental: false };
    const coord = new Coordinator(policy, root, manifest, { operators: [], positions: () => [], sinks: [] }, new Log("t", "error"), null, 1);
    await coord.start("interval");
    // Let the background write finish whatever it still does.
    await new Promise((r) => setTimeout(r, HOLD_MS * 2));
    const history = readFileSync(join(root, "history.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { id: number; status: string });
    expect(history).toEqual([expect.objectContaining({ id: 1, status: "abandoned" })]);
    expect(existsSync(join(root, "chk-000001", "_metadata"))).toBe(false);
    expect(existsSync(join(root, "chk-000001", "_metadata.tmp"))).toBe(false);
    expect(coord.latest).toBeNull();
  });

  it("completes a final checkpoint however long its _metadata takes (it is never abandoned)", async () => {
    const root = tempDir("flowc-coord-");
    const policy = { every: 1, mode: "exactly_once" as const, storage: root, retain: 2, timeout: 5, minPause: 0, incremental: false };
    const coord = new Coordinator(policy, root, manifest, { operators: [], positions: () => [], sinks: [] }, new Log("t", "error"), null, 1);
    await coord.start("final");
    const history = readFileSync(join(root, "history.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { id: number; status: string });
    expect(history).toEqual([expect.objectContaining({ id: 1, status: "completed" })]);
    expect(existsSync(join(root, "chk-000001", "_metadata"))).toBe(true);
    expect(coord.latest?.id).toBe(1);
  });
});
