// Requests and the bounded load generator of bench/run.mjs (plain fetch, no dependencies).
import { fail } from "./common.mjs";

const REQUEST_TIMEOUT_MS = 30_000;

// One client address per run (198.18.0.0/15, the range RFC 2544 sets aside for
// benchmarks; wrangler dev passes the header through), so per-IP counters never
// carry over from one run into the next.
export const CLIENT_IP = `198.18.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 254) + 1}`;

/**
 * One request; times fetch until the body is fully read. Fails unless the status is `expect`.
 * The body is `body` as JSON or `form` (an object) form-encoded; `token` is sent as a Bearer
 * token, `basic` ({id, secret}) as HTTP Basic client credentials (RFC 6749 §2.3.1).
 * Returns { ms, json }.
 */
export async function call(base, method, path, { body, form, token, basic, expect = 200 } = {}) {
  const headers = { "cf-connecting-ip": CLIENT_IP };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (form !== undefined) headers["content-type"] = "application/x-www-form-urlencoded";
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (basic !== undefined) headers.authorization = basicAuthorization(basic);
  const init = {
    method,
    headers,
    body:
      form !== undefined ? new URLSearchParams(form).toString() : body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  };
  let res;
  let text;
  const start = performance.now();
  try {
    res = await fetch(`${base}${path}`, init);
    text = await res.text();
  } catch (error) {
    fail(`${method} ${path}: request failed: ${error.cause?.code ?? error.message}`);
  }
  const ms = performance.now() - start;
  if (res.status !== expect) {
    fail(`${method} ${path}: expected HTTP ${expect}, got ${res.status}: ${text.slice(0, 500)}`);
  }
  let json;
  if (text !== "") {
    try {
      json = JSON.parse(text);
    } catch {
      fail(`${method} ${path}: HTTP ${res.status} but the body is not JSON: ${text.slice(0, 200)}`);
    }
  }
  return { ms, json };
}

/** `Basic base64(urlencode(id) ":" urlencode(secret))`, as RFC 6749 §2.3.1 has it. */
function basicAuthorization({ id, secret }) {
  const encode = (value) => encodeURIComponent(value).replace(/%20/g, "+");
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString("base64")}`;
}

/**
 * One untimed request the way a browser sends it to the hosted pages: the session
 * `cookie` (if any), form posts with `origin` as their Origin, redirects not followed.
 * Fails unless the status is one of `expect`. Returns { status, location, cookies, text }.
 */
export async function page(base, method, path, { form, cookie, origin, expect = [200] } = {}) {
  const headers = { "cf-connecting-ip": CLIENT_IP, accept: "text/html" };
  if (cookie !== undefined) headers.cookie = cookie;
  if (form !== undefined) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    if (origin !== undefined) headers.origin = origin;
  }
  const init = {
    method,
    headers,
    body: form === undefined ? undefined : new URLSearchParams(form).toString(),
    redirect: "manual",
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  };
  let res;
  let text;
  try {
    res = await fetch(`${base}${path}`, init);
    text = await res.text();
  } catch (error) {
    fail(`${method} ${path.split("?")[0]}: request failed: ${error.cause?.code ?? error.message}`);
  }
  if (!expect.includes(res.status)) {
    fail(
      `${method} ${path.split("?")[0]}: expected HTTP ${expect.join(" or ")}, got ${res.status}: ${text.slice(0, 500)}`,
    );
  }
  return { status: res.status, location: res.headers.get("location"), cookies: res.headers.getSetCookie(), text };
}

export function requireString(value, what) {
  if (typeof value !== "string" || value === "") fail(`${what} is missing from the response`);
  return value;
}

/**
 * Closed-loop load: `concurrency` workers, each sending its next request as soon as
 * the previous one is answered, until `durationMs` has passed or `maxRequests` have
 * been sent (whichever comes first). `once(worker)` sends one request and returns
 * its latency in ms (it throws on an unexpected answer; the run then stops).
 * Returns { samples, wallMs }: wall time from the first send to the last answer.
 */
export async function closedLoop({ concurrency, durationMs, maxRequests, once }) {
  const samples = [];
  let sent = 0;
  let failure = null;
  const start = performance.now();
  const deadline = start + durationMs;
  const worker = async (index) => {
    while (failure === null && sent < maxRequests && performance.now() < deadline) {
      sent++;
      try {
        samples.push(await once(index));
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, index) => worker(index)));
  if (failure !== null) throw failure;
  return { samples, wallMs: performance.now() - start };
}
