// Shared constants and the error type of bench/run.mjs.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The only address the bench ever talks to. */
export const HOST = "127.0.0.1";
/** Local persistence of every server the bench starts (D1, KV, Durable Objects, cache); deleted at the end. */
export const STATE_DIR = join(ROOT, "bench", ".state");

export class BenchError extends Error {}

export function fail(message) {
  throw new BenchError(message);
}

/** Set on SIGINT/SIGTERM: the request in flight then fails, and that is not worth reporting. */
export const run = { interrupted: false };
