/**
 * @module ui/demo-page
 * GET /_dev/demo (development only): a tiny single-page app that logs in with a
 * cookie session and calls protected routes the way a browser app should — the
 * cookie sent by the browser, the CSRF token kept in memory and sent as
 * X-CSRF-Token. The real-browser test drives it.
 */
import type { Context } from "hono";
import { setStrictPageHeaders } from "./strict-page";

const SCRIPT = `
let csrf = null;
const $ = (id) => document.getElementById(id);
const show = (text) => { $("status").textContent = text; };
$("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const response = await fetch("/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email: $("email").value, password: $("password").value, mode: "cookie" }),
  });
  const body = await response.json();
  if (!response.ok) return show("login failed: " + body.error);
  csrf = body.csrf_token;
  show("logged in as " + body.user.email);
});
$("whoami").addEventListener("click", async () => {
  const response = await fetch("/auth/me");
  const body = await response.json();
  $("me").textContent = response.ok ? body.user.email : body.error;
});
$("token").addEventListener("click", async () => {
  const response = await fetch("/auth/session/token", { method: "POST", headers: { "X-CSRF-Token": csrf || "" } });
  const body = await response.json();
  show(response.ok ? "got an access token" : "token refused: " + body.error);
});
$("logout").addEventListener("click", async () => {
  const response = await fetch("/auth/logout", { method: "POST", headers: { "X-CSRF-Token": csrf || "" } });
  show(response.status === 204 ? "logged out" : "logout refused");
});`;

export async function demoPage(c: Context): Promise<Response> {
  await setStrictPageHeaders(c, SCRIPT);
  return c.html(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>edgelock demo</title></head>
<body><main><h1>edgelock cookie-session demo</h1>
<form id="login"><input id="email" type="email" autocomplete="username" placeholder="email">
<input id="password" type="password" autocomplete="current-password" placeholder="password">
<button type="submit">Log in</button></form>
<p><button id="whoami" type="button">Who am I?</button> <span id="me"></span></p>
<p><button id="token" type="button">Get an access token</button> <button id="logout" type="button">Log out</button></p>
<p id="status" role="status"></p></main>
<script>${SCRIPT}</script></body></html>`);
}
