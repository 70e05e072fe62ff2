/**
 * @module dev/storage-cost
 * The probes behind the development-only cost routes (bench/): the time of one
 * password hash, and of one storage operation of each kind the hot paths use,
 * measured inside the Worker. Keys of their own (`bench:`), short-lived:
 * nothing a user stored is touched.
 */
import { hashPassword, type PasswordHashParams } from "../identity/passwords";
import type { UserStore } from "../identity/user-store";
import type { RateLimiterStore } from "../limits/rate-limiter-store";

export interface CostProbesOptions {
  limiter: RateLimiterStore;
  users: UserStore;
  kv: KVNamespace;
  db: D1Database;
  passwords: PasswordHashParams;
}

/**
 * Mean time of one call of `op`, over `count` calls in a row after one warm-up.
 * Inside a Worker the clock only moves on I/O, and every call here ends with
 * I/O, so each interval covers the call's own work and its wait.
 */
async function meanMs(count: number, op: (i: number) => Promise<unknown>): Promise<number> {
  await op(-1);
  const start = performance.now();
  for (let i = 0; i < count; i++) await op(i);
  return Math.round(((performance.now() - start) / count) * 1000) / 1000;
}

export class CostProbes {
  readonly #o: CostProbesOptions;

  constructor(options: CostProbesOptions) {
    this.#o = options;
  }

  get hashIterations(): number {
    return this.#o.passwords.iterations;
  }

  async hashPasswords(count: number): Promise<void> {
    for (let i = 0; i < count; i++) await hashPassword("benchmark password", this.#o.passwords);
  }

  async storage(count: number): Promise<Record<string, number>> {
    const { limiter, users, kv, db } = this.#o;
    const run = crypto.randomUUID();
    const kvKey = (i: number) => `bench:${run}:${i}`;
    const rate = { limit: 1_000_000, windowMs: 60_000 };
    return {
      rate_limiter_check: await meanMs(count, () => limiter.consume(`bench:ip:${run}`, rate, Date.now())),
      kv_get: await meanMs(count, (i) => kv.get(kvKey(i), "json")),
      kv_put: await meanMs(count, (i) => kv.put(kvKey(i), "{}", { expirationTtl: 60 })),
      d1_select: await meanMs(count, (i) => {
        const email = `bench-${run}-${i}@bench.invalid`;
        return users.findByEmail(email, email);
      }),
      d1_batch_of_3: await meanMs(count, () =>
        db.batch([db.prepare("SELECT 1"), db.prepare("SELECT 2"), db.prepare("SELECT 3")]),
      ),
    };
  }
}
