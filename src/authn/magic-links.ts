/**
 * @module authn/magic-links
 * Magic-link login. Asking mails a link and a 6-digit code to an address with
 * an enabled account (or, with MAGIC_LINK_SIGNUP, to an address without one: a
 * link that creates it); every other address gets nothing, and the asker the
 * same answer. The link is issued and mailed after the response, so a known
 * address answers as fast as an unknown one. A newer link replaces the
 * address's earlier one.
 *
 * Using it (the link's token, or the address and the code) is a login through
 * the login flow, with MagicLinkMethod: the per-IP gate, the account's failure
 * budget and lock, disabled accounts, the second factor, the audit row and the
 * new-device notice apply as to a password. The session kind (and remember-me)
 * were asked for with the link and are bound into it.
 */
import { invalidGrant } from "../app/errors/codes";
import type { RequestContext } from "../app/request-context";
import type { UserRecord } from "../identity/user-store";
import type { UserService } from "../identity/users";
import { sha256Hex } from "../lib/crypto/digest";
import { isValidEmail, normalizeEmail } from "../lib/email";
import { type Settled, unwrap } from "../lib/settled";
import type { Mailer } from "../mail/mailer";
import { magicLinkMail } from "../mail/templates";
import type { OneTimeSecrets } from "../one-time-secrets/one-time-secrets";
import type { LoginFlow } from "./login-flow";
import {
  type LiveLink,
  MAGIC_LINK_TTL_MS,
  type MagicLinkMode,
  type MagicLinkPayload,
  type Peppers,
  randomCode,
  sealCode,
  subjectOf,
  TOKEN_SHAPE,
  toPayload,
} from "./magic-link-secret";
import { type MagicLinkMethod, USED_LINK } from "./methods/magic-link";
import type { AuthenticationResult, SecondFactorRequired } from "./types";

export interface MagicLinksOptions {
  users: UserService;
  secrets: OneTimeSecrets;
  method: MagicLinkMethod;
  login: LoginFlow;
  mailer: Mailer;
  publicUrl: string;
  peppers: Peppers;
  /** MAGIC_LINK_SIGNUP: an unknown address gets a link that creates its account. */
  signup: boolean;
}

/** How the login a link starts should end: asked for with the link, bound into it. */
export interface LinkBinding {
  mode: MagicLinkMode;
  rememberMe: boolean;
}

/** What asking did, for the audit log only: the asker always gets the same answer. */
export interface LinkRequested {
  kind: "login" | "signup" | "none";
  userId: string | null;
}

export type MagicLinkProofInput = { token: string } | { email: string; code: string };

export class MagicLinks {
  readonly #o: MagicLinksOptions;

  constructor(options: MagicLinksOptions) {
    this.#o = options;
  }

  /** Mails a link (after the response) if the address may have one; the caller answers the same either way. */
  async request(rawEmail: string, binding: LinkBinding, ctx: RequestContext): Promise<LinkRequested> {
    const email = normalizeEmail(rawEmail);
    const user = await this.#o.users.findByEmail(email);
    if (user) {
      if (user.disabled_at !== null) return { kind: "none", userId: user.id };
      ctx.defer(this.#send(user.email, user, binding, ctx.now), "magic_link_mail", { user_id: user.id });
      return { kind: "login", userId: user.id };
    }
    // A signup link only for an address a signup would accept.
    if (!this.#o.signup || !isValidEmail(email)) return { kind: "none", userId: null };
    ctx.defer(this.#send(email, null, binding, ctx.now), "magic_link_mail", { signup: true });
    return { kind: "signup", userId: null };
  }

  /**
   * The session kind a live link was asked for, and its address (for its page;
   * spends nothing); null when it is not live.
   */
  async describe(token: string, now: number): Promise<(LinkBinding & { email: string }) | null> {
    const link = TOKEN_SHAPE.test(token) ? await this.#byToken(token, now) : null;
    return link ? { mode: link.payload.mode, rememberMe: link.payload.remember_me, email: link.payload.email } : null;
  }

  /**
   * Logs in with a link's token, or with an address and the code mailed to it.
   * `start` begins the session the link was asked for; a user with two-step
   * login on gets the second factor's demand instead, with the binding, as a
   * password login would.
   */
  async verify<T>(
    proof: MagicLinkProofInput,
    options: { captchaToken?: string; gate?: Promise<Settled<unknown>> },
    ctx: RequestContext,
    start: (auth: AuthenticationResult, binding: LinkBinding) => Promise<T>,
  ): Promise<{ binding: LinkBinding; outcome: T | SecondFactorRequired }> {
    // Nothing is read before the per-IP limit has passed.
    if (options.gate) unwrap(await options.gate);
    let link: LiveLink | null;
    let email: string;
    if ("token" in proof) {
      link = TOKEN_SHAPE.test(proof.token) ? await this.#byToken(proof.token, ctx.now) : null;
      // 256 random bits cannot be guessed: an unknown token costs the account nothing (the per-IP limit still counts).
      if (!link) throw invalidGrant(USED_LINK);
      email = link.payload.email;
    } else {
      email = normalizeEmail(proof.email);
      link = await this.#bySubject(email, ctx.now);
    }
    const binding = link
      ? { mode: link.payload.mode, rememberMe: link.payload.remember_me }
      : { mode: "token" as const, rememberMe: false };
    const input = {
      link,
      proof: "token" in proof ? { kind: "token" as const } : { kind: "code" as const, code: proof.code },
    };
    const request = { email, input, captchaToken: options.captchaToken, skipCaptcha: "token" in proof };
    const outcome = await this.#o.login.login(this.#o.method, request, ctx, (auth) => start(auth, binding));
    return { binding, outcome };
  }

  async #send(email: string, user: UserRecord | null, binding: LinkBinding, now: number): Promise<void> {
    const code = randomCode();
    const payload: MagicLinkPayload = {
      email,
      signup: user === null,
      mode: binding.mode,
      remember_me: binding.rememberMe,
      code: await sealCode(code, this.#o.peppers),
    };
    const token = await this.#o.secrets.issue({
      purpose: "magic_link",
      userId: user?.id ?? null,
      subject: await subjectOf(email),
      payload: payload as unknown as Record<string, unknown>,
      ttlMs: MAGIC_LINK_TTL_MS,
      now,
    });
    const secret = { token, code, ttlMs: MAGIC_LINK_TTL_MS };
    await this.#o.mailer.send(magicLinkMail(email, this.#o.publicUrl, secret, { signup: user === null }));
  }

  async #byToken(token: string, now: number): Promise<LiveLink | null> {
    const found = await this.#o.secrets.peek(token, "magic_link", now);
    const payload = toPayload(found?.payload ?? null);
    return found && payload ? { tokenHash: await sha256Hex(token), userId: found.userId, payload } : null;
  }

  async #bySubject(email: string, now: number): Promise<LiveLink | null> {
    const found = await this.#o.secrets.findBySubject(await subjectOf(email), "magic_link", now);
    const payload = toPayload(found?.payload ?? null);
    return found && payload ? { tokenHash: found.tokenHash, userId: found.userId, payload } : null;
  }
}
