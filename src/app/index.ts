/**
 * @module app/index
 * Worker entry: the HTTP app, the cron handler, the AuthService RPC entrypoint
 * and the Durable Object classes wrangler binds.
 */
import { createApp } from "./app";
import { runScheduled } from "./scheduled";

export { NonceStore } from "../api-keys/nonce-object";
export { RateLimiter } from "../limits/rate-limiter-object";
export { AuthService } from "./auth-service";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(runScheduled(env, controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;
