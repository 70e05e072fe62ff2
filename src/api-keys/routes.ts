/**
 * @module api-keys/routes
 *   POST   /auth/api-keys {name, scopes, expires_at?, password?, code? | recovery_code?}   201 with the key, shown once
 *   GET    /auth/api-keys                               the caller's live keys (never the secret)
 *   POST   /auth/api-keys/{id}/rotate {grace_seconds?, password?, code?}   a new secret, shown once; the
 *                                                       old one works for grace_seconds more (0 – 86400, default 0)
 *   DELETE /auth/api-keys/{id}                          revoke (another user's id: 404); exchanged tokens die too
 * A user (bearer token or cookie + CSRF) manages keys; an API key cannot mint more keys.
 * Minting or rotating one needs a fresh authentication (within 5 minutes, or `password` in
 * the body) and, with two-step login on, a current code; defaults to
 * API_KEY_DEFAULT_TTL_DAYS and mails the owner.
 */
import { Hono } from "hono";
import * as z from "zod";
import type { AppEnv } from "../app/app-env";
import { readJson } from "../app/json-body";
import { authenticate } from "../authn/authenticate-middleware";
import { secondFactorFields } from "../authn/second-factor-body";
import { freshOwner } from "../authn/step-up-http";
import { MAX_ROTATION_GRACE_SECONDS } from "./service";

const createBody = z.object({
  name: z.string().trim().min(1).max(100),
  scopes: z
    .array(
      z.string().regex(/^[a-z0-9_-]+:[a-z0-9_*-]+(@[a-z0-9_-]+)?$/, "each scope is <resource>:<action>[@condition]"),
    )
    .min(1)
    .max(64),
  expires_at: z.iso.datetime({ offset: true }).optional(),
  /** Also a signing key for HMAC-signed requests: the answer then carries `signing_secret`, once. */
  signing: z.boolean().default(false),
  /** Re-authentication, when the session's login is older than 5 minutes. */
  password: z.string().max(4096).optional(),
  ...secondFactorFields,
});

const rotateBody = z.object({
  grace_seconds: z.number().int().min(0).max(MAX_ROTATION_GRACE_SECONDS).default(0),
  password: z.string().max(4096).optional(),
  ...secondFactorFields,
});

export const apiKeyRoutes = new Hono<AppEnv>()
  .use("*", authenticate())
  .post("/", async (c) => {
    const body = await readJson(c, createBody);
    const { userId } = c.var.identity;
    const { ctx, services } = c.var;
    const owner = await freshOwner(c, body);
    const grants = await services.roles.grantsFor(userId);
    const expiresAt = body.expires_at === undefined ? null : Date.parse(body.expires_at);
    const request = { name: body.name, scopes: body.scopes, expiresAt, signing: body.signing };
    const created = await services.apiKeys.create(owner, grants, request, ctx);
    ctx.audit.record("api_key_created", userId, { key_id: created.view.id, scopes: created.view.scopes }, ctx.now);
    const signing = created.signingSecret ? { signing_secret: created.signingSecret } : {};
    return c.json({ key: created.key, ...signing, ...created.view }, 201);
  })
  .get("/", async (c) => c.json({ api_keys: await c.var.services.apiKeys.list(c.var.identity.userId) }))
  .post("/:id/rotate", async (c) => {
    const body = await readJson(c, rotateBody, { allowEmpty: true });
    const { ctx, services } = c.var;
    const owner = await freshOwner(c, body);
    const id = c.req.param("id");
    const key = await services.apiKeys.rotate(id, owner, body.grace_seconds, ctx);
    ctx.audit.record("api_key_rotated", owner.id, { key_id: id, grace_seconds: body.grace_seconds }, ctx.now);
    return c.json({ key, id });
  })
  .delete("/:id", async (c) => {
    const { userId } = c.var.identity;
    const { ctx } = c.var;
    await c.var.services.apiKeys.revoke(c.req.param("id"), userId, ctx.now);
    ctx.audit.record("api_key_revoked", userId, { key_id: c.req.param("id") }, ctx.now);
    return c.body(null, 204);
  });
