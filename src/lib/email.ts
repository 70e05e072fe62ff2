/**
 * @module lib/email
 * The one canonical form of an email address: trimmed, Unicode NFC, lower-cased.
 * Uniqueness, lookups and rate-limit keys all use this form, so
 * "Alice@Example.com " and "alice@example.com" are one account.
 */

const MAX_EMAIL_LENGTH = 254; // RFC 5321 path limit
// Deliberately plain: one @, no spaces, a dot in the domain. Deliverability is
// proven by the verification mail, not by a regex.
const EMAIL_SHAPE = /^[^\s@]{1,64}@[^\s@.]+(\.[^\s@.]+)+$/u;

export function normalizeEmail(email: string): string {
  return email.trim().normalize("NFC").toLowerCase();
}

export function isValidEmail(normalized: string): boolean {
  return normalized.length <= MAX_EMAIL_LENGTH && EMAIL_SHAPE.test(normalized);
}
