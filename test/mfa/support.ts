// What the MFA tests share: an RFC 6238 implementation of their own (so a bug in
// src/lib/crypto/otp.ts cannot hide itself), a clock the tests control (so a
// code never straddles a 30 s step by accident), and the user journeys.
import { env } from "cloudflare:workers";
import { afterEach, expect, vi } from "vitest";
import {
  BASE,
  bearer,
  newSession,
  type OutboxMail,
  outbox,
  PASSWORD,
  postJson,
  send,
  type TokenResponse,
} from "../helpers";

const STEP_MS = 30_000;
const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function decodeBase32(text: string): Uint8Array<ArrayBuffer> {
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of text.toUpperCase()) {
    const value = BASE32.indexOf(char);
    if (value < 0) throw new Error(`not base32: ${text}`);
    buffer = (buffer << 5) | value;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  return new Uint8Array(bytes);
}

/** RFC 4226 HOTP with HMAC-SHA-1 over the 8-byte big-endian counter. */
export async function referenceHotp(key: Uint8Array<ArrayBuffer>, counter: number, digits = 6): Promise<string> {
  const message = new Uint8Array(8);
  let rest = counter;
  for (let i = 7; i >= 0; i--) {
    message[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  const hmacKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, message));
  const offset = (mac[19] ?? 0) & 0x0f;
  const value = mac.slice(offset, offset + 4).reduce((acc, byte) => acc * 256 + byte, 0) & 0x7fffffff;
  return String(value % 10 ** digits).padStart(digits, "0");
}

/** The step of an epoch-ms instant (RFC 6238: T0 = 0, X = 30 s). */
function stepOf(ms: number): number {
  return Math.floor(ms / STEP_MS);
}

/** The 6-digit code of a base32 secret for the step `offset` steps from now (the test clock). */
export function codeFor(secret: string, offset = 0): Promise<string> {
  return referenceHotp(decodeBase32(secret), stepOf(Date.now()) + offset);
}

/** A 6-digit code that is none of the three the server accepts now. */
export async function wrongCodeFor(secret: string): Promise<string> {
  const valid = new Set(await Promise.all([-1, 0, 1].map((offset) => codeFor(secret, offset))));
  for (let n = 0; ; n++) {
    const candidate = String(n).padStart(6, "0");
    if (!valid.has(candidate)) return candidate;
  }
}

let latest = 0;

/**
 * Freezes the clock (the Worker runs in this isolate and reads the same Date)
 * 1 s into a fresh step, never earlier than any test of the file before: then
 * step −1, 0 and +1 are known exactly for as long as the test does not move it.
 */
export function freezeClock(): number {
  const start = (stepOf(Math.max(Date.now(), latest)) + 2) * STEP_MS + 1000;
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(start);
  latest = start;
  return start;
}

/** Moves the frozen clock forward. */
export function advance(ms: number): void {
  const next = Date.now() + ms;
  vi.setSystemTime(next);
  latest = Math.max(latest, next);
}

/** Moves the frozen clock to 1 s into the next step. */
export function nextStep(): void {
  advance((stepOf(Date.now()) + 1) * STEP_MS + 1000 - Date.now());
}

afterEach(() => {
  vi.useRealTimers();
});

export interface Enrolment {
  secret: string;
  otpauth_uri: string;
  qr_svg: string;
}

export async function beginEnrolment(accessToken: string, body: unknown = {}): Promise<Response> {
  return postJson("/auth/mfa/totp", body, bearer(accessToken));
}

export function confirm(accessToken: string, code: unknown): Promise<Response> {
  return postJson("/auth/mfa/totp/confirm", { code }, bearer(accessToken));
}

export interface MfaStatus {
  totp: boolean;
  recovery_codes_left: number;
}

export async function mfaStatus(accessToken: string): Promise<MfaStatus> {
  const response = await send(new Request(`${BASE}/auth/mfa`, { headers: bearer(accessToken) }));
  expect(response.status).toBe(200);
  return response.json();
}

export interface MfaUser extends TokenResponse {
  email: string;
  secret: string;
  recoveryCodes: string[];
}

/**
 * A verified user with two-step login on, logged in (the session from before
 * enrolment, which stays valid). Confirms with the code of step −1, leaving
 * steps 0 and +1 for the test. Freezes the clock if the test has not.
 */
export async function newMfaUser(): Promise<MfaUser> {
  if (!vi.isFakeTimers()) freezeClock();
  const session = await newSession();
  const begun = await beginEnrolment(session.access_token);
  expect(begun.status).toBe(201);
  const { secret } = (await begun.json()) as Enrolment;
  const confirmed = await confirm(session.access_token, await codeFor(secret, -1));
  expect(confirmed.status).toBe(200);
  const { recovery_codes } = (await confirmed.json()) as { recovery_codes: string[] };
  return { ...session, secret, recoveryCodes: recovery_codes };
}

export interface MfaChallenge {
  error: string;
  error_description: string;
  mfa_token: string;
  methods: string[];
}

/** The first step of a login of a user with MFA on: 401 mfa_required and its mfa_token. */
export async function firstStep(
  email: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<MfaChallenge> {
  const response = await postJson("/auth/login", { email, password: PASSWORD, ...extra }, headers);
  expect(response.status).toBe(401);
  const body = (await response.json()) as MfaChallenge;
  expect(body.error).toBe("mfa_required");
  return body;
}

export function verify(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return postJson("/auth/mfa/verify", body, headers);
}

/** A full MFA login with the code of `offset` steps from now: the token response. */
export async function mfaLogin(user: { email: string; secret: string }, offset = 0): Promise<TokenResponse> {
  const { mfa_token } = await firstStep(user.email);
  const response = await verify({ mfa_token, code: await codeFor(user.secret, offset) });
  expect(response.status).toBe(200);
  return response.json();
}

export async function mfaEnabledFlag(userId: string): Promise<unknown> {
  return env.DB.prepare("SELECT mfa_enabled FROM users WHERE id = ?").bind(userId).first("mfa_enabled");
}

export async function totpRow(userId: string): Promise<Record<string, unknown> | null> {
  return env.DB.prepare("SELECT * FROM mfa_totp WHERE user_id = ?").bind(userId).first();
}

export async function auditEvents(userId: string, event: string): Promise<{ details: string }[]> {
  const { results } = await env.DB.prepare("SELECT details FROM audit_log WHERE user_id = ? AND event = ? ORDER BY id")
    .bind(userId, event)
    .all<{ details: string }>();
  return results;
}

/** Waits (deferred writes run after the response) for at least one `event` row of the user. */
export async function expectAudited(userId: string, event: string): Promise<{ details: string }[]> {
  return vi.waitFor(async () => {
    const rows = await auditEvents(userId, event);
    expect(rows.length).toBeGreaterThan(0);
    return rows;
  });
}

export async function pendingLoginRow(userId: string): Promise<Record<string, unknown>[]> {
  const { results } = await env.DB.prepare(
    "SELECT used_at, attempts, expires_at FROM one_time_secrets WHERE user_id = ? AND purpose = 'mfa_login' ORDER BY created_at",
  )
    .bind(userId)
    .all();
  return results;
}

/** Waits (mail is sent after the response) for a mail to `email` with this subject. */
export async function expectMail(email: string, subject: string): Promise<OutboxMail> {
  return vi.waitFor(async () => {
    const mail = (await outbox(email)).find((m) => m.subject === subject);
    expect(mail).toBeDefined();
    return mail as OutboxMail;
  });
}
