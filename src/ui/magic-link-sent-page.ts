/**
 * @module ui/magic-link-sent-page
 * The hosted login's "Email me a link" answer: check the inbox, then either
 * open the link in this browser and continue, or type the mailed code here.
 * The code form posts to its own interaction; nothing on it runs script.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { escapeHtml } from "../lib/html";
import { layout, PAGE_STYLE } from "./layout";
import { setPageHeaders } from "./strict-page";

export interface MagicLinkSentContent {
  interactionId: string;
  clientName: string;
  email: string;
  error: string | null;
}

export async function magicLinkSentPage(
  c: Context,
  content: MagicLinkSentContent,
  status: ContentfulStatusCode = 200,
): Promise<Response> {
  await setPageHeaders(c, { style: PAGE_STYLE, formAction: ["'self'"] });
  const interaction = `/oauth/interaction/${encodeURIComponent(content.interactionId)}`;
  const error = content.error ? `<p class="error" role="alert">${escapeHtml(content.error)}</p>` : "";
  const body = `<h1>Check your inbox</h1>
<p>If an account uses <strong>${escapeHtml(content.email)}</strong>, we mailed it a sign-in link and a code (they work for 15 minutes). Enter the code to continue to <strong>${escapeHtml(content.clientName)}</strong>.</p>
${error}
<form method="post" action="${interaction}/magic-link/code">
<input type="hidden" name="email" value="${escapeHtml(content.email)}">
<label for="code">Code from the mail</label>
<input id="code" name="code" inputmode="numeric" pattern="[0-9 ]{6,7}" autocomplete="one-time-code" required maxlength="7">
<button type="submit">Continue</button>
</form>
<p class="muted">Opened the link in this browser instead? <a href="${interaction}">Continue here</a>. Nothing came? <a href="${interaction}">Go back</a> and try again, or log in with your password.</p>`;
  return c.html(layout("Check your inbox", body), status);
}
