/**
 * @module services/login
 * Password login with its abuse protections, in the order they must run:
 *  0. the per-IP limit (the caller's `gate`, started before the body is read);
 *  1. reserve an attempt against the account's failure budget (per normalized
 *     email, counted whether or not the account exists, so a lock reveals nothing);
 *  2. demand a CAPTCHA once the account or the IP has failed often enough;
 *  3. check the password (same work for every kind of failure);
 *  4. settle the reservation, audit, and for a new device tell the owner.
 * A lock refuses even the correct password: the point is to stop guessing.
 */

import { AuthError, invalidCredentials } from "../app/errors/codes";
import type { AuditLog } from "../audit/audit-log";
import type { AuditLogStore } from "../audit/audit-store";
import type { AccountService } from "../identity/accounts";
import type { UserRecord } from "../identity/user-store";
import { limitSubject } from "../lib/client-address";
import { deviceLabel } from "../lib/device";
import { normalizeEmail } from "../lib/email";
import { logEvent } from "../lib/log";
import type { AttemptDecision, AttemptOutcome, AttemptPolicy } from "../limits/rate-limiter-object";
import type { RateLimiterClient } from "../limits/rate-limiter-store";
import type { Mailer } from "../mail/mailer";
import { newDeviceMail } from "../mail/templates";
import type { CaptchaVerifier } from "./captcha";

export interface LoginRequest {
  email: string;
  password: string;
  captchaToken?: string;
  ip: string | null;
  userAgent: string | null;
  country: string | null;
  /** Must allow the attempt before anything else happens (the per-IP rate limit, started by the caller). */
  gate?: Promise<unknown>;
}

export interface LoginSettings {
  lockout: AttemptPolicy;
  captcha: { verifier: CaptchaVerifier | null; afterFailures: number };
  publicUrl: string;
}

/** How stale a known device's `last_seen_at` may get before a login rewrites it. */
const DEVICE_TOUCH_MS = 3_600_000;

export function accountKey(email: string): string {
  return `login:acct:${normalizeEmail(email)}`;
}

export function ipFailureKey(ip: string | null): string {
  return `login:ipfail:${limitSubject(ip)}`;
}

export class LoginService {
  readonly #accounts: AccountService;
  readonly #limiter: RateLimiterClient;
  readonly #devices: AuditLogStore;
  readonly #mailer: Mailer;
  readonly #settings: LoginSettings;

  constructor(
    accounts: AccountService,
    limiter: RateLimiterClient,
    devices: AuditLogStore,
    mailer: Mailer,
    settings: LoginSettings,
  ) {
    this.#accounts = accounts;
    this.#limiter = limiter;
    this.#devices = devices;
    this.#mailer = mailer;
    this.#settings = settings;
  }

