/**
 * @module api-keys/nonce-object
 * The NonceStore Durable Object (SQLite-backed): remembers the nonces of signed
 * requests until their signatures could no longer be accepted anyway, so each
 * signature is accepted once. One object per signing key id (no global hot spot).
 * Exactly-once needs strong consistency: KV could accept a replay at another
 * location before the first use propagated.
 */
import { DurableObject } from "cloudflare:workers";

export class NonceStore extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL)");
  }

  /** Answers once the table exists, changing nothing: GET /ready's probe. */
  ping(): true {
    return true;
  }

  /** True the first time a nonce is claimed (before `expiresAt`), false for a replay. */
  claim(nonce: string, expiresAt: number, now: number): boolean {
    // Forget only what has expired by both clocks: a caller whose clock runs
    // ahead must not make us drop a nonce early.
    this.ctx.storage.sql.exec("DELETE FROM nonces WHERE expires_at <= ?", Math.min(now, Date.now()));
    const seen = this.ctx.storage.sql.exec("SELECT 1 FROM nonces WHERE nonce = ?", nonce).toArray().length > 0;
    if (seen) return false;
    this.ctx.storage.sql.exec("INSERT INTO nonces (nonce, expires_at) VALUES (?, ?)", nonce, expiresAt);
    void this.ctx.storage.setAlarm(expiresAt);
    return true;
  }

  override async alarm(): Promise<void> {
    this.ctx.storage.sql.exec("DELETE FROM nonces WHERE expires_at <= ?", Date.now());
    const next = this.ctx.storage.sql.exec<{ at: number | null }>("SELECT MIN(expires_at) AS at FROM nonces").one().at;
    if (next !== null) await this.ctx.storage.setAlarm(next);
  }
}
