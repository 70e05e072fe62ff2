/**
 * @module app-env
 * The Hono environment type shared by the app, middleware and routes.
 */
import type { Container } from "./container";
import type { AccessTokenClaims } from "./services/access-tokens";

export interface AppEnv {
  Bindings: Env;
  Variables: {
    services: Container;
    /** Set by requireAuth(). */
    auth: AccessTokenClaims;
    requestId: string;
  };
}
