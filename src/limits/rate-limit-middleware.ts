/**
 * @module middleware/rate-limit
 * `rateLimit(options)`: a per-client-IP limit for one route, counted in the
 * RateLimiter Durable Object. The client IP is `CF-Connecting-IP` only: Cloudflare
 * sets it and clients cannot, whereas `X-Forwarded-For` is whatever the client sent.
 * Answers carry the IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers);
 * over the limit: 429 too_many_requests with Retry-After.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app/app-env";
import type { Config } from "../app/config";
import { tooManyRequests } from "../authn/login-flow";
import { limitSubject } from "../lib/client-address";

export interface RateLimitOptions {
  /** Names the counter and the policy in headers, e.g. "login". */
  name: string;
  /** Requests allowed per window for one IP, from config. */
  limit: (config: Config) => number;
}

export function clientIp(c: Context): string | null {
  return c.req.header("CF-Connecting-IP")?.trim() || null;
}

export function rateLimit(options: RateLimitOptions) {
  return createMiddleware<AppEnv>(async (c, next) => {
    await ipRateLimit(c, options);
    await next();
  });
}

/**
 * Starts the check behind `rateLimit()` for a handler that overlaps it with its
 * own work (refresh, login): the handler must await the promise before its
 * answer can depend on anything the limit protects. A rejection is marked as
 * observed here, so an early exit (a bad body) leaves no unhandled rejection.
 */
export function startIpRateLimit(c: Context<AppEnv>, options: RateLimitOptions): Promise<void> {
  const gate = ipRateLimit(c, options);
  gate.catch(() => {});
  return gate;
}

/**
 * The check itself. Allowed: the RateLimit headers are set on whatever the
 * handler answers. Refused: throws 429 too_many_requests.
 */
async function ipRateLimit(c: Context<AppEnv>, options: RateLimitOptions): Promise<void> {
  const { config, limiter } = c.var.services;
  const policy = { limit: options.limit(config), windowMs: config.rateLimits.windowMs };
  const key = `${options.name}:ip:${limitSubject(clientIp(c))}`;
  const decision = await limiter.consume(key, policy, Date.now());
  const window = Math.ceil(policy.windowMs / 1000);
  const headers = {
    "RateLimit-Policy": `"${options.name}";q=${policy.limit};w=${window}`,
    RateLimit: `"${options.name}";r=${decision.remaining};t=${Math.ceil(decision.resetMs / 1000)}`,
  };
  if (!decision.allowed) {
    c.var.audit.record("rate_limited", null, { limit: options.name, key });
    const error = tooManyRequests(decision.retryAfterMs);
    Object.assign(error.headers, headers);
    throw error;
  }
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
}
