/**
 * @module lib/email
 * Email addresses: the form an address is stored and mailed in (trimmed,
 * Unicode NFC, lower-cased), the key that decides whether two addresses are
 * one account (NFKC and case folding, so a fullwidth "ｋate@" is "kate@"), and
 * what counts as an address at all.
 */

const MAX_EMAIL_LENGTH = 254; // RFC 5321 path limit
// Deliberately plain: one @, no spaces, a dot in the domain. Deliverability is
// proven by the verification mail, not by a regex.
const EMAIL_SHAPE = /^[^\s@]{1,64}@[^\s@.]+(\.[^\s@.]+)+$/u;
// Never part of an address we accept: control, format (zero-width, bidi
// overrides), surrogate, private-use and unassigned code points, which make
// one address look like another; and the syntax of a display name or a quoted
// local part ("Name <a@b.c>", "\"a\"@b.c"), which other systems read differently.
const FORBIDDEN = /[\p{C}\p{Zl}\p{Zp}<>()[\]\\,;:"]/u;

/** The stored and mailed form: trimmed, NFC, lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().normalize("NFC").toLowerCase();
}

/**
 * The uniqueness key: NFKC and lower-casing over the stored form, so
 * compatibility variants (fullwidth letters, ligatures) and case variants
 * beyond ASCII are one account, one login budget, one mail quota. No folding
 * beyond that (ß is not "ss", ς is not σ): IDNA2008 keeps those apart, so
 * they can be different mailboxes of different people.
 */
export function emailKey(email: string): string {
  return normalizeEmail(email).normalize("NFKC").toLowerCase().normalize("NFKC");
}

/** Whether a new address (signup) is acceptable: the shape, and none of the forbidden code points or syntax. */
export function isValidEmail(normalized: string): boolean {
  return looksLikeEmail(normalized) && !FORBIDDEN.test(normalized);
}

/**
 * Whether an address may name an existing account (login, reset): the shape
 * only, so accounts created before the forbidden list existed stay reachable.
 */
export function looksLikeEmail(normalized: string): boolean {
  return normalized.length <= MAX_EMAIL_LENGTH && EMAIL_SHAPE.test(normalized);
}
