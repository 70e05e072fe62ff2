/**
 * @module routes/auth
 * /auth/*: signup, email verification, login, refresh, logout, logout-all, me.
 * HTTP only: parse, call a service, shape the response.
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { invalidToken } from "../errors";
import { readJson } from "../middleware/json-body";
import { requireAuth } from "../middleware/require-auth";
import { publicUser } from "../services/users";
import { verifyEmailPage } from "../ui/verify-email-page";

const credentials = z.object({ email: z.string().max(1024), password: z.string() });
const tokenBody = z.object({ token: z.string().min(1).max(512) });
const refreshBody = z.object({ refresh_token: z.string().min(1).max(512) });
const logoutBody = z.object({ refresh_token: z.string().min(1).max(512).optional() });

export const authRoutes = new Hono<AppEnv>()
  .post("/signup", async (c) => {
    const { email, password } = await readJson(c, credentials);
    const { accounts, sessions } = c.var.services;
    const now = Date.now();
    const result = await accounts.signup(email, password, now);
    if (result.kind === "verification_required") return c.json({ status: "verification_required" }, 202);
    return c.json(await sessions.start(result.user, now), 201);
  })
  // The mailed link lands here. GET must not spend the token (mail scanners
  // prefetch links), so it only serves a page whose button POSTs it.
  .get("/verify-email", (c) => verifyEmailPage(c))
  .post("/verify-email", async (c) => {
    const { token } = await readJson(c, tokenBody);
    const user = await c.var.services.accounts.verifyEmail(token, Date.now());
    return c.json({ user: publicUser(user) });
  })
  .post("/login", async (c) => {
    const { email, password } = await readJson(c, credentials);
    const { accounts, sessions } = c.var.services;
    const now = Date.now();
    const user = await accounts.authenticate(email, password, now);
    return c.json(await sessions.start(user, now));
  })
  .post("/refresh", async (c) => {
    const { refresh_token } = await readJson(c, refreshBody);
    const onReuse = (event: { familyId: string; userId: string }) =>
      console.warn(
        JSON.stringify({
          level: "warn",
          event: "refresh_token_reuse",
          request_id: c.var.requestId,
          user_id: event.userId,
          family_id: event.familyId,
        }),
      );
    return c.json(await c.var.services.sessions.refresh(refresh_token, Date.now(), onReuse));
  })
  .post("/logout", requireAuth(), async (c) => {
    const { refresh_token } = await readJson(c, logoutBody, { allowEmpty: true });
    await c.var.services.sessions.logout(c.var.auth, refresh_token, Date.now());
    return c.body(null, 204);
  })
  .post("/logout-all", requireAuth(), async (c) => {
    await c.var.services.sessions.logoutAll(c.var.auth.sub, Date.now());
    return c.body(null, 204);
  })
  .get("/me", requireAuth(), async (c) => {
    const user = await c.var.services.users.findById(c.var.auth.sub);
    if (!user || user.disabled_at !== null)
      throw invalidToken("the access token's user no longer exists or is disabled");
    return c.json({ user: publicUser(user) });
  });
