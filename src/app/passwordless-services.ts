/**
 * @module app/passwordless-services
 * Passwordless login's part of the composition root: magic links and passkeys,
 * each a login method run through the account's login flow, so lockout,
 * audit and the second-factor policy apply to them as to a password.
 * Routes reach them as `services.passwordless.*`.
 */
import { MagicLinks } from "../authn/magic-links";
import { MagicLinkMethod } from "../authn/methods/magic-link";
import { PasskeyMethod } from "../authn/methods/passkey";
import { Passkeys } from "../authn/passkeys/passkeys";
import { Memo } from "../lib/memo";
import type { Config } from "./config";
import type { Container } from "./container";
import type { Internals } from "./internals";

export class PasswordlessServices {
  readonly #internals: Internals;
  readonly #config: Config;
  readonly #account: Container;
  readonly #memo = new Memo();

  constructor(internals: Internals, config: Config, account: Container) {
    this.#internals = internals;
    this.#config = config;
    this.#account = account;
  }

  /** Magic-link login: asking for a link, its page, and logging in with it. */
  get magicLinks() {
    return this.#memo.get("magicLinks", () => {
      const { passwords, publicUrl, magicLinks } = this.#config;
      const { users, login, rateLimits } = this.#account;
      const secrets = this.#internals.secrets;
      const method = new MagicLinkMethod({
        users,
        store: this.#internals.users,
        secrets,
        peppers: passwords,
        signup: () => magicLinks.signup,
        spendCodeTry: (email, ctx) => rateLimits.spendMagicLinkCode(email, ctx),
      });
      const options = { users, secrets, method, login, mailer: this.#internals.mailer };
      return new MagicLinks({ ...options, publicUrl, peppers: passwords, signup: magicLinks.signup });
    });
  }

  /** Passkeys (WebAuthn): registering, logging in, managing. */
  get passkeys() {
    return this.#memo.get("passkeys", () => {
      const store = this.#internals.passkeys;
      const rp = this.#config.passkeys;
      return new Passkeys({
        store,
        users: this.#account.users,
        secrets: this.#internals.secrets,
        login: this.#account.login,
        method: new PasskeyMethod({ store, rp }),
        rp,
      });
    });
  }
}
