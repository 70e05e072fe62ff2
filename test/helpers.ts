// Test helpers: requests through the Worker's real fetch handler, and the
// user journeys most tests start from.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import worker from "../src/app/index";

export const BASE = "https://auth.test";
export const PASSWORD = "correct horse battery staple";

/** A never-before-used address: storage is shared by every test in a file. */
export function freshEmail(label = "user"): string {
  return `${label}-${crypto.randomUUID()}@example.com`;
}

/**
 * A random documentation-range address. Requests get one each unless a test
 * sets CF-Connecting-IP itself, so per-IP limits only bite where a test means them to.
 */
export function randomIp(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(2));
  return `198.51.${bytes[0]}.${bytes[1]}`;
}

export function jsonRequest(path: string, body: unknown, headers: Record<string, string> = {}): Request {
  return new Request(`${BASE}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "CF-Connecting-IP": randomIp(), ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Through the deployed-shape Worker (exports.default), with wrangler.toml's bindings. */
export function send(request: Request | string): Promise<Response> {
  return exports.default.fetch(request);
}

export function postJson(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return send(jsonRequest(path, body, headers));
}

export function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}

/** The same Worker, with some vars or secrets overridden (config is parsed per env object). */
export async function sendWithEnv(overrides: Record<string, unknown>, request: Request): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, { ...env, ...overrides } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

export interface OutboxMail {
  to: string;
  subject: string;
  text: string;
  html: string;
  created_at: string;
}

export async function outbox(email: string): Promise<OutboxMail[]> {
  const response = await send(`${BASE}/_dev/outbox?to=${encodeURIComponent(email)}`);
  expect(response.status).toBe(200);
  return response.json();
}

export function verificationTokenFrom(mail: OutboxMail): string {
  const match = /\/auth\/verify-email\?token=([A-Za-z0-9_-]+)/.exec(mail.text);
  if (!match?.[1]) throw new Error(`no verification link in: ${mail.text}`);
  return match[1];
}

export async function signupAndVerify(email = freshEmail(), password = PASSWORD): Promise<string> {
  const signup = await postJson("/auth/signup", { email, password });
  expect(signup.status).toBe(202);
  const [mail] = await outbox(email);
  if (!mail) throw new Error("no verification mail");
  const verify = await postJson("/auth/verify-email", { token: verificationTokenFrom(mail), password });
  expect(verify.status).toBe(200);
  return email;
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
  user: { id: string; email: string; email_verified: boolean; created_at: string };
}

export async function login(email: string, password = PASSWORD): Promise<TokenResponse> {
  const response = await postJson("/auth/login", { email, password });
  expect(response.status).toBe(200);
  return response.json();
}

export async function newSession(): Promise<TokenResponse & { email: string }> {
  const email = await signupAndVerify();
  return { ...(await login(email)), email };
}

export async function expectError(
  response: Response,
  status: number,
  error: string,
): Promise<{ error_description: string }> {
  expect(response.status).toBe(status);
  expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
  const body = (await response.json()) as { error: string; error_description: string };
  expect(body.error).toBe(error);
  expect(typeof body.error_description).toBe("string");
  return body;
}

export async function userRow(email: string): Promise<Record<string, unknown> | null> {
  return env.DB.prepare("SELECT * FROM users WHERE email = ?").bind(email).first();
}

export async function grantRole(userId: string, role: string): Promise<void> {
  await env.DB.prepare("INSERT INTO user_roles (user_id, role, granted_at) VALUES (?, ?, ?)")
    .bind(userId, role, Date.now())
    .run();
}

/** A user made admin the way `npm run admin:create` does it (straight in D1), logged in afresh. */
export async function newAdmin(): Promise<TokenResponse & { email: string }> {
  const session = await newSession();
  await grantRole(session.user.id, "admin");
  return { ...(await login(session.email)), email: session.email };
}
