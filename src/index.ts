/**
 * @module index
 * Worker entry: the HTTP app, the cron handler, the AuthService RPC entrypoint
 * and the Durable Object classes wrangler binds.
 */
import { createApp } from "./app";
import { runScheduled } from "./scheduled";

export { NonceStore } from "./durable/nonce-store";
export { RateLimiter } from "./durable/rate-limiter";
export { AuthService } from "./rpc/auth-service";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(runScheduled(env, controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;
