/**
 * @module durable/rate-limiter
 * The RateLimiter Durable Object (SQLite-backed), one instance per counter key.
 *
 * Declared now so the binding, the class and its storage migration exist from
 * the first deploy. It counts nothing yet: rate limiting and lockout arrive with
 * the abuse-protection work (README, "Not built yet"), and nothing calls it.
 */
import { DurableObject } from "cloudflare:workers";

export class RateLimiter extends DurableObject<Env> {}
