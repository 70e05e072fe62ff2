/**
 * @module routes/dev
 * Development-only routes, mounted only when ENVIRONMENT is not production:
 *   GET  /_dev/outbox?to=<email>          mail kept by the outbox transport
 *   POST /_dev/password-hash-cost {count} runs `count` password hashes (for bench/)
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { invalidRequest } from "../errors";
import { readJson } from "../middleware/json-body";
import { normalizeEmail } from "../services/email";
import { hashPassword } from "../services/passwords";

export const devRoutes = new Hono<AppEnv>()
  .get("/outbox", async (c) => {
    const to = c.req.query("to");
    if (!to) throw invalidRequest("to: the recipient email is required");
    return c.json(await c.var.services.outbox.listFor(normalizeEmail(to)));
  })
  .post("/password-hash-cost", async (c) => {
    const { count } = await readJson(c, z.object({ count: z.number().int().min(1).max(50) }));
    const params = c.var.services.config.passwords;
    for (let i = 0; i < count; i++) await hashPassword("benchmark password", params);
    return c.json({ count, iterations: params.iterations });
  });
