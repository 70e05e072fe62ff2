/**
 * @module dev/routes
 * Development-only routes, mounted only when ENVIRONMENT is not production:
 *   GET  /_dev/demo                           a cookie-session demo page (the browser test drives it)
 *   GET  /_dev/outbox?to=<email>              mail kept by the outbox transport
 *   POST /_dev/password-hash-cost {count}     runs `count` password hashes (for bench/)
 *   POST /_dev/verify-cost {alg, count}       verifies one access token `count` times with
 *                                             src/verify over a cached key (for bench/)
 *   POST /_dev/storage-cost {count}           times one storage operation of each kind the hot
 *                                             paths use, `count` times in a row (for bench/)
 */
import { Hono } from "hono";
import * as z from "zod";
import type { AppEnv } from "../app/app-env";
import { invalidRequest } from "../app/errors/codes";
import { readJson } from "../app/json-body";
import { demoPage } from "../ui/demo-page";
import { MAX_VERIFY_COUNT, runVerifyCost } from "./verify-cost";

export const devRoutes = new Hono<AppEnv>()
  .get("/demo", (c) => demoPage(c))
  .get("/outbox", async (c) => {
    const to = c.req.query("to");
    if (!to) throw invalidRequest("to: the recipient email is required");
    return c.json(await c.var.services.outbox.listFor(to));
  })
  .post("/password-hash-cost", async (c) => {
    const { count } = await readJson(c, z.object({ count: z.number().int().min(1).max(50) }));
    const probes = c.var.services.costProbes;
    await probes.hashPasswords(count);
    return c.json({ count, iterations: probes.hashIterations });
  })
  .post("/storage-cost", async (c) => {
    const { count } = await readJson(c, z.object({ count: z.number().int().min(1).max(200) }));
    return c.json({ count, ms: await c.var.services.costProbes.storage(count) });
  })
  .post("/verify-cost", async (c) => {
    const { alg, count } = await readJson(
      c,
      z.object({ alg: z.enum(["ES256", "EdDSA"]), count: z.number().int().min(1).max(MAX_VERIFY_COUNT) }),
    );
    const { kid } = await runVerifyCost(alg, count);
    return c.json({ alg, count, kid });
  });
