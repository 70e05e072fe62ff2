/**
 * @module ui/mfa-page
 * The second screen of the hosted login: the code from the authenticator app,
 * or a recovery code. It posts to its own interaction with the login's
 * mfa_token; nothing on it runs script.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { escapeHtml } from "../lib/html";
import { layout, PAGE_STYLE } from "./layout";
import { setPageHeaders } from "./strict-page";

export interface MfaPageContent {
  interactionId: string;
  mfaToken: string;
  clientName: string;
  error: string | null;
}

export async function mfaPage(c: Context, content: MfaPageContent, status: ContentfulStatusCode = 200) {
  await setPageHeaders(c, { style: PAGE_STYLE, formAction: ["'self'"] });
  const action = `/oauth/interaction/${encodeURIComponent(content.interactionId)}/mfa`;
  const error = content.error ? `<p class="error" role="alert">${escapeHtml(content.error)}</p>` : "";
  const body = `<h1>Two-step login</h1>
<p>Enter the 6-digit code from your authenticator app to continue to <strong>${escapeHtml(content.clientName)}</strong>.</p>
${error}
<form method="post" action="${action}">
<input type="hidden" name="mfa_token" value="${escapeHtml(content.mfaToken)}">
<label for="code">Code</label>
<input id="code" name="code" inputmode="numeric" pattern="[0-9]{6}" autocomplete="one-time-code" maxlength="6">
<details><summary class="muted">Lost your authenticator?</summary>
<label for="recovery_code">Recovery code</label>
<input id="recovery_code" name="recovery_code" autocomplete="off" maxlength="64"></details>
<button type="submit">Continue</button>
</form>`;
  return c.html(layout("Two-step login", body), status);
}
