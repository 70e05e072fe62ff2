// What the magic-link tests share: asking for a link (and waiting for the mail,
// which is sent after the response), reading the link and code out of the
// development outbox, and the one_time_secrets row behind them.
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { sha256Hex } from "../../src/lib/crypto/digest";
import { jsonRequest, type OutboxMail, outbox, postJson, sendWithEnv } from "../helpers";

export interface Mailed {
  token: string;
  code: string;
  link: string;
  mail: OutboxMail;
}

/** POST /auth/magic-link through a fresh env (so the deferred mail is sent before this returns). */
export function ask(
  email: string,
  extra: Record<string, unknown> = {},
  overrides: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<Response> {
  return sendWithEnv(overrides, jsonRequest("/auth/magic-link", { email, ...extra }, headers));
}

/** The newest magic-link mail to `email`, if any. */
export async function latestLinkMail(email: string): Promise<Mailed | null> {
  const mail = (await outbox(email)).filter((m) => /^Your sign-(in|up) link$/.test(m.subject)).at(-1);
  if (!mail) return null;
  const link = /^https:\/\/auth\.test\/auth\/magic-link\?token=([A-Za-z0-9_-]+)$/m.exec(mail.text);
  const code = /code where you asked for the link: (\d{6})$/m.exec(mail.text);
  if (!link?.[1] || !code?.[1]) throw new Error(`no link or code in: ${mail.text}`);
  return { token: link[1], code: code[1], link: link[0], mail };
}

/** Asks for a link (202) and answers what was mailed. */
export async function mailedLink(
  email: string,
  extra: Record<string, unknown> = {},
  overrides: Record<string, unknown> = {},
): Promise<Mailed> {
  const response = await ask(email, extra, overrides);
  expect(response.status).toBe(202);
  const mailed = await latestLinkMail(email);
  if (!mailed) throw new Error(`no magic-link mail to ${email}`);
  return mailed;
}

export function verify(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return postJson("/auth/magic-link/verify", body, headers);
}

export function verifyWithEnv(overrides: Record<string, unknown>, body: unknown, headers: Record<string, string> = {}) {
  return sendWithEnv(overrides, jsonRequest("/auth/magic-link/verify", body, headers));
}

export interface LinkRow {
  token_hash: string;
  user_id: string | null;
  payload: string;
  subject: string;
  attempts: number;
  used_at: number | null;
  expires_at: number;
  created_at: number;
}

export async function linkRow(token: string): Promise<LinkRow | null> {
  return env.DB.prepare("SELECT * FROM one_time_secrets WHERE token_hash = ? AND purpose = 'magic_link'")
    .bind(await sha256Hex(token))
    .first<LinkRow>();
}

export async function allLinkRows(): Promise<LinkRow[]> {
  const { results } = await env.DB.prepare(
    "SELECT * FROM one_time_secrets WHERE purpose = 'magic_link' ORDER BY created_at, token_hash",
  ).all<LinkRow>();
  return results;
}

/** A 6-digit code that is not `code`. */
export function otherCode(code: string): string {
  return String((Number(code) + 1) % 1_000_000).padStart(6, "0");
}
