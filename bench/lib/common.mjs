// Shared constants and the error type of bench/run.mjs.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The only address the bench ever talks to. */
export const HOST = "127.0.0.1";
/** Everything the bench writes besides its results; deleted at the end. */
export const STATE_DIR = join(ROOT, "bench", ".state");
/**
 * A copy of the Worker sources taken at the start of the run, which the servers
 * run from: `wrangler dev` always watches its sources, and an edit to src/ during
 * a run would otherwise reload the server mid-measurement.
 */
export const TREE_DIR = join(STATE_DIR, "tree");
/** Local persistence of every server the bench starts (D1, KV, Durable Objects, cache). */
export const PERSIST_DIR = join(STATE_DIR, "persist");

export class BenchError extends Error {}

export function fail(message) {
  throw new BenchError(message);
}

/** Set on SIGINT/SIGTERM: the request in flight then fails, and that is not worth reporting. */
export const run = { interrupted: false };
