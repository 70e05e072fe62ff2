/**
 * @module limits/keys
 * Every RateLimiter key, built in one place (one Durable Object per key, so
 * no object is a global hot spot). Emails are keyed by their uniqueness key and
 * IPs by the address a limit counts (IPv6 by /64), so variants of one count once.
 */
import { limitSubject } from "../lib/client-address";
import { emailKey } from "../lib/email";

/** The per-route, per-IP limit, e.g. `login:ip:198.51.100.7`. */
export function ipLimitKey(route: string, ip: string | null): string {
  return `${route}:ip:${limitSubject(ip)}`;
}

/** Mails one address may be sent for `purpose` (signup, password reset, magic link) per hour. */
export function mailQuotaKey(purpose: MailQuotaPurpose, email: string): string {
  return `${purpose}:email:${emailKey(email)}`;
}

/** Magic-link codes typed for one address per day, across all its links (a new link must not reset the count). */
export function magicLinkCodeKey(email: string): string {
  return `magic-link-code:email:${emailKey(email)}`;
}

/** The failed-login budget of an account, counted whether or not the account exists. */
export function loginAccountKey(email: string): string {
  return `login:acct:${emailKey(email)}`;
}

/** Failed logins from one IP, across accounts (only for the CAPTCHA threshold; never locks). */
export function loginIpFailureKey(ip: string | null): string {
  return `login:ipfail:${limitSubject(ip)}`;
}

/** User codes a signed-in account enters on /device (RFC 8628 §5.1), from whatever IP. */
export function deviceCodeAccountKey(userId: string): string {
  return `device-code:acct:${userId}`;
}

export type MailQuotaPurpose = "signup" | "password-reset" | "magic-link";
