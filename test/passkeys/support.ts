// What the passkey tests share: registering a passkey for a signed-in user and
// logging in with one, through the Worker, with the software authenticator.
import { env } from "cloudflare:workers";
import { expect, vi } from "vitest";
import { sha256Hex } from "../../src/lib/crypto/digest";
import { BASE, bearer, postJson, send } from "../helpers";
import { SoftAuthenticator } from "./authenticator";

export type Json = Record<string, unknown>;

export function registerOptions(accessToken: string, body: Json = {}): Promise<Response> {
  return postJson("/auth/passkeys/register/options", body, bearer(accessToken));
}

export function registerVerify(accessToken: string, body: Json): Promise<Response> {
  return postJson("/auth/passkeys/register/verify", body, bearer(accessToken));
}

/** Registers a passkey of `authenticator` for the user: the 201 body. */
export async function registerPasskey(
  accessToken: string,
  authenticator = new SoftAuthenticator(),
  name?: string,
): Promise<{ authenticator: SoftAuthenticator; passkey: Json }> {
  const options = await registerOptions(accessToken);
  expect(options.status).toBe(200);
  const response = await authenticator.register(await options.json());
  const verified = await registerVerify(accessToken, { response, ...(name ? { name } : {}) });
  expect(verified.status).toBe(201);
  return { authenticator, passkey: await verified.json() };
}

export interface LoginOptions {
  challenge_id: string;
  options: { challenge: string; rpId: string; userVerification: string; allowCredentials?: unknown[] };
}

export async function loginOptions(): Promise<LoginOptions> {
  const response = await postJson("/auth/passkeys/login/options", {});
  expect(response.status).toBe(200);
  return response.json();
}

export function loginVerify(body: Json, headers: Record<string, string> = {}): Promise<Response> {
  return postJson("/auth/passkeys/login/verify", body, headers);
}

export function listPasskeys(accessToken: string): Promise<Response> {
  return send(new Request(`${BASE}/auth/passkeys`, { headers: bearer(accessToken) }));
}

export function passkeyRequest(method: string, id: string, accessToken: string, body?: Json): Promise<Response> {
  return send(
    new Request(`${BASE}/auth/passkeys/${id}`, {
      method,
      headers: { ...bearer(accessToken), ...(body ? { "Content-Type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    }),
  );
}

export async function passkeyRows(userId: string): Promise<Json[]> {
  const { results } = await env.DB.prepare("SELECT * FROM passkeys WHERE user_id = ? ORDER BY created_at")
    .bind(userId)
    .all<Json>();
  return results;
}

export async function challengeRow(challenge: string): Promise<Json | null> {
  return env.DB.prepare("SELECT * FROM one_time_secrets WHERE token_hash = ?")
    .bind(await sha256Hex(challenge))
    .first<Json>();
}

export async function auditRows(userId: string, event: string): Promise<{ details: string }[]> {
  const { results } = await env.DB.prepare("SELECT details FROM audit_log WHERE user_id = ? AND event = ? ORDER BY id")
    .bind(userId, event)
    .all<{ details: string }>();
  return results;
}

export async function expectAudit(userId: string, event: string): Promise<Json[]> {
  return vi.waitFor(async () => {
    const rows = await auditRows(userId, event);
    expect(rows.length).toBeGreaterThan(0);
    return rows.map((row) => JSON.parse(row.details) as Json);
  });
}
