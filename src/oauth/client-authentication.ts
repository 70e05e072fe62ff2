/**
 * @module oauth/client-authentication
 * `ClientAuthentication`: authenticates the client of a token, revocation or
 * introspection request, under a failure budget per client id and IP in the
 * RateLimiter (secrets are 256 bits, so the budget is there to stop noise
 * and make guessing visible, not because guessing could work). The budget is
 * per client *and* IP so that nobody can lock a client out everywhere by
 * failing on purpose.
 */
import { AuthError, tooManyRequests } from "../app/errors/codes";
import type { RequestContext } from "../app/request-context";
import { limitSubject } from "../lib/client-address";
import type { AttemptPolicy } from "../limits/policies";
import type { RateLimiterStore } from "../limits/rate-limiter-store";
import type { ClientCredentials } from "./client-credentials";
import type { ClientRecord } from "./clients/client-store";
import type { OAuthClients } from "./clients/clients";

export const CLIENT_FAILURE_POLICY: AttemptPolicy = {
  maxFailures: 10,
  windowMs: 15 * 60_000,
  baseLockMs: 1000,
  maxLockMs: 15 * 60_000,
  // Secrets are 256 bits: only settled failures count, so a busy client is never refused for being busy.
  countInFlight: false,
};

export interface ClientAuthenticationOptions {
  clients: OAuthClients;
  limiter: RateLimiterStore;
}

export class ClientAuthentication {
  readonly #o: ClientAuthenticationOptions;

  constructor(options: ClientAuthenticationOptions) {
    this.#o = options;
  }

  async authenticate(credentials: ClientCredentials, ctx: RequestContext): Promise<ClientRecord> {
    const key = `oauth-client:${credentials.clientId.slice(0, 64)}:ip:${limitSubject(ctx.meta.ip)}`;
    const attempt = await this.#o.limiter.reserve(key, CLIENT_FAILURE_POLICY, ctx.now);
    if (!attempt.decision.allowed) {
      const { refusedInARow } = attempt.decision;
      ctx.audit.recordRefusal("oauth_client_locked", refusedInARow, { client_id: credentials.clientId }, ctx.now);
      throw tooManyRequests(attempt.decision.retryAfterMs);
    }
    try {
      const client = await this.#o.clients.authenticate(credentials);
      ctx.defer(attempt.settle("success"), "client_auth_settle");
      return client;
    } catch (error) {
      // Only a wrong credential counts; an outage gives the attempt back.
      const wrong = error instanceof AuthError && error.code === "invalid_client";
      await attempt.settle(wrong ? "failure" : "abandon");
      if (!wrong) throw error;
      ctx.audit.record("oauth_client_auth_failed", null, { client_id: credentials.clientId.slice(0, 64) }, ctx.now);
      throw error;
    }
  }
}
