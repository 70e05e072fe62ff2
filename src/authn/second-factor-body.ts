/**
 * @module authn/second-factor-body
 * The second factor a JSON body may carry beside a password: `code` (TOTP)
 * or `recovery_code`, not both.
 */
import * as z from "zod";
import { invalidRequest } from "../app/errors/codes";
import type { SecondFactorProof } from "./mfa/second-factors";

export const secondFactorFields = {
  code: z.string().max(16).optional(),
  recovery_code: z.string().max(64).optional(),
};

export function secondFactorProof(body: { code?: string; recovery_code?: string }): SecondFactorProof {
  if (body.code !== undefined && body.recovery_code !== undefined) {
    throw invalidRequest("send code or recovery_code, not both");
  }
  return { code: body.code, recoveryCode: body.recovery_code };
}

/**
 * The second step of a login, where one of the two is required: a body with
 * neither is malformed (400, nothing counted), not a wrong code that would
 * cost the mfa_token a try and the account a failure.
 */
export function requiredSecondFactorProof(body: { code?: string; recovery_code?: string }): SecondFactorProof {
  const proof = secondFactorProof(body);
  if (proof.code === undefined && proof.recoveryCode === undefined) {
    throw invalidRequest("send code or recovery_code");
  }
  return proof;
}
