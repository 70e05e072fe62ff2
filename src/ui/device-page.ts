/**
 * @module ui/device-page
 * The device grant's pages (RFC 8628 §3.3): where the user types the code a
 * device shows (filled in when they came by verification_uri_complete); the
 * confirmation that names the client, the scopes and the code and asks
 * whether the user started this on their own device (§5.4), Approve / Deny;
 * and the page after the answer. Forms post to our own origin only (the
 * answer is a page, never a redirect); nothing on them runs script.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { escapeHtml } from "../lib/html";
import { scopeInWords } from "./consent-page";
import { layout, PAGE_STYLE } from "./layout";
import { setPageHeaders } from "./strict-page";

export interface DeviceCodePageContent {
  /** What goes in the field: the code from verification_uri_complete, or what the user typed. */
  userCode: string;
  error: string | null;
}

export async function deviceCodePage(c: Context, content: DeviceCodePageContent, status: ContentfulStatusCode = 200) {
  await setPageHeaders(c, { style: PAGE_STYLE, formAction: ["'self'"] });
  const error = content.error ? `<p class="error" role="alert">${escapeHtml(content.error)}</p>` : "";
  const body = `<h1>Connect a device</h1>
<p>Enter the code your device shows (a terminal, a TV, an app).</p>
${error}
<form method="post" action="/device">
<label for="user_code">Code</label>
<input id="user_code" name="user_code" required maxlength="32" autocomplete="off" autocapitalize="characters" spellcheck="false" placeholder="XXXX-XXXX" aria-describedby="user_code_hint" value="${escapeHtml(content.userCode)}">
<p id="user_code_hint" class="muted">8 letters. Upper or lower case, dashes and spaces do not matter.</p>
<button type="submit">Continue</button>
</form>`;
  return c.html(layout("Connect a device", body), status);
}

export interface DeviceConfirmPageContent {
  interactionId: string;
  clientName: string;
  userCode: string;
  scopes: string[];
  userEmail: string;
  csrfToken: string;
}

export async function deviceConfirmPage(c: Context, content: DeviceConfirmPageContent) {
  await setPageHeaders(c, { style: PAGE_STYLE, formAction: ["'self'"] });
  const action = `/oauth/interaction/${encodeURIComponent(content.interactionId)}/device`;
  const client = escapeHtml(content.clientName);
  const scopes = content.scopes.map((scope) => `<li>${escapeHtml(scopeInWords(scope))}</li>`).join("");
  const body = `<h1>Connect ${client} to your account?</h1>
<p class="muted">Signed in as ${escapeHtml(content.userEmail)}</p>
<p>Check that your device shows this code:</p>
<p class="code" id="user_code">${escapeHtml(content.userCode)}</p>
${scopes ? `<p>${client} will be able to:</p><ul class="scopes">${scopes}</ul>` : `<p>${client} asks for no access beyond signing you in.</p>`}
<p class="warning" role="note"><strong>Did you start this yourself, on your own device?</strong> Approve only if you ran it just now and it shows the code above. If someone sent you this link or code, choose Deny: approving would let them into your account.</p>
<form method="post" action="${action}">
<input type="hidden" name="csrf_token" value="${escapeHtml(content.csrfToken)}">
<div class="row"><button type="submit" name="decision" value="deny" class="secondary">Deny</button>
<button type="submit" name="decision" value="approve" aria-describedby="user_code">Approve</button></div>
</form>`;
  return c.html(layout(`Connect ${content.clientName}?`, body));
}

export async function deviceAnsweredPage(c: Context, content: { approved: boolean; clientName: string }) {
  await setPageHeaders(c, { style: PAGE_STYLE });
  const client = escapeHtml(content.clientName);
  const body = content.approved
    ? `<h1>Device connected</h1>
<p>${client} is signed in to your account. You can close this window and go back to your device.</p>`
    : `<h1>Request denied</h1>
<p>${client} was not connected to your account. You can close this window.</p>`;
  return c.html(layout(content.approved ? "Device connected" : "Request denied", body));
}
