/**
 * @module app
 * Builds the Hono app: global middleware, route modules, and the one error
 * handler that turns every failure into {"error", "error_description"}.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "./app-env";
import { buildContainer } from "./container";
import { AuthError, ConfigError } from "./errors";
import { authRoutes } from "./routes/auth";
import { devRoutes } from "./routes/dev";
import { wellKnownRoutes } from "./routes/well-known";

export const AUTH_BODY_LIMIT_BYTES = 16 * 1024;

export function createApp() {
  const app = new Hono<AppEnv>();

  app.use(requestId());
  app.use(secureHeaders());
  app.get("/health", (c) => c.json({ status: "ok" }));

  app.use("*", async (c, next) => {
    c.set("services", await buildContainer(c.env));
    await next();
  });
  app.use(
    "/auth/*",
    bodyLimit({
      maxSize: AUTH_BODY_LIMIT_BYTES,
      onError: () => {
        throw new AuthError(413, "invalid_request", `the request body must be at most ${AUTH_BODY_LIMIT_BYTES} bytes`);
      },
    }),
  );
  // Token responses and user data must never sit in a shared cache (RFC 6749 §5.1).
  app.use("/auth/*", async (c, next) => {
    await next();
    if (!c.res.headers.has("Cache-Control")) c.header("Cache-Control", "no-store");
  });

  app.route("/auth", authRoutes);
  app.route("/.well-known", wellKnownRoutes);
  app.use("/_dev/*", async (c, next) => {
    // Development routes do not exist in production: a 404 like any unknown path.
    if (c.var.services.config.environment === "production") return c.notFound();
    await next();
  });
  app.route("/_dev", devRoutes);

  app.notFound((c) => c.json({ error: "not_found", error_description: "no such route" }, 404));
  app.onError((error, c) => {
    const requestId = c.get("requestId");
    if (error instanceof AuthError) {
      return c.json(
        { error: error.code, error_description: error.description },
        error.status as ContentfulStatusCode,
        error.headers,
      );
    }
    if (error instanceof ConfigError) {
      console.error(
        JSON.stringify({
          level: "error",
          event: "server_misconfigured",
          request_id: requestId,
          problems: error.problems,
        }),
      );
      return c.json(
        {
          error: "server_misconfigured",
          error_description: `the server is misconfigured: ${error.problems.map((p) => p.split(" ")[0]).join(", ")}`,
        },
        500,
      );
    }
    if (error instanceof HTTPException && error.status < 500) {
      return c.json({ error: "invalid_request", error_description: error.message || "bad request" }, error.status);
    }
    // Anything else is a bug or an outage: log the cause, never echo it.
    console.error(
      JSON.stringify({
        level: "error",
        event: "unhandled_error",
        request_id: requestId,
        error: String(error),
        stack: error instanceof Error ? error.stack : undefined,
      }),
    );
    return c.json({ error: "server_error", error_description: "an unexpected error occurred" }, 500);
  });
  return app;
}
