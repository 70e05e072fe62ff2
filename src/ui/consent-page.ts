/**
 * @module ui/consent-page
 * The consent page: which client (its name, logo, and the host it will send
 * the browser back to), what it asks for in words, Allow / Deny. The form
 * carries the session's CSRF token; its answer redirects to the client, so
 * the client's origin is allowed in form-action.
 */
import type { Context } from "hono";
import { escapeHtml } from "../lib/html";
import { layout, PAGE_STYLE } from "./layout";
import { setPageHeaders } from "./strict-page";

export interface ConsentPageContent {
  interactionId: string;
  clientName: string;
  logoUri: string | null;
  policyUri: string | null;
  redirectUri: string;
  scopes: string[];
  userEmail: string;
  csrfToken: string;
}

const SCOPE_WORDS: Record<string, string> = {
  openid: "Know who you are (your account id)",
  profile: "See your basic profile",
  email: "See your email address",
  offline_access: "Stay signed in when you are not using it",
};

/** A scope in words; a permission scope reads as what it allows. */
export function scopeInWords(scope: string): string {
  const known = SCOPE_WORDS[scope];
  if (known) return known;
  const [resource, action] = scope.split(":");
  return `${action ?? scope} your ${resource ?? scope} (${scope})`;
}

export async function consentPage(c: Context, content: ConsentPageContent) {
  const redirect = new URL(content.redirectUri);
  await setPageHeaders(c, { style: PAGE_STYLE, formAction: ["'self'", redirect.origin] });
  const action = `/oauth/interaction/${encodeURIComponent(content.interactionId)}/consent`;
  const logo = content.logoUri ? `<img src="${escapeHtml(content.logoUri)}" alt="">` : "";
  const scopes = content.scopes.map((scope) => `<li>${escapeHtml(scopeInWords(scope))}</li>`).join("");
  const policy = content.policyUri
    ? ` <a href="${escapeHtml(content.policyUri)}" rel="noopener noreferrer">Privacy policy</a>.`
    : "";
  const body = `<div class="client">${logo}<h1>${escapeHtml(content.clientName)} wants to access your account</h1></div>
<p class="muted">Signed in as ${escapeHtml(content.userEmail)}</p>
${scopes ? `<p>It will be able to:</p><ul class="scopes">${scopes}</ul>` : "<p>It asks for no access beyond signing you in.</p>"}
<p class="muted">After you answer you will be sent to <strong>${escapeHtml(redirect.host)}</strong>.${policy}</p>
<form method="post" action="${action}">
<input type="hidden" name="csrf_token" value="${escapeHtml(content.csrfToken)}">
<div class="row"><button type="submit" name="decision" value="deny" class="secondary">Deny</button>
<button type="submit" name="decision" value="allow">Allow</button></div>
</form>`;
  return c.html(layout(`Allow ${content.clientName}?`, body));
}
