/**
 * @module ui/login-page
 * The hosted login page of the authorization flow: email and password, or
 * "Email me a link" (the same form, posted to the interaction's magic-link
 * route: only the email is read there), with links to the signup and
 * password-reset pages. It posts to its own interaction; nothing on it runs script.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { escapeHtml } from "../lib/html";
import { layout, PAGE_STYLE } from "./layout";
import { setPageHeaders } from "./strict-page";

export interface LoginPageContent {
  interactionId: string;
  clientName: string;
  email: string | null;
  /** Shown above the form after a failed attempt. */
  error: string | null;
}

export async function loginPage(c: Context, content: LoginPageContent, status: ContentfulStatusCode = 200) {
  await setPageHeaders(c, { style: PAGE_STYLE, formAction: ["'self'"] });
  const interaction = `/oauth/interaction/${encodeURIComponent(content.interactionId)}`;
  const action = `${interaction}/login`;
  const linkAction = `${interaction}/magic-link`;
  const error = content.error ? `<p class="error" role="alert">${escapeHtml(content.error)}</p>` : "";
  const body = `<h1>Log in</h1>
<p>to continue to <strong>${escapeHtml(content.clientName)}</strong></p>
${error}
<form method="post" action="${action}">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required maxlength="320" value="${escapeHtml(content.email ?? "")}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="256">
<button type="submit">Log in</button>
<button type="submit" class="secondary" formaction="${linkAction}" formnovalidate>Email me a link instead</button>
</form>
<p class="muted"><a href="/auth/password-reset/request">Forgot your password?</a> · <a href="/auth/signup">Create an account</a></p>`;
  return c.html(layout("Log in", body), status);
}
