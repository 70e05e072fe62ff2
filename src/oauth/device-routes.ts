/**
 * @module oauth/device-routes
 * The user's side of the device authorization grant (RFC 8628 §3.3):
 *   GET  /device                               the code entry page (?user_code= fills it in: verification_uri_complete)
 *   POST /device                               the typed code: on to its interaction, or the page again saying it is wrong
 *   GET  /oauth/interaction/{id}               (authorize-routes.ts) a device interaction's login or confirmation page
 *   POST /oauth/interaction/{id}/device        the confirmation's Approve / Deny (session cookie + CSRF token)
 * Login and MFA are the hosted login pages of the authorization flow, on the
 * same interaction. Code entry is same-origin only and limited per IP (and
 * per account, in the service); every code that names no pending request
 * gets the same answer.
 */
import { type Context, Hono } from "hono";
import type { AppEnv } from "../app/app-env";
import { AuthError } from "../app/errors/codes";
import { readForm } from "../app/form-body";
import { timingSafeEqualStrings } from "../lib/crypto/timing-safe";
import { unwrap } from "../lib/settled";
import { startIpRateLimit } from "../limits/rate-limit-middleware";
import { deviceAnsweredPage, deviceCodePage, deviceConfirmPage } from "../ui/device-page";
import { loginPage } from "../ui/login-page";
import type { PendingInteraction } from "./authorize/authorizer";
import type { DeviceInteraction } from "./authorize/interactions";
import { browserSession, refuseCrossSite, renderFailure } from "./hosted-page-http";

const WRONG_CODE = "That code is not right, or it has expired. Check the code on your device and try again.";
const TOO_MANY = "Too many codes entered. Wait a while and try again.";
/** Longer than any code with dashes and spaces; a longer value is shown back empty. */
const MAX_PREFILL = 32;

const toInteraction = (c: Context<AppEnv>, id: string) =>
  c.redirect(`/oauth/interaction/${encodeURIComponent(id)}`, 303);

/** A device interaction's page: the login page until the browser has a session, then the confirmation. */
export async function showDeviceInteraction(
  c: Context<AppEnv>,
  interaction: DeviceInteraction,
  client: PendingInteraction["client"],
) {
  const { services, ctx } = c.var;
  const browser = await browserSession(c);
  const confirmation = await services.oauth.deviceVerification.confirmation(interaction, client, browser, ctx.now);
  if (!confirmation) {
    // No passkey button (and so no script) on the device flow's login page yet.
    const content = { interactionId: interaction.id, clientName: client.name, email: null, error: null };
    return loginPage(c, { ...content, passkey: false });
  }
  return deviceConfirmPage(c, { interactionId: interaction.id, clientName: client.name, ...confirmation });
}

export const devicePageRoutes = new Hono<AppEnv>()
  .get("/", (c) => {
    const prefill = c.req.query("user_code") ?? "";
    return deviceCodePage(c, { userCode: prefill.length <= MAX_PREFILL ? prefill : "", error: null });
  })
  .post("/", async (c) => {
    try {
      refuseCrossSite(c);
      const gate = startIpRateLimit(c, { name: "device-code", limit: (config) => config.rateLimits.perIp.deviceCode });
      const form = await readForm(c);
      const typed = form.get("user_code") ?? "";
      const shown = typed.length <= MAX_PREFILL ? typed : "";
      try {
        unwrap(await gate);
        const { services, ctx } = c.var;
        const interaction = await services.oauth.deviceVerification.enter(typed, await browserSession(c), ctx);
        if (!interaction) return deviceCodePage(c, { userCode: shown, error: WRONG_CODE }, 400);
        return toInteraction(c, interaction.id);
      } catch (error) {
        if (!(error instanceof AuthError) || error.code !== "too_many_requests") throw error;
        if (error.retryAfterSeconds) c.header("Retry-After", String(error.retryAfterSeconds));
        return deviceCodePage(c, { userCode: shown, error: TOO_MANY }, 429);
      }
    } catch (error) {
      return renderFailure(c, error);
    }
  });

export const deviceInteractionRoutes = new Hono<AppEnv>().post("/interaction/:id/device", async (c) => {
  try {
    refuseCrossSite(c);
    const { services, ctx } = c.var;
    const { interaction, client } = await services.oauth.authorizer.pending(c.req.param("id"), ctx.now);
    if (interaction.kind !== "device") throw new AuthError("invalid_request", "this is not a device request");
    const form = await readForm(c);
    const browser = await browserSession(c);
    if (!browser) return toInteraction(c, interaction.id);
    if (!timingSafeEqualStrings(form.get("csrf_token") ?? "", browser.csrfToken)) {
      ctx.audit.record("csrf_failed", browser.session.user_id, { reason: "device form without the session's token" });
      throw new AuthError("csrf_failed", "the form is stale; go back and try again");
    }
    const decision = form.get("decision");
    if (decision !== "approve" && decision !== "deny") {
      throw new AuthError("invalid_request", "decision: approve or deny");
    }
    const approve = decision === "approve";
    const answer = await services.oauth.deviceVerification.answer(interaction, client, browser, approve, ctx);
    if (answer === "login") return toInteraction(c, interaction.id);
    return deviceAnsweredPage(c, { approved: answer === "approved", clientName: client.name });
  } catch (error) {
    return renderFailure(c, error);
  }
});
