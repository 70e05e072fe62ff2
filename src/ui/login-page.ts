/**
 * @module ui/login-page
 * The hosted login page of the authorization flow: email and password, or
 * "Email me a link" (the same form, posted to the interaction's magic-link
 * route: only the email is read there), with links to the signup and
 * password-reset pages. It posts to its own interaction. "Sign in with a
 * passkey" is the page's one script (allowed by its hash): it asks
 * /auth/passkeys/login/options, lets the browser sign with a discoverable
 * passkey, posts the assertion to /auth/passkeys/login/verify (a cookie
 * session) and goes back to the interaction, which finds the session.
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
  /** Offer "Sign in with a passkey" (default true); without it the page runs no script. */
  passkey?: boolean;
}

const PASSKEY_SCRIPT = `
const button = document.getElementById("passkey");
const status = document.getElementById("passkey-status");
const bytes = (value) => Uint8Array.from(atob(value.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
const text = (buffer) =>
  btoa(String.fromCharCode(...new Uint8Array(buffer))).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
const post = (path, body) =>
  fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
if (!window.PublicKeyCredential) button.hidden = true;
button.addEventListener("click", async () => {
  button.disabled = true;
  status.textContent = "";
  try {
    const asked = await post("/auth/passkeys/login/options", {});
    if (!asked.ok) throw new Error("options");
    const { challenge_id, options } = await asked.json();
    const credential = await navigator.credentials.get({
      publicKey: {
        challenge: bytes(options.challenge),
        rpId: options.rpId,
        timeout: options.timeout,
        userVerification: options.userVerification,
        allowCredentials: [],
      },
    });
    const r = credential.response;
    const response = {
      id: credential.id,
      rawId: text(credential.rawId),
      type: credential.type,
      response: {
        clientDataJSON: text(r.clientDataJSON),
        authenticatorData: text(r.authenticatorData),
        signature: text(r.signature),
        ...(r.userHandle ? { userHandle: text(r.userHandle) } : {}),
      },
      clientExtensionResults: credential.getClientExtensionResults(),
    };
    const answer = await post("/auth/passkeys/login/verify", { challenge_id, response, mode: "cookie" });
    if (answer.ok) return location.assign(button.dataset.next);
    status.textContent = answer.status === 429 ? "Too many attempts. Wait a moment and try again." : "The passkey was not accepted.";
  } catch {
    status.textContent = "No passkey was used. Try again, or log in with your password.";
  }
  button.disabled = false;
});`;

export async function loginPage(c: Context, content: LoginPageContent, status: ContentfulStatusCode = 200) {
  const passkey = content.passkey ?? true;
  const script = passkey ? { script: PASSKEY_SCRIPT } : {};
  await setPageHeaders(c, { style: PAGE_STYLE, formAction: ["'self'"], ...script });
  const interaction = `/oauth/interaction/${encodeURIComponent(content.interactionId)}`;
  const passkeyButton = passkey
    ? `<button type="button" id="passkey" class="secondary" data-next="${escapeHtml(interaction)}">Sign in with a passkey</button>
<p id="passkey-status" class="error" role="status" aria-live="polite"></p><script>${PASSKEY_SCRIPT}</script>`
    : "";
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
${passkeyButton}
<p class="muted"><a href="/auth/password-reset/request">Forgot your password?</a> · <a href="/auth/signup">Create an account</a></p>`;
  return c.html(layout("Log in", body), status);
}
