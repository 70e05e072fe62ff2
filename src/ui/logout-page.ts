/**
 * @module ui/logout-page
 * The logout confirmation (when the request cannot prove it comes from the
 * user's own app) and the "you are logged out" page.
 */
import type { Context } from "hono";
import { escapeHtml } from "../lib/html";
import { layout, PAGE_STYLE } from "./layout";
import { setPageHeaders } from "./strict-page";

export async function logoutConfirmPage(
  c: Context,
  content: { query: string; clientName: string | null; csrfToken: string; redirectOrigin: string | null },
) {
  const formAction = ["'self'", ...(content.redirectOrigin ? [content.redirectOrigin] : [])];
  await setPageHeaders(c, { style: PAGE_STYLE, formAction });
  const from = content.clientName ? ` from <strong>${escapeHtml(content.clientName)}</strong>` : "";
  const action = `/oauth/logout${content.query}`;
  const body = `<h1>Log out?</h1>
<p>A request${from} asks to end your session here.</p>
<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(content.csrfToken)}">
<button type="submit">Log out</button>
</form>`;
  return c.html(layout("Log out?", body));
}

export async function loggedOutPage(c: Context) {
  await setPageHeaders(c, { style: PAGE_STYLE });
  return c.html(layout("Logged out", "<h1>You are logged out</h1><p>You can close this window.</p>"));
}
