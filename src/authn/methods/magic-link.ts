/**
 * @module authn/methods/magic-link
 * A mailed link, or the 6-digit code mailed with it, as a login method (amr
 * "email"): it proves control of the mailbox. The link was read before the
 * flow (MagicLinks), so this method only checks the proof and spends the link:
 *  - a code is compared in constant time; a wrong one counts against the link
 *    (the fifth ends it) and, through the flow, against the account's budget;
 *  - a disabled account fails like a wrong code, and spends nothing;
 *  - the link is spent by one guarded UPDATE: of two concurrent uses exactly
 *    one gets past it, the other is refused as a used link (invalid_grant);
 *  - a signup link creates the account (verified, without a password);
 *  - an unverified account becomes verified, and loses any password it had:
 *    that password was never proven to be the mailbox owner's.
 */
import { invalidGrant } from "../../app/errors/codes";
import type { RequestContext } from "../../app/request-context";
import type { UserRecord, UserStore } from "../../identity/user-store";
import type { UserService } from "../../identity/users";
import { sha256Hex } from "../../lib/crypto/digest";
import { randomId } from "../../lib/crypto/random";
import { emailKey } from "../../lib/email";
import { type Settled, settled, unwrap } from "../../lib/settled";
import type { OneTimeSecrets } from "../../one-time-secrets/one-time-secrets";
import { codeMatches, type LiveLink, MAGIC_LINK_AMR, MAGIC_LINK_CODE_TRIES, type Peppers } from "../magic-link-secret";
import type { LoginMethod, MethodOutcome } from "../types";

export interface MagicLinkProof {
  /** The live link the request names (by its token, or by the address typed with a code); null when none. */
  link: LiveLink | null;
  proof: { kind: "token" } | { kind: "code"; code: string };
}

export interface MagicLinkMethodOptions {
  users: UserService;
  store: UserStore;
  secrets: OneTimeSecrets;
  peppers: Peppers;
  /** MAGIC_LINK_SIGNUP now: a signup link issued while it was on creates no account once it is off. */
  signup: () => boolean;
  /** Counts a typed code against the address's daily cap; false when the day's codes are spent. */
  spendCodeTry: (email: string, ctx: RequestContext) => Promise<boolean>;
}

export const USED_LINK = "the link or code is invalid, expired or already used; ask for a new one";

export class MagicLinkMethod implements LoginMethod<MagicLinkProof, UserRecord | null> {
  readonly #o: MagicLinkMethodOptions;

  constructor(options: MagicLinkMethodOptions) {
    this.#o = options;
  }

  prepare(input: MagicLinkProof): Promise<Settled<UserRecord | null>> {
    const link = input.link;
    if (!link) return settled(Promise.resolve(null));
    // A signup link names no user: the account may have been created since, by any route.
    return settled(link.userId ? this.#o.users.findById(link.userId) : this.#o.users.findByEmail(link.payload.email));
  }

  async authenticate(
    input: MagicLinkProof,
    prepared: Promise<Settled<UserRecord | null>>,
    ctx: RequestContext,
  ): Promise<MethodOutcome> {
    const user = unwrap(await prepared);
    const { link, proof } = input;
    if (proof.kind === "code") {
      // The cap is counted before the comparison, so concurrent guesses cannot pass it.
      const email = link?.payload.email ?? user?.email;
      if (email !== undefined && !(await this.#o.spendCodeTry(email, ctx))) {
        return { ok: false, reason: "magic_link_codes_exhausted", userId: user?.id ?? link?.userId ?? null };
      }
      const right = await codeMatches(proof.code, link?.payload.code ?? null, this.#o.peppers);
      if (!link || !right) return this.#wrongCode(link, user, ctx);
    }
    if (!link) return { ok: false, reason: "no_live_link", userId: null };
    if (!user && !link.payload.signup) return { ok: false, reason: "unknown_account", userId: link.userId };
    if (user && user.disabled_at !== null) return { ok: false, reason: "disabled_account", userId: user.id };
    if (!user && !this.#o.signup()) return { ok: false, reason: "signup_disabled", userId: null };
    if (!(await this.#o.secrets.spendByHash(link.tokenHash, "magic_link", ctx.now))) throw invalidGrant(USED_LINK);
    const account = user ?? (await this.#createAccount(link.payload.email, ctx));
    if (account.disabled_at !== null) return { ok: false, reason: "disabled_account", userId: account.id };
    return {
      ok: true,
      result: { user: await this.#proveAddress(account, ctx), amr: MAGIC_LINK_AMR, authTime: ctx.now },
    };
  }

  /**
   * Counts the try against the link (the last allowed one ends it). Without a
   * link it runs the same UPDATE against a row that cannot exist, so the
   * answer takes as long whether or not the address has a live link.
   */
  async #wrongCode(link: LiveLink | null, user: UserRecord | null, ctx: RequestContext): Promise<MethodOutcome> {
    const target = link?.tokenHash ?? (await sha256Hex(`edgelock/no-link:${crypto.randomUUID()}`));
    const left = await this.#o.secrets.countFailureByHash(target, "magic_link", MAGIC_LINK_CODE_TRIES, ctx.now);
    const userId = user?.id ?? link?.userId ?? null;
    if (!link) return { ok: false, reason: "no_live_link", userId };
    return { ok: false, reason: left === 0 ? "wrong_code_link_ended" : "wrong_code", userId };
  }

  /** The account a signup link creates: verified (the link proved the address), without a password. */
  async #createAccount(email: string, ctx: RequestContext): Promise<UserRecord> {
    const id = randomId();
    const { now } = ctx;
    const inserted = await this.#o.store.insert({
      id,
      email,
      emailKey: emailKey(email),
      passwordHash: null,
      emailVerifiedAt: now,
      now,
    });
    // Taken meanwhile (another signup, another link): the link proves this address, so it signs in to that account.
    const account = inserted ? await this.#o.users.findById(id) : await this.#o.users.findByEmail(email);
    if (!account) throw invalidGrant(USED_LINK);
    if (inserted) ctx.audit.record("magic_link_signup", id, {}, now);
    return account;
  }

  /** Marks the address verified (dropping an unproven password) and ends its other verification links. */
  async #proveAddress(user: UserRecord, ctx: RequestContext): Promise<UserRecord> {
    if (user.email_verified_at !== null) return user;
    await this.#o.store.verifyByMailbox(user.id, ctx.now);
    await this.#o.secrets.revokeAll(user.id, "email_verification");
    ctx.audit.record(
      "email_verified",
      user.id,
      { by: "magic_link", password_dropped: user.password_hash !== null },
      ctx.now,
    );
    return (await this.#o.users.findById(user.id)) ?? user;
  }
}
