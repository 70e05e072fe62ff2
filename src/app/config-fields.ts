/**
 * @module app/config-fields
 * The zod building blocks of the settings schema (config.ts): bounded numbers,
 * "true"/"false" strings, JSON-valued secrets, peppers, private JWKs and role lists.
 */
import * as z from "zod";
import { fromBase64url } from "../lib/crypto/encoding";

export const seconds = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

export const count = (fallback: number) => z.coerce.number().int().min(1).max(1_000_000).default(fallback);

export const booleanString = (fallback: boolean) =>
  z
    .enum(["true", "false"])
    .default(fallback ? "true" : "false")
    .transform((value) => value === "true");

/**
 * A private JWK as `wrangler secret put JWT_PRIVATE_KEYS` would hold it: EC P-256
 * (ES256, access tokens) or RSA of 2048 bits or more (RS256, OpenID Connect ID tokens).
 */
export const privateJwk = z.discriminatedUnion("kty", [
  z.looseObject({
    kty: z.literal("EC"),
    crv: z.literal("P-256"),
    kid: z.string().min(1),
    alg: z.literal("ES256").default("ES256"),
    x: z.string().min(1),
    y: z.string().min(1),
    d: z.string().min(1),
  }),
  z.looseObject({
    kty: z.literal("RSA"),
    kid: z.string().min(1),
    alg: z.literal("RS256").default("RS256"),
    // 2048 bits: a 256-byte modulus is 342 base64url characters.
    n: z.string().min(342, "must be an RSA modulus of at least 2048 bits"),
    e: z.string().min(1),
    d: z.string().min(1),
    p: z.string().min(1),
    q: z.string().min(1),
    dp: z.string().min(1),
    dq: z.string().min(1),
    qi: z.string().min(1),
  }),
]);

export const jsonString = <T extends z.ZodType>(schema: T) =>
  z.string().transform((text, ctx): z.infer<T> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: "custom", message: "is not valid JSON" });
      return z.NEVER;
    }
    const result = schema.safeParse(parsed);
    if (!result.success) {
      ctx.addIssue({ code: "custom", message: z.prettifyError(result.error).replace(/\n/g, " ") });
      return z.NEVER;
    }
    return result.data;
  });

// A pepper is a secret key: 32 characters or more, so it cannot be guessed.
export const pepper = z.string().min(32, "must be at least 32 characters");

/** A 256-bit AES key as base64url (43 characters), decoded. */
export const aesKey = z
  .string()
  .regex(/^[A-Za-z0-9_-]{43}$/, "must be 32 bytes as base64url (43 characters)")
  .transform((text) => fromBase64url(text) as Uint8Array<ArrayBuffer>);

export const keyId = z.string().regex(/^[A-Za-z0-9_-]{1,16}$/, "must be 1-16 characters of A-Z a-z 0-9 _ -");

const ROLE_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * Comma-separated role names (the `roles` table's), trimmed and deduplicated;
 * "" is none. Only their shape is checked here: whether each is a row in
 * `roles` only D1 knows, so that is decided where the roles are assigned.
 */
export const roleNames = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const names = [...new Set(text.split(",").map((name) => name.trim()))].filter(Boolean);
      for (const name of names) {
        if (!ROLE_NAME.test(name))
          ctx.addIssue({ code: "custom", message: `${JSON.stringify(name)} is not a role name` });
      }
      if (names.length > 16) ctx.addIssue({ code: "custom", message: "lists more than 16 roles" });
      return names;
    });
