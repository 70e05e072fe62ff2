/**
 * @module verify/errors
 * Typed verification failures with a stable `code`, after jose's error classes.
 * `wireError` is the RFC 6750 error an API should answer with.
 */

export type VerifyErrorCode =
  | "invalid_token"
  | "token_expired"
  | "token_revoked"
  | "invalid_audience"
  | "invalid_issuer"
  | "jwks_unavailable";

export class VerifyError extends Error {
  readonly code: VerifyErrorCode;

  constructor(code: VerifyErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "VerifyError";
    this.code = code;
  }

  /** The RFC 6750 error code for the WWW-Authenticate challenge: every failure is `invalid_token` to the client. */
  get wireError(): "invalid_token" {
    return "invalid_token";
  }
}
