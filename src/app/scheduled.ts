/**
 * @module app/scheduled
 * The cron trigger (wrangler.toml `[triggers]`): daily housekeeping, through
 * the same composition root as requests.
 */
import { containerFor } from "./container";

export async function runScheduled(env: Env, now: number): Promise<void> {
  await containerFor(env).housekeeping.run(now);
}
