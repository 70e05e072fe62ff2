/**
 * @module app/mfa-services
 * Two-step login's part of the composition root: the second factors (TOTP,
 * recovery codes), logins waiting for one, and the user's MFA settings.
 * Routes reach them as `services.mfa.*`.
 */
import { MfaLogin } from "../authn/mfa/mfa-login";
import { MfaSettings } from "../authn/mfa/mfa-settings";
import { PendingLogins } from "../authn/mfa/pending-logins";
import { RecoveryCodes } from "../authn/mfa/recovery-codes";
import { SecondFactors } from "../authn/mfa/second-factors";
import { TotpAuthenticators } from "../authn/mfa/totp";
import { Memo } from "../lib/memo";
import type { Config } from "./config";
import type { Container } from "./container";
import type { Internals } from "./internals";

export class MfaServices {
  readonly #internals: Internals;
  readonly #config: Config;
  readonly #account: Container;
  readonly #memo = new Memo();

  constructor(internals: Internals, config: Config, account: Container) {
    this.#internals = internals;
    this.#config = config;
    this.#account = account;
  }

  get factors() {
    return this.#memo.get("factors", () => {
      // Authenticator apps show this name above the codes: the deployment's host.
      const issuer = new URL(this.#config.publicUrl).host;
      const totp = new TotpAuthenticators({ store: this.#internals.totp, keyring: this.#config.mfaKeyring, issuer });
      return new SecondFactors({
        totp,
        recovery: new RecoveryCodes({ store: this.#internals.recoveryCodes }),
        budget: this.#internals.budget,
        mailer: this.#internals.mailer,
        publicUrl: this.#config.publicUrl,
      });
    });
  }

  get pendingLogins() {
    return this.#memo.get("pendingLogins", () => new PendingLogins({ secrets: this.#internals.secrets }));
  }

  get login() {
    return this.#memo.get(
      "login",
      () =>
        new MfaLogin({
          pending: this.pendingLogins,
          factors: this.factors,
          login: this.#account.login,
          users: this.#account.users,
        }),
    );
  }

  get settings() {
    return this.#memo.get(
      "settings",
      () =>
        new MfaSettings({
          users: this.#account.users,
          factors: this.factors,
          store: this.#internals.totp,
          stepUp: this.#account.stepUp,
          proof: this.#internals.proof,
          mailer: this.#internals.mailer,
          publicUrl: this.#config.publicUrl,
        }),
    );
  }
}
