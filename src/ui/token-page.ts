/**
 * @module ui/token-page
 * The pages behind mailed links (verify email, reset password). Opening a link
 * spends nothing: mail scanners prefetch links. The page's button POSTs the
 * token (read from the URL by the script, never echoed into the HTML by the
 * server) as JSON, with a new password when the page asks for one.
 * Locked down by CSP: only this exact script may run, and only to 'self'.
 */
import type { Context } from "hono";
import { escapeHtml } from "../lib/html";
import { setStrictPageHeaders } from "./strict-page";

export interface TokenPage {
  title: string;
  intro: string;
  /** The JSON endpoint the button POSTs `{token}` (and `password`) to. */
  action: string;
  button: string;
  /** The password field the page asks for, if any. */
  password: { label: string; autocomplete: "new-password" | "current-password"; minLength: number } | null;
  success: string;
  failure: string;
}

function script(page: TokenPage): string {
  return `
const status = document.getElementById("status");
document.getElementById("form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = { token: new URLSearchParams(location.search).get("token") || "" };
  const password = document.getElementById("password");
  if (password) body.password = password.value;
  const response = await fetch(${JSON.stringify(page.action)}, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  status.textContent = response.ok
    ? ${JSON.stringify(page.success)}
    : ["weak_password", "invalid_credentials", "too_many_requests"].includes(answer.error)
      ? answer.error_description
      : ${JSON.stringify(page.failure)};
});`;
}

export async function tokenPage(c: Context, page: TokenPage): Promise<Response> {
  const code = script(page);
  await setStrictPageHeaders(c, code);
  // The URL holds the token: never send it onwards in a Referer.
  c.header("Referrer-Policy", "no-referrer");
  const field = page.password;
  const password = field
    ? `<label>${escapeHtml(field.label)} <input id="password" type="password" autocomplete="${field.autocomplete}" required minlength="${field.minLength}" maxlength="256"></label>`
    : "";
  return c.html(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title></head>
<body><main><h1>${escapeHtml(page.title)}</h1><p>${escapeHtml(page.intro)}</p>
<form id="form">${password}<button type="submit">${escapeHtml(page.button)}</button></form>
<p id="status" role="status"></p></main>
<script>${code}</script></body></html>`);
}

export const verifyEmailPage: TokenPage = {
  title: "Confirm your email address",
  intro: "Enter the password you chose when you signed up, then confirm. The link works only with that password.",
  action: "/auth/verify-email",
  button: "Confirm",
  password: { label: "Password", autocomplete: "current-password", minLength: 1 },
  success: "Your email address is confirmed. You can log in now.",
  failure: "This link is invalid, expired or already used.",
};

/** The reset page for a deployment whose passwords must have at least `minLength` characters. */
export function passwordResetPage(minLength: number): TokenPage {
  return {
    title: "Choose a new password",
    intro: `At least ${minLength} characters. Every session of your account will be signed out.`,
    action: "/auth/password-reset/confirm",
    button: "Set password",
    password: { label: "New password", autocomplete: "new-password", minLength },
    success: "Your password has been changed. You can log in with it now.",
    failure: "This link is invalid, expired or already used.",
  };
}
