/**
 * @module app/app
 * Builds the Hono app: global middleware, each feature's routes, and the one
 * error handler (errors/render.ts) that turns every failure into
 * {"error", "error_description"}.
 */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import { adminRoutes } from "../admin/routes";
import { apiKeyRoutes } from "../api-keys/routes";
import { magicLinkRoutes } from "../authn/magic-link-routes";
import { mfaRoutes } from "../authn/mfa-routes";
import { passkeyRoutes } from "../authn/passkey-routes";
import { loginRoutes } from "../authn/routes";
import { devRoutes } from "../dev/routes";
import { passwordResetRoutes } from "../identity/password-reset-routes";
import { accountRoutes } from "../identity/routes";
import { clientAddress } from "../lib/client-address";
import { authorizeRoutes } from "../oauth/authorize-routes";
import { consentRoutes } from "../oauth/consent-routes";
import { deviceInteractionRoutes, devicePageRoutes } from "../oauth/device-routes";
import { discoveryRoutes } from "../oauth/discovery-routes";
import { hostedLoginRoutes } from "../oauth/hosted-login-routes";
import { hostedMagicLinkRoutes } from "../oauth/hosted-magic-link-routes";
import { logoutRoutes } from "../oauth/logout-routes";
import { registrationRoutes } from "../oauth/registration-routes";
import { tokenRoutes } from "../oauth/token-routes";
import { userinfoRoutes } from "../oauth/userinfo-routes";
import { sessionRoutes } from "../sessions/routes";
import { wellKnownRoutes } from "../tokens/routes";
import type { AppEnv } from "./app-env";
import { containerFor } from "./container";
import { AuthError } from "./errors/codes";
import { renderJsonError } from "./errors/render";
import { methodsByPath } from "./method-not-allowed";
import { readyRoute } from "./readiness";
import { deferrer, type RequestMeta } from "./request-context";

/** Every route's body cap; no endpoint needs more than a few hundred bytes. */
export const BODY_LIMIT_BYTES = 16 * 1024;

// Applied only to requests whose Origin is on the allowlist (see createApp): any
// other origin gets no CORS headers at all, so the browser blocks it.
const corsForAllowedOrigins = cors({
  origin: (origin) => origin,
  credentials: true,
  allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
  allowHeaders: ["Content-Type", "Authorization", "X-CSRF-Token"],
  exposeHeaders: ["X-Request-Id", "RateLimit", "RateLimit-Policy", "Retry-After"],
  maxAge: 600,
});

const noStore: MiddlewareHandler = async (c, next) => {
  await next();
  if (!c.res.headers.has("Cache-Control")) c.header("Cache-Control", "no-store");
};

/**
 * Who sent the request. The client IP is `CF-Connecting-IP` only: Cloudflare
 * sets it and clients cannot, whereas `X-Forwarded-For` is whatever the client
 * sent. A value that is not an IP address reads as no address.
 */
function requestMeta(c: Context<AppEnv>): RequestMeta {
  const cf = (c.req.raw as Request & { cf?: { country?: string } }).cf;
  return {
    ip: clientAddress(c.req.header("CF-Connecting-IP")),
    userAgent: c.req.header("User-Agent") ?? null,
    country: typeof cf?.country === "string" ? cf.country : null,
    requestId: c.var.requestId,
  };
}

/** The services and this request's context, for everything after it. */
const requestContext: MiddlewareHandler<AppEnv> = async (c, next) => {
  const services = containerFor(c.env);
  const meta = requestMeta(c);
  const defer = deferrer((promise) => c.executionCtx.waitUntil(promise), meta.requestId);
  c.set("services", services);
  c.set("ctx", { now: Date.now(), meta, defer, audit: services.auditLog(meta, defer) });
  await next();
};

// CORS from an allowlist: listed origins get CORS headers with credentials and answered preflights.
const allowlistedCors: MiddlewareHandler<AppEnv> = async (c, next) => {
  const allowed = c.var.services.config.corsAllowedOrigins;
  const origin = c.req.header("Origin");
  // Answers differ by Origin, so shared caches must key on it (JWKS is cacheable).
  if (allowed.length > 0) c.header("Vary", "Origin", { append: true });
  if (!origin || !allowed.includes(origin)) return next();
  return corsForAllowedOrigins(c, next);
};

export function createApp() {
  const app = new Hono<AppEnv>();
  // Our own id only: an inbound X-Request-Id is ignored, so nobody can forge the
  // id that audit rows and logs are correlated by.
  app.use(requestId({ headerName: "" }));
  app.use(async (c, next) => {
    c.header("X-Request-Id", c.var.requestId);
    await next();
  });
  app.use(secureHeaders());
  app.get("/health", (c) => c.json({ status: "ok" }));
  // Before requestContext: a bad configuration must be reported, not thrown.
  app.get("/ready", readyRoute);
  app.use("*", requestContext);
  app.use("*", allowlistedCors);
  app.use(
    "*",
    bodyLimit({
      maxSize: BODY_LIMIT_BYTES,
      onError: () => {
        throw new AuthError("body_too_large", `the request body must be at most ${BODY_LIMIT_BYTES} bytes`);
      },
    }),
  );
  // Token responses and user data must never sit in a shared cache (RFC 6749 §5.1).
  app.use("/auth/*", noStore);
  app.use("/admin/*", noStore);
  app.use("/oauth/*", noStore);

  app.route("/auth/password-reset", passwordResetRoutes);
  app.route("/auth/api-keys", apiKeyRoutes);
  app.route("/auth/magic-link", magicLinkRoutes);
  app.route("/auth/passkeys", passkeyRoutes);
  app.route("/auth", accountRoutes);
  app.route("/auth", loginRoutes);
  app.route("/auth", mfaRoutes);
  app.route("/auth", sessionRoutes);
  app.route("/auth", consentRoutes);
  app.route("/.well-known", wellKnownRoutes);
  app.route("/.well-known", discoveryRoutes);
  app.route("/oauth", tokenRoutes);
  app.route("/oauth", authorizeRoutes);
  app.route("/oauth", hostedLoginRoutes);
  app.route("/oauth", deviceInteractionRoutes);
  app.route("/device", devicePageRoutes);
  app.route("/oauth", hostedMagicLinkRoutes);
  app.route("/oauth", userinfoRoutes);
  app.route("/oauth", logoutRoutes);
  app.route("/oauth", registrationRoutes);
  app.route("/admin", adminRoutes);
  app.use("/_dev/*", async (c, next) => {
    // Development routes do not exist in production: a 404 like any unknown path.
    if (c.var.services.config.environment === "production") return c.notFound();
    await next();
  });
  app.route("/_dev", devRoutes);

  const methodsOf = methodsByPath(app.routes);
  app.notFound((c) => {
    // Development routes do not exist in production, whatever the method.
    const hidden = c.req.path.startsWith("/_dev/") && c.var.services?.config.environment === "production";
    const allowed = hidden ? [] : methodsOf(c.req.path);
    if (allowed.length === 0) return c.json({ error: "not_found", error_description: "no such route" }, 404);
    c.header("Allow", allowed.join(", "));
    return renderJsonError(new AuthError("method_not_allowed", `${c.req.method} is not allowed here`), c);
  });
  app.onError(renderJsonError);
  return app;
}
