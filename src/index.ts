/**
 * @module index
 * Worker entry: the HTTP app, the cron handler and the Durable Object classes wrangler binds.
 */
import { createApp } from "./app";
import { runScheduled } from "./scheduled";

export { RateLimiter } from "./durable/rate-limiter";

const app = createApp();

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(runScheduled(env, controller.scheduledTime));
  },
} satisfies ExportedHandler<Env>;
