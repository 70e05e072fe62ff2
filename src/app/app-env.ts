/**
 * @module app-env
 * The Hono environment type shared by the app, middleware and routes.
 */

import type { AuditLog, RequestMeta } from "../audit/audit-log";
import type { Identity } from "../authn/authenticate-middleware";
import type { Container } from "./container";

export interface AppEnv {
  Bindings: Env;
  Variables: {
    services: Container;
    /** Set by authenticate(). */
    identity: Identity;
    requestId: string;
    /** Who sent the request (IP, user agent, country, request id). */
    meta: RequestMeta;
    /** Security events for this request, written after the response. */
    audit: AuditLog;
  };
}
