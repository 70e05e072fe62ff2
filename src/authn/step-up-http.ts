/**
 * @module authn/step-up-http
 * `freshOwner(c, body)`: the caller, once they have proved a fresh
 * authentication (a login within 5 minutes, or `password` in the body) and,
 * with two-step login on, a current code. Minting or rotating an API key and
 * registering a passkey need it: a stolen token alone must not create a
 * credential that outlives it.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app/app-env";
import { invalidToken } from "../app/errors/codes";
import { accessNotBeforeSeconds } from "../identity/users";
import { authTimeOf } from "./authenticate-middleware";
import { secondFactorProof } from "./second-factor-body";

export async function freshOwner(
  c: Context<AppEnv>,
  body: { password?: string; code?: string; recovery_code?: string },
) {
  const { identity, ctx, services } = c.var;
  await services.stepUp.require(identity.userId, authTimeOf(identity), body.password, ctx);
  const owner = await services.users.requireActive(identity.userId);
  await services.mfa.factors.stepUp(owner, secondFactorProof(body), ctx);
  // D1, not KV: a token older than a logout-all or reset proves nothing, even
  // where the revocation list has not arrived yet (it can lag a minute).
  if (identity.kind === "bearer" && identity.claims.iat < accessNotBeforeSeconds(owner)) {
    throw invalidToken("the credential has been revoked");
  }
  return owner;
}
