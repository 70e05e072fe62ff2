/**
 * @module mail/templates
 * The text of every mail edgelock sends. Links are built from PUBLIC_URL only,
 * never from the request's Host header (which an attacker can set).
 */
import { escapeHtml } from "../lib/html";
import type { MailMessage } from "./mailer";

function message(to: string, subject: string, paragraphs: string[], link?: string): MailMessage {
  const text = [...paragraphs, ...(link ? [link] : [])].join("\n\n");
  const html = [
    ...paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`),
    ...(link ? [`<p><a href="${escapeHtml(link)}">${escapeHtml(link)}</a></p>`] : []),
  ].join("\n");
  return { to, subject, text, html };
}

/**
 * The link that confirms an address. It works only with the password chosen in
 * the signup that sent it; `repeated`: a signup for an address that already
 * has an unconfirmed account, which the mail says in so many words.
 */
export function verificationMail(
  to: string,
  publicUrl: string,
  token: string,
  ttlSeconds: number,
  options: { repeated: boolean },
): MailMessage {
  const link = `${publicUrl}/auth/verify-email?token=${encodeURIComponent(token)}`;
  const hours = Math.round(ttlSeconds / 3600);
  const expiry = `It works once, expires in ${hours} hour${hours === 1 ? "" : "s"}, and asks for the password chosen in that signup.`;
  if (options.repeated) {
    return message(
      to,
      "A new signup was attempted with your address",
      [
        "Someone just signed up again with this address, which has an account that is not confirmed yet. It may have been you, or someone else.",
        `If it was you, confirm with the link below and the password you just chose. ${expiry} If it was not you, ignore this mail: nobody can use this link without that password, and your address stays unconfirmed until you confirm it yourself.`,
      ],
      link,
    );
  }
  return message(
    to,
    "Confirm your email address",
    [
      "Welcome! Confirm your email address to finish creating your account.",
      `${expiry} If you did not sign up, ignore this mail.`,
    ],
    link,
  );
}

/** Sent instead of a verification mail when someone signs up with an address that already has an account. */
export function signupAttemptMail(to: string, publicUrl: string): MailMessage {
  return message(to, "Someone tried to sign up with your address", [
    "Someone just tried to create an account with this email address, which already has one. Nothing about your account was changed.",
    `If it was you, log in at ${publicUrl} instead (or reset your password). If not, you can ignore this mail.`,
  ]);
}

/** Sent when a login succeeds from a device (browser, OS, country) not seen before for this user. */
export function newDeviceMail(
  to: string,
  publicUrl: string,
  device: string,
  ip: string | null,
  now: number,
): MailMessage {
  return message(to, "New sign-in to your account", [
    `Your account was just signed in to from a new device: ${device}${ip ? `, IP address ${ip}` : ""}, at ${new Date(now).toISOString()}.`,
    `If this was you, there is nothing to do. If not, change your password at ${publicUrl} and sign out everywhere.`,
  ]);
}

export function passwordResetMail(to: string, publicUrl: string, token: string, ttlSeconds: number): MailMessage {
  const link = `${publicUrl}/auth/password-reset?token=${encodeURIComponent(token)}`;
  const minutes = Math.round(ttlSeconds / 60);
  return message(
    to,
    "Reset your password",
    [
      "Someone (hopefully you) asked to reset the password of your account. Use this link to choose a new one.",
      `It works once and expires in ${minutes} minutes. If you did not ask, ignore this mail: your password stays as it is.`,
    ],
    link,
  );
}

export function passwordChangedMail(to: string, publicUrl: string, now: number): MailMessage {
  return message(to, "Your password was changed", [
    `The password of your account was changed at ${new Date(now).toISOString()}, and every session was signed out.`,
    `If this was not you, reset your password at ${publicUrl} right away.`,
  ]);
}

/** Sent when a password reset is completed: what ended with it. */
export function passwordResetCompletedMail(
  to: string,
  publicUrl: string,
  now: number,
  ended: { apiKeysRevoked: number },
): MailMessage {
  const keys = `${ended.apiKeysRevoked} API key${ended.apiKeysRevoked === 1 ? " was" : "s were"} revoked`;
  return message(to, "Your password was reset", [
    `The password of your account was reset at ${new Date(now).toISOString()}. Every session was signed out, every access token was revoked, and ${keys}.`,
    `If this was not you, reset your password at ${publicUrl} right away.`,
  ]);
}

/** Sent when an API key is created: a credential that outlives every session must not appear unannounced. */
export function apiKeyCreatedMail(
  to: string,
  publicUrl: string,
  key: { name: string; prefix: string; scopes: string[]; expires_at: string | null; created_at: string },
  ip: string | null,
): MailMessage {
  return message(to, "A new API key was created for your account", [
    `An API key named "${key.name}" (${key.prefix}…) was created at ${key.created_at}${ip ? ` from IP address ${ip}` : ""}, with the scopes ${key.scopes.join(", ")}; it expires at ${key.expires_at ?? "never"}.`,
    `If this was not you, revoke it at ${publicUrl}, change your password and sign out everywhere.`,
  ]);
}

/** Sent when an API key gets a new secret: a rotation hands out a live credential as creation does. */
export function apiKeyRotatedMail(
  to: string,
  publicUrl: string,
  key: { id: string; graceSeconds: number; now: number },
  ip: string | null,
): MailMessage {
  const when = new Date(key.now).toISOString();
  const grace =
    key.graceSeconds > 0
      ? `the previous secret keeps working for ${key.graceSeconds} seconds`
      : "the previous secret stopped working";
  return message(to, "An API key of your account was rotated", [
    `The API key elk_${key.id}… got a new secret at ${when}${ip ? ` from IP address ${ip}` : ""}; ${grace}.`,
    `If this was not you, revoke the key at ${publicUrl}, change your password and sign out everywhere.`,
  ]);
}

/** Sent when two-step login is turned on or off, by the user or an admin. */
export function mfaChangedMail(
  to: string,
  publicUrl: string,
  change: "enabled" | "disabled" | "reset_by_admin",
  now: number,
): MailMessage {
  const when = new Date(now).toISOString();
  const what = {
    enabled: `Two-step login (an authenticator app) was turned on for your account at ${when}.`,
    disabled: `Two-step login was turned off for your account at ${when}: your password alone now logs in.`,
    reset_by_admin: `An administrator turned two-step login off for your account at ${when}, as asked for when an authenticator is lost. Turn it on again with a new authenticator.`,
  }[change];
  return message(to, change === "enabled" ? "Two-step login is on" : "Two-step login is off", [
    what,
    `If this was not you, reset your password at ${publicUrl} right away.`,
  ]);
}

/** Sent when a recovery code is used: its owner should know one is gone, and by whom it might have been. */
export function recoveryCodeUsedMail(
  to: string,
  publicUrl: string,
  remaining: number,
  now: number,
  ip: string | null,
): MailMessage {
  return message(to, "A recovery code was used", [
    `A recovery code of your account was used at ${new Date(now).toISOString()}${ip ? ` from IP address ${ip}` : ""}. ${remaining} unused code${remaining === 1 ? " is" : "s are"} left.`,
    `If this was not you, reset your password at ${publicUrl}, and make a new set of recovery codes.`,
  ]);
}

/**
 * A magic link and its 6-digit code (for when the link opens on another device,
 * or a mail scanner got there first). `signup`: the address has no account yet,
 * and using the link creates one.
 */
export function magicLinkMail(
  to: string,
  publicUrl: string,
  secret: { token: string; code: string; ttlMs: number },
  options: { signup: boolean },
): MailMessage {
  const link = `${publicUrl}/auth/magic-link?token=${encodeURIComponent(secret.token)}`;
  const minutes = Math.round(secret.ttlMs / 60_000);
  const what = options.signup
    ? "Someone (hopefully you) asked to sign up with this address. Use this link to create your account and sign in; it needs no password."
    : "Someone (hopefully you) asked to sign in to your account with this address. Use this link to sign in.";
  return message(
    to,
    options.signup ? "Your sign-up link" : "Your sign-in link",
    [
      what,
      `Or enter this code where you asked for the link: ${secret.code}`,
      `The link and the code work once, and expire in ${minutes} minutes; a newer link replaces this one. If you did not ask for it, ignore this mail: nothing happens unless it is used.`,
    ],
    link,
  );
}
