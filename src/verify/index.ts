/**
 * @module verify
 * The public entry of `edgelock/verify`: what other Workers import to check
 * edgelock access tokens at the edge. No D1, no secrets.
 */
export { VerifyError, type VerifyErrorCode } from "./errors.js";
export {
  type ApiKeyAcceptance,
  type AuthVariables,
  hasPermission,
  hasScope,
  type RequireAuthenticationOptions,
  requireAuth,
  requireAuthentication,
  requirePermission,
  requireScope,
  subjectOf,
} from "./hono.js";
export { type JwksFetcher, UNKNOWN_KID_COOLDOWN_MS } from "./jwks-cache.js";
export type { KvJsonReader } from "./kv-records.js";
export { type AclEntry, can, permissionCovers, type Resource, type Subject } from "./policy.js";
export type {
  ApiKeyCheckOptions,
  ApiKeyRefusalCode,
  EdgelockAuthService,
  RpcApiKeyResult,
  RpcVerifyResult,
  SignedRequestInput,
} from "./rpc.js";
export {
  ACCESS_TOKEN_TYP,
  type AccessTokenClaims,
  type ApiKeyClaims,
  createVerifier,
  MAX_CLOCK_TOLERANCE_SECONDS,
  type Verifier,
  type VerifierOptions,
} from "./verifier.js";
