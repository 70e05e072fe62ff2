/**
 * @module index
 * Worker entry: the HTTP app and the Durable Object classes wrangler binds.
 */
import { createApp } from "./app";

export { RateLimiter } from "./durable/rate-limiter";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
