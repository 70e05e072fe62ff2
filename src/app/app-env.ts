/**
 * @module app/app-env
 * The Hono environment type shared by the app, middleware and routes.
 */
import type { Identity } from "../authn/authenticate-middleware";
import type { Container } from "./container";
import type { RequestContext } from "./request-context";

export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** The services (never stores) routes call. */
    services: Container;
    /** Set by authenticate(). */
    identity: Identity;
    requestId: string;
    /** This request's clock, client, audit log and deferred work. */
    ctx: RequestContext;
  };
}
