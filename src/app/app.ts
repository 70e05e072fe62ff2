/**
 * @module app
 * Builds the Hono app: global middleware, route modules, and the one error
 * handler that turns every failure into {"error", "error_description"}.
 */
import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { adminRoutes } from "../admin/routes";
import { apiKeyRoutes } from "../api-keys/routes";
import { AuditLog } from "../audit/audit-log";
import { devRoutes } from "../dev/routes";
import { passwordResetRoutes } from "../identity/password-reset-routes";
import { authRoutes } from "../identity/routes";
import { logEvent } from "../lib/log";
import { clientIp } from "../limits/rate-limit-middleware";
import { sessionRoutes } from "../sessions/routes";
import { wellKnownRoutes } from "../tokens/routes";
import type { AppEnv } from "./app-env";
import { buildContainer } from "./container";
import { AuthError, ConfigError } from "./errors/codes";

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

  app.use("*", async (c, next) => {
    const services = await buildContainer(c.env);
    const cf = (c.req.raw as Request & { cf?: { country?: string } }).cf;
    const meta = {
      ip: clientIp(c),
      userAgent: c.req.header("User-Agent") ?? null,
      country: typeof cf?.country === "string" ? cf.country : null,
      requestId: c.var.requestId,
    };
    c.set("services", services);
    c.set("meta", meta);
    c.set("audit", new AuditLog(services.auditLog, meta, (promise) => c.executionCtx.waitUntil(promise)));
    await next();
  });
  // CORS from an allowlist: listed origins get CORS headers with credentials and
  // answered preflights.
  app.use("*", async (c, next) => {
    const allowed = c.var.services.config.corsAllowedOrigins;
    const origin = c.req.header("Origin");
    // Answers differ by Origin, so shared caches must key on it (JWKS is cacheable).
    if (allowed.length > 0) c.header("Vary", "Origin", { append: true });
    if (!origin || !allowed.includes(origin)) return next();
    return corsForAllowedOrigins(c, next);
  });
  app.use(
    "*",
    bodyLimit({
      maxSize: BODY_LIMIT_BYTES,
      onError: () => {
        throw new AuthError(413, "invalid_request", `the request body must be at most ${BODY_LIMIT_BYTES} bytes`);
      },
    }),
  );
  // Token responses and user data must never sit in a shared cache (RFC 6749 §5.1).
  app.use("/auth/*", noStore);
  app.use("/admin/*", noStore);

  app.route("/auth/password-reset", passwordResetRoutes);
  app.route("/auth/api-keys", apiKeyRoutes);
  app.route("/auth", authRoutes);
  app.route("/auth", sessionRoutes);
  app.route("/.well-known", wellKnownRoutes);
  app.route("/admin", adminRoutes);
  app.use("/_dev/*", async (c, next) => {
    // Development routes do not exist in production: a 404 like any unknown path.
    if (c.var.services.config.environment === "production") return c.notFound();
    await next();
  });
  app.route("/_dev", devRoutes);

  app.notFound((c) => c.json({ error: "not_found", error_description: "no such route" }, 404));
  app.onError((error, c) => {
    const request_id = c.get("requestId");
    if (error instanceof AuthError) {
      if (error.status >= 500) {
        logEvent("error", error.code, { request_id, cause: String(error.cause) });
      }
      return c.json(
        { error: error.code, error_description: error.description },
        error.status as ContentfulStatusCode,
        error.headers,
      );
    }
    if (error instanceof ConfigError) {
      logEvent("error", "server_misconfigured", { request_id, problems: error.problems });
      const names = error.problems.map((problem) => problem.split(" ")[0]).join(", ");
      return c.json({ error: "server_misconfigured", error_description: `the server is misconfigured: ${names}` }, 500);
    }
    if (error instanceof HTTPException && error.status < 500) {
      return c.json({ error: "invalid_request", error_description: error.message || "bad request" }, error.status);
    }
    // Anything else is a bug or an outage: log the cause, never echo it.
    logEvent("error", "unhandled_error", {
      request_id,
      error: String(error),
      stack: error instanceof Error ? error.stack : undefined,
    });
    return c.json({ error: "server_error", error_description: "an unexpected error occurred" }, 500);
  });
  return app;
}
