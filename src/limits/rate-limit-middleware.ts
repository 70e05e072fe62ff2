/**
 * @module limits/rate-limit-middleware
 * `rateLimit(options)`: a per-client-IP limit for one route, counted in the
 * RateLimiter Durable Object. The client IP is `CF-Connecting-IP` only
 * (RequestMeta.ip): Cloudflare sets it and clients cannot, whereas
 * `X-Forwarded-For` is whatever the client sent. Answers carry the IETF
 * RateLimit fields (draft-ietf-httpapi-ratelimit-headers); over the limit:
 * 429 too_many_requests with Retry-After.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app/app-env";
import type { Config } from "../app/config";
import { tooManyRequests } from "../app/errors/codes";
import { type Settled, settled } from "../lib/settled";

export interface RateLimitOptions {
  /** Names the counter and the policy in headers, e.g. "login". */
  name: string;
  /** Requests allowed per window for one IP, from config. */
  limit: (config: Config) => number;
}

export function rateLimit(options: RateLimitOptions) {
  return createMiddleware<AppEnv>(async (c, next) => {
    await ipRateLimit(c, options);
    await next();
  });
}

/** The outcome of a started per-IP check; it never rejects (`unwrap` rethrows a refusal). */
export type RateLimitGate = Promise<Settled<void>>;

/**
 * Starts the check behind `rateLimit()` for a handler that overlaps it with its
 * own work (refresh, login): the handler must unwrap the gate before its answer
 * can depend on anything the limit protects. As the gate never rejects, an
 * early exit (a bad body) leaves no unhandled rejection behind.
 */
export function startIpRateLimit(c: Context<AppEnv>, options: RateLimitOptions): RateLimitGate {
  return settled(ipRateLimit(c, options));
}

/**
 * The check itself. Allowed: the RateLimit headers are set on whatever the
 * handler answers. Refused: the headers are set and 429 too_many_requests is thrown.
 */
async function ipRateLimit(c: Context<AppEnv>, options: RateLimitOptions): Promise<void> {
  const { config, rateLimits } = c.var.services;
  const decision = await rateLimits.checkIp(options.name, c.var.ctx.meta.ip, options.limit(config), c.var.ctx);
  const window = Math.ceil(decision.policy.windowMs / 1000);
  c.header("RateLimit-Policy", `"${options.name}";q=${decision.policy.limit};w=${window}`);
  c.header("RateLimit", `"${options.name}";r=${decision.remaining};t=${Math.ceil(decision.resetMs / 1000)}`);
  if (!decision.allowed) throw tooManyRequests(decision.retryAfterMs);
}
