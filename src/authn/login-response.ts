/**
 * @module authn/login-response
 * What every JSON login route (password, magic link, passkey) answers: the
 * session or token response, or, when the account needs a second factor,
 * 401 `mfa_required` with the `mfa_token` that /auth/mfa/verify completes.
 * The token is bound to how the login asked to end (mode, remember-me, device).
 */
import type { Context } from "hono";
import type { AppEnv } from "../app/app-env";
import type { SecondFactorRequired } from "./types";

export interface LoginBinding {
  mode: "token" | "cookie";
  rememberMe: boolean;
}

export async function loginResponse<T extends object>(
  c: Context<AppEnv>,
  outcome: T | SecondFactorRequired,
  binding: LoginBinding,
): Promise<Response> {
  if (!("kind" in outcome && outcome.kind === "second_factor_required")) return c.json(outcome);
  const { services, ctx } = c.var;
  // The first factor was right; nothing is issued until the second factor is too.
  const pending = { ...binding, userAgent: ctx.meta.userAgent };
  const mfaToken = await services.mfa.pendingLogins.begin(outcome.firstFactor, pending, ctx.now);
  return c.json(
    {
      error: "mfa_required",
      error_description: "send a code from the authenticator app (or a recovery code) to /auth/mfa/verify",
      mfa_token: mfaToken,
      methods: outcome.methods,
    },
    401,
  );
}
