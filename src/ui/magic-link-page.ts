/**
 * @module ui/magic-link-page
 * The page behind a mailed magic link. Opening it spends nothing (mail
 * scanners prefetch links): its button POSTs the token (read from the URL by
 * the script, never echoed into the HTML) to /auth/magic-link/verify, and a
 * user with two-step login on is asked for the code on the same page. Only a
 * link asked for with `mode: "cookie"` signs in here; a link an app asked for
 * (`mode: "token"`) would hand its tokens to this page, so it says to type the
 * mailed code into the app instead. Strict CSP, and `Referrer-Policy:
 * no-referrer`: the URL holds the token.
 */
import type { Context } from "hono";
import { escapeHtml } from "../lib/html";
import { layout, PAGE_STYLE } from "./layout";
import { setPageHeaders } from "./strict-page";

/** Errors whose description is written for the user; anything else gets a line of the page's own. */
const SHOWN_ERRORS = ["invalid_credentials", "too_many_requests", "email_not_verified", "invalid_request"];

const SCRIPT = `
const $ = (id) => document.getElementById(id);
const status = $("status");
const token = new URLSearchParams(location.search).get("token") || "";
let mfaToken = "";
const post = (path, body) =>
  fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }).then(
    async (response) => ({ ok: response.ok, answer: await response.json().catch(() => ({})) }),
    () => ({ ok: false, answer: {} }),
  );
const say = (text, error) => {
  status.className = error ? "error" : "";
  status.textContent = text;
};
const signedIn = (answer) => {
  $("link").hidden = true;
  $("mfa").hidden = true;
  $("intro").hidden = true;
  $("title").textContent = "You are signed in";
  say("Signed in as " + ((answer.user && answer.user.email) || "you") + ". You can close this tab, or go back to where you asked for the link.");
};
const refused = (answer) => {
  if (answer.error === "invalid_grant") return say("This link cannot be used any more: it was used, replaced by a newer one, or has expired. Ask for a new one.", true);
  say(${JSON.stringify(SHOWN_ERRORS)}.includes(answer.error) ? answer.error_description : "Something went wrong. Try again in a moment.", true);
};
$("link").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("go").disabled = true;
  const { ok, answer } = await post("/auth/magic-link/verify", { token });
  if (ok) return signedIn(answer);
  if (answer.error === "mfa_required") {
    mfaToken = answer.mfa_token;
    $("link").hidden = true;
    $("mfa").hidden = false;
    $("code").focus();
    return say("");
  }
  $("go").disabled = answer.error === "invalid_grant";
  refused(answer);
});
$("mfa").addEventListener("submit", async (event) => {
  event.preventDefault();
  const value = $("code").value.trim();
  // Six digits are the app's code; anything longer is a recovery code.
  const proof = /^[0-9]{6}$/.test(value) ? { code: value } : { recovery_code: value };
  const { ok, answer } = await post("/auth/mfa/verify", { mfa_token: mfaToken, ...proof });
  if (ok) return signedIn(answer);
  refused(answer);
});`;

export type MagicLinkPageKind = "cookie" | "token" | "dead";

/**
 * `email` is the account the link signs in to, shown before the button: a
 * link someone else asked for (for their own account) must not sign this
 * browser in to it unnoticed.
 */
export async function magicLinkPage(c: Context, kind: MagicLinkPageKind, email: string): Promise<Response> {
  if (kind === "dead") {
    await setPageHeaders(c, { style: PAGE_STYLE });
    const body = `<h1>This link cannot be used</h1>
<p>It was used already, replaced by a newer link, or has expired (links work for 15 minutes). Ask for a new one where you asked for this one.</p>`;
    return c.html(layout("This link cannot be used", body), 400);
  }
  if (kind === "token") {
    await setPageHeaders(c, { style: PAGE_STYLE });
    const body = `<h1>Enter the code in the app</h1>
<p>This link was asked for by an app, and signs in there, not in this browser. Type the 6-digit code from the same mail into the app, or open this link on the device where the app is installed.</p>`;
    return c.html(layout("Enter the code in the app", body));
  }
  await setPageHeaders(c, { script: SCRIPT, style: PAGE_STYLE });
  const body = `<h1 id="title">Sign in</h1>
<p id="intro">This link signs in as <strong>${escapeHtml(email)}</strong>. If that is not your address, close this page. Otherwise press the button to sign in with this browser.</p>
<form id="link"><button id="go" type="submit">Sign in</button></form>
<form id="mfa" hidden><p>Two-step login is on for this account: enter the 6-digit code from your authenticator app, or a recovery code.</p>
<label for="code">Code</label>
<input id="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="64">
<button type="submit">Continue</button></form>
<p id="status" role="status" aria-live="polite"></p><script>${SCRIPT}</script>`;
  return c.html(layout("Sign in", body));
}
