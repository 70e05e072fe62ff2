/**
 * @module limits/rate-limits
 * The limits routes and services apply: per-IP limits on credential endpoints
 * (GCRA in the RateLimiter), and per-address mail quotas, so nobody floods an
 * inbox from many IPs. Refusals throw too_many_requests and are audited.
 */
import { tooManyRequests } from "../app/errors/codes";
import type { RequestContext } from "../app/request-context";
import { ipLimitKey, type MailQuotaPurpose, magicLinkCodeKey, mailQuotaKey } from "./keys";
import type { RateDecision, RatePolicy } from "./policies";
import type { RateLimiterStore } from "./rate-limiter-store";

export interface RateLimitsOptions {
  store: RateLimiterStore;
  windowMs: number;
  /** Mails one address may be sent per hour, per purpose. */
  mailsPerEmail: number;
}

export interface IpLimitDecision extends RateDecision {
  policy: RatePolicy;
  key: string;
}

const MAIL_QUOTA_WINDOW_MS = 3_600_000;

/**
 * Magic-link codes one address may have typed per day, right or wrong. Each
 * link allows 5 wrong ones, but anyone can ask for new links; this cap is what
 * bounds guessing across them (10 a day of 10^6 codes). Past it only the link works.
 */
export const MAGIC_LINK_CODES_PER_DAY = 10;
const DAY_MS = 86_400_000;

export class RateLimits {
  readonly #o: RateLimitsOptions;

  constructor(options: RateLimitsOptions) {
    this.#o = options;
  }

  /** Counts one request of `route` from `ip` against `limit` per window; the caller answers a refusal. */
  async checkIp(route: string, ip: string | null, limit: number, ctx: RequestContext): Promise<IpLimitDecision> {
    const policy = { limit, windowMs: this.#o.windowMs };
    const key = ipLimitKey(route, ip);
    const decision = await this.#o.store.consume(key, policy, Date.now());
    if (!decision.allowed) ctx.audit.recordRefusal("rate_limited", decision.refusedInARow, { limit: route, key });
    return { ...decision, policy, key };
  }

  /** Counts one typed magic-link code for `email`; false once the day's codes are spent. */
  async spendMagicLinkCode(email: string, ctx: RequestContext): Promise<boolean> {
    const policy = { limit: MAGIC_LINK_CODES_PER_DAY, windowMs: DAY_MS };
    const decision = await this.#o.store.consume(magicLinkCodeKey(email), policy, ctx.now);
    if (!decision.allowed) {
      ctx.audit.recordRefusal("rate_limited", decision.refusedInARow, { limit: "magic-link-codes-per-email" }, ctx.now);
    }
    return decision.allowed;
  }

  /** Counts one mail to `email` for `purpose`; throws too_many_requests over the hourly quota. */
  async spendMailQuota(purpose: MailQuotaPurpose, email: string, ctx: RequestContext): Promise<void> {
    const policy = { limit: this.#o.mailsPerEmail, windowMs: MAIL_QUOTA_WINDOW_MS };
    const decision = await this.#o.store.consume(mailQuotaKey(purpose, email), policy, ctx.now);
    if (!decision.allowed) {
      ctx.audit.recordRefusal("rate_limited", decision.refusedInARow, { limit: `${purpose}-per-email` }, ctx.now);
      throw tooManyRequests(decision.retryAfterMs);
    }
  }
}
