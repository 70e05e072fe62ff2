/**
 * @module identity/password-policy
 * NIST SP 800-63B-4 §3.1.1.2 password rules: at least PASSWORD_MIN_LENGTH (15
 * by default, as a password is the only factor) and at most 256 code points
 * after NFKC normalization, any Unicode, no composition rules, and no common passwords.
 * Returns the normalized password: the exact string that gets hashed.
 */

import { AuthError } from "../app/errors/codes";
import commonPasswordsText from "./data/common-passwords.txt";

/** The shortest minimum a deployment may set (NIST SP 800-63B-4 §3.1.1.2, with a second factor). */
export const PASSWORD_MIN_LENGTH_FLOOR = 8;
/** NIST SP 800-63B-4's minimum for a password that is the only factor: the default here. */
export const PASSWORD_MIN_LENGTH_SINGLE_FACTOR = 15;
export const PASSWORD_MAX_LENGTH = 256;
// UTF-16 units a 256-code-point password can take at most (before NFKC can
// expand it). Anything longer is refused before we normalize, let alone hash.
const RAW_LENGTH_CEILING = PASSWORD_MAX_LENGTH * 2 * 4;

let commonPasswords: Set<string> | undefined;

function isCommon(password: string): boolean {
  commonPasswords ??= new Set(commonPasswordsText.split("\n").filter(Boolean));
  return commonPasswords.has(password.toLowerCase());
}

function weak(description: string): AuthError {
  return new AuthError("weak_password", description);
}

export interface PasswordPolicy {
  /** Code points, after NFKC (PASSWORD_MIN_LENGTH). */
  minLength: number;
}

/** Applies the policy to a new password and returns the form to hash. */
export function acceptNewPassword(password: string, policy: PasswordPolicy): string {
  // A lone surrogate is not a character: UTF-8 encoding turns every one into
  // U+FFFD, so different such passwords would hash alike. Refuse them.
  if (!password.isWellFormed()) throw weak("password must be valid Unicode text (no lone surrogates)");
  const normalized = normalizeLoginPassword(password);
  if (normalized === null) throw weak(`password must be at most ${PASSWORD_MAX_LENGTH} characters`);
  const length = [...normalized].length;
  if (length < policy.minLength) throw weak(`password must be at least ${policy.minLength} characters`);
  // NUL is refused outright rather than kept: some clients and libraries cut
  // strings at NUL, and a password that means different things to different
  // layers is a password nobody can rely on. We never cut at it ourselves.
  if (normalized.includes("\u0000")) throw weak("password must not contain NUL characters");
  if (isCommon(normalized)) throw weak("password is too common; choose one that is harder to guess");
  return normalized;
}

/**
 * The form of a login attempt's password to hash. The same normalization as at
 * signup, and the same refusal of oversized input before any hashing; no other
 * rule applies, since old passwords may predate today's rules.
 */
export function normalizeLoginPassword(password: string): string | null {
  if (password.length > RAW_LENGTH_CEILING) return null;
  const normalized = password.normalize("NFKC");
  return [...normalized].length > PASSWORD_MAX_LENGTH ? null : normalized;
}
