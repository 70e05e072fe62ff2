/**
 * @module app-env
 * The Hono environment type shared by the app, middleware and routes.
 */
import type { Container } from "./container";
import type { AccessTokenClaims } from "./services/access-tokens";
import type { AuditLog, RequestMeta } from "./services/audit";

export interface AppEnv {
  Bindings: Env;
  Variables: {
    services: Container;
    /** Set by requireAuth(). */
    auth: AccessTokenClaims;
    requestId: string;
    /** Who sent the request (IP, user agent, country, request id). */
    meta: RequestMeta;
    /** Security events for this request, written after the response. */
    audit: AuditLog;
  };
}