  /**
   * Checks the credentials under all protections, then hands the user to
   * `startSession` (token response or cookie session: the caller's choice).
   * `background` runs work after the response (ctx.waitUntil).
   */
  async login<T>(
    request: LoginRequest,
    audit: AuditLog,
    now: number,
    background: (work: Promise<unknown>) => void,
    startSession: (user: UserRecord) => Promise<T>,
  ): Promise<T> {
    const { lockout, captcha } = this.#settings;
    // Nothing happens before the per-IP check has passed: past the limit a
    // request costs no D1 read and no reservation. Then the account is read
    // beside the reservation (a read with no effect).
    await request.gate;
    const found = this.#accounts.findLoginUser(request.email);
    found.catch(() => {}); // observed below; a refused reservation must not leave it unhandled
    const account = accountKey(request.email);
    const ip = ipFailureKey(request.ip);
    // Failed logins per IP only matter for the CAPTCHA; they never lock.
    const ipPolicy = { ...lockout, maxFailures: Number.MAX_SAFE_INTEGER };
    const [accountAttempt, ipAttempt] = await Promise.allSettled([
      this.#limiter.reserve(account, lockout, now),
      captcha.verifier ? this.#limiter.reserve(ip, ipPolicy, now) : Promise.resolve(null),
    ]);
    const settle = async (outcome: AttemptOutcome) => {
      await Promise.all([
        accountAttempt.status === "fulfilled" ? accountAttempt.value.settle(outcome) : null,
        // A success releases the IP's reservation without wiping its failures: logging
        // in to one's own account must not buy more CAPTCHA-free guesses at others.
        ipAttempt.status === "fulfilled" ? ipAttempt.value?.settle(outcome === "success" ? "abandon" : outcome) : null,
      ]);
    };

    if (accountAttempt.status === "rejected" || ipAttempt.status === "rejected") {
      await settle("abandon").catch(() => {});
      throw accountAttempt.status === "rejected" ? accountAttempt.reason : (ipAttempt as PromiseRejectedResult).reason;
    }
    const attempt = accountAttempt.value.decision;
    const ipDecision = ipAttempt.value?.decision ?? null;
    if (!attempt.allowed) {
      await settle("abandon").catch(() => {});
      audit.record("login_locked", null, { account_key: account, locked: attempt.locked }, now);
      throw tooManyRequests(attempt.retryAfterMs);
    }

    try {
      // Pending attempts count as possible failures: a burst of parallel guesses
      // meets the CAPTCHA as soon as the burst itself reaches the threshold.
      const seen = (decision: AttemptDecision | null) => (decision ? decision.failures + decision.pending : 0);
      if (captcha.verifier && Math.max(seen(attempt), seen(ipDecision)) >= captcha.afterFailures) {
        const solved = request.captchaToken ? await captcha.verifier.verify(request.captchaToken, request.ip) : false;
        if (!solved) {
          audit.record(
            "captcha_failed",
            null,
            { account_key: account, token_present: Boolean(request.captchaToken) },
            now,
          );
          throw new AuthError(
            401,
            "captcha_required",
            "too many failed attempts: solve the CAPTCHA and send its token as captcha_token",
          );
        }
      }
      const check = await this.#accounts.checkCredentials(request.email, request.password, now, found);
      if (!check.ok) {
        await settle("failure");
        audit.record("login_failed", check.userId, { reason: check.reason }, now);
        throw invalidCredentials();
      }
      const { user } = check;
      if (user.email_verified_at === null) {
        await settle("success");
        audit.record("login_failed", user.id, { reason: "email_not_verified" }, now);
        throw new AuthError(403, "email_not_verified", "verify your email address before logging in");
      }
      // Off the response path: a success only relaxes the budget (frees the
      // reservation, forgets failures), and relaxing it a moment late is safe.
      // Failures, by contrast, are settled before the answer.
      background(
        settle("success").catch((error: unknown) => {
          logEvent("error", "login_settle_failed", { error: String(error) });
        }),
      );
      const session = await startSession(user);
      // Off the response path: the audit row, the device check and the owner's
      // notice must not slow down their login.
      background(this.#recordSuccess(user.id, user.email, request, audit, now));
      return session;
    } catch (error) {
      // Anything but a settled outcome (CAPTCHA missing, storage error) gives the
      // reservations back: they neither count as failures nor block the budget.
      const settled =
        error instanceof AuthError && (error.code === "invalid_credentials" || error.code === "email_not_verified");
      if (!settled) await settle("abandon").catch(() => {});
      throw error;
    }
  }

  /**
   * Audits the login and records its device (one D1 batch); mails the owner when
   * the device was not seen before (but not for their very first one).
   */
  async #recordSuccess(userId: string, email: string, request: LoginRequest, audit: AuditLog, now: number) {
    const device = deviceLabel(request.userAgent, request.country);
    let seen: { isNew: boolean; hadDevices: boolean };
    try {
      seen = await this.#devices.recordLogin(audit.entry("login_succeeded", userId, {}, now), device, DEVICE_TOUCH_MS);
    } catch (error) {
      // The audit row must not depend on the device bookkeeping: write it alone.
      logEvent("error", "login_record_failed", { user_id: userId, error: String(error) });
      audit.record("login_succeeded", userId, {}, now);
      return;
    }
    if (!seen.isNew || !seen.hadDevices) return;
    audit.record("new_device_login", userId, { device }, now);
    try {
      await this.#mailer.send(newDeviceMail(email, this.#settings.publicUrl, device, request.ip, now));
    } catch (error) {
      // The login itself succeeded; a failed notice is logged, not surfaced.
      logEvent("error", "new_device_notice_failed", { user_id: userId, error: String(error) });
    }
  }
}

export function tooManyRequests(retryAfterMs: number): AuthError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new AuthError(429, "too_many_requests", "too many attempts; try again later", {
    headers: { "Retry-After": String(seconds) },
  });
}
