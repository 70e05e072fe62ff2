/**
 * @module ui/account-form-page
 * The hosted pages linked from the login page: sign up, and ask for a
 * password-reset link. Each is a form whose one script (allowed by its hash)
 * posts the fields as JSON to the API and shows the answer; the API's own
 * limits and checks apply unchanged.
 */
import type { Context } from "hono";
import { escapeHtml } from "../lib/html";
import { layout, PAGE_STYLE } from "./layout";
import { setPageHeaders } from "./strict-page";

export interface AccountFormPage {
  title: string;
  intro: string;
  /** The JSON endpoint the form posts `{email}` (and `password`) to. */
  action: string;
  button: string;
  /** A new-password field, with the deployment's minimum length; null for none. */
  newPassword: { minLength: number } | null;
  success: string;
}

/** Errors whose description is written for the user; anything else gets a generic line. */
const SHOWN_ERRORS = ["weak_password", "invalid_request", "too_many_requests"];

function script(page: AccountFormPage): string {
  return `
const status = document.getElementById("status");
document.getElementById("form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = { email: document.getElementById("email").value };
  const password = document.getElementById("password");
  if (password) body.password = password.value;
  status.className = "";
  const response = await fetch(${JSON.stringify(page.action)}, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  }).catch(() => null);
  const answer = response ? await response.json().catch(() => ({})) : {};
  if (response && response.ok) {
    status.textContent = ${JSON.stringify(page.success)};
    return;
  }
  status.className = "error";
  status.textContent = ${JSON.stringify(SHOWN_ERRORS)}.includes(answer.error)
    ? answer.error_description
    : "Something went wrong. Try again in a moment.";
});`;
}

export async function accountFormPage(c: Context, page: AccountFormPage): Promise<Response> {
  const code = script(page);
  await setPageHeaders(c, { script: code, style: PAGE_STYLE });
  const password = page.newPassword
    ? `<label for="password">Password</label>
<input id="password" type="password" autocomplete="new-password" required minlength="${page.newPassword.minLength}" maxlength="256">
<p class="muted">At least ${page.newPassword.minLength} characters.</p>`
    : "";
  const body = `<h1>${escapeHtml(page.title)}</h1><p>${escapeHtml(page.intro)}</p>
<form id="form"><label for="email">Email</label>
<input id="email" type="email" autocomplete="username" required maxlength="320">
${password}<button type="submit">${escapeHtml(page.button)}</button></form>
<p id="status" role="status"></p><script>${code}</script>`;
  return c.html(layout(page.title, body));
}

export function signupPage(minLength: number): AccountFormPage {
  return {
    title: "Create an account",
    intro: "We will mail you a link to confirm your address; then go back to the app and log in.",
    action: "/auth/signup",
    button: "Sign up",
    newPassword: { minLength },
    success: "Check your inbox: follow the link we sent to confirm your address.",
  };
}

export const resetRequestPage: AccountFormPage = {
  title: "Reset your password",
  intro: "Enter your account's address and we will mail you a link to choose a new password.",
  action: "/auth/password-reset",
  button: "Send the link",
  newPassword: null,
  success: "If an account uses that address, a link is on its way.",
};
