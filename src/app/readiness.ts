/**
 * @module app/readiness
 * `GET /ready`: whether this Worker can serve, as opposed to `/health` (is it
 * running at all). Checks, in parallel and each within READINESS_TIMEOUT_MS:
 * the configuration parses (vars and secrets), D1 answers a query on its
 * schema, both KV namespaces answer a read, and both Durable Object classes
 * answer a call. 200 when every check is ok, 503 otherwise. The caller sees
 * only each check's name, ok/failed and its time in ms: no secret, no setting
 * name, no error text. What failed and why goes to the log (one JSON line per
 * failed check).
 */
import type { Context } from "hono";
import { getConfig } from "./config";

export const READINESS_TIMEOUT_MS = 2_000;
/** A key no code writes: reading it proves the namespace answers. */
const PROBE_KEY = "readiness-probe";

export type CheckStatus = "ok" | "failed";
export interface CheckResult {
  status: CheckStatus;
  ms: number;
}
export interface Readiness {
  status: "ready" | "not_ready";
  checks: Record<string, CheckResult>;
}

/** Each check resolves when its dependency answered and throws (or hangs) when it did not. */
function checksFor(env: Env): Record<string, () => Promise<unknown>> {
  return {
    config: async () => getConfig(env),
    d1: () => env.DB.prepare("SELECT 1 FROM users LIMIT 1").all(),
    kv_tokens: () => env.TOKENS.get(PROBE_KEY),
    kv_revocations: () => env.REVOCATIONS.get(PROBE_KEY),
    durable_object_rate_limiter: () => env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(PROBE_KEY)).ping(),
    durable_object_nonce_store: () => env.NONCES.get(env.NONCES.idFromName(PROBE_KEY)).ping(),
  };
}

async function timed(name: string, check: () => Promise<unknown>): Promise<CheckResult> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(check),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${READINESS_TIMEOUT_MS} ms`)),
          READINESS_TIMEOUT_MS,
        );
      }),
    ]);
    return { status: "ok", ms: elapsed(started) };
  } catch (error) {
    // ConfigError messages name the bad settings, never their values.
    console.error(
      JSON.stringify({ level: "error", event: "readiness_check_failed", check: name, error: String(error) }),
    );
    return { status: "failed", ms: elapsed(started) };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

function elapsed(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

export async function checkReadiness(env: Env): Promise<Readiness> {
  const entries = await Promise.all(
    Object.entries(checksFor(env)).map(async ([name, check]) => [name, await timed(name, check)] as const),
  );
  const checks = Object.fromEntries(entries);
  const ready = entries.every(([, result]) => result.status === "ok");
  return { status: ready ? "ready" : "not_ready", checks };
}

export async function readyRoute(c: Context<{ Bindings: Env }>): Promise<Response> {
  const readiness = await checkReadiness(c.env);
  c.header("Cache-Control", "no-store");
  return c.json(readiness, readiness.status === "ready" ? 200 : 503);
}
