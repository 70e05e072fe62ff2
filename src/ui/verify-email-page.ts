/**
 * @module ui/verify-email-page
 * The page behind the mailed verification link. It shows a button that POSTs the
 * token as JSON; opening the link alone spends nothing. The token is read from
 * the URL by the page's script, never echoed into the HTML by the server.
 */
import type { Context } from "hono";

const SCRIPT = `
const status = document.getElementById("status");
document.getElementById("confirm").addEventListener("click", async () => {
  const token = new URLSearchParams(location.search).get("token") || "";
  const response = await fetch("/auth/verify-email", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token }),
  });
  status.textContent = response.ok
    ? "Your email address is confirmed. You can log in now."
    : "This link is invalid, expired or already used.";
});`;

export async function verifyEmailPage(c: Context): Promise<Response> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(SCRIPT));
  const hash = btoa(String.fromCharCode(...new Uint8Array(digest)));
  c.header(
    "Content-Security-Policy",
    `default-src 'none'; script-src 'sha256-${hash}'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
  );
  c.header("Referrer-Policy", "no-referrer");
  c.header("Cache-Control", "no-store");
  return c.html(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Confirm your email address</title></head>
<body><main><h1>Confirm your email address</h1>
<button id="confirm" type="button">Confirm</button>
<p id="status" role="status"></p></main>
<script>${SCRIPT}</script></body></html>`);
}
