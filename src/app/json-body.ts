/**
 * @module app/json-body
 * Reads a JSON request body and checks it against a zod schema. Every way a body
 * can be wrong becomes an error naming the problem before any service runs, so
 * bad input changes no state: another media type is 415, bad syntax or shape
 * 400 invalid_request.
 * Size is capped earlier, by the body-limit middleware in app.ts.
 */
import type { Context } from "hono";
import type * as z from "zod";
import { AuthError, invalidRequest } from "./errors/codes";

export interface ReadJsonOptions {
  /** An empty body stands for `{}` (for endpoints whose body is optional). */
  allowEmpty?: boolean;
}

export async function readJson<T extends z.ZodType>(
  c: Context,
  schema: T,
  options: ReadJsonOptions = {},
): Promise<z.output<T>> {
  if (!/^application\/json\s*(;|$)/i.test(c.req.header("Content-Type") ?? "")) {
    // An optional body may be absent altogether; anything else must be JSON.
    if (options.allowEmpty && (await c.req.arrayBuffer()).byteLength === 0) return validate(schema, {});
    throw new AuthError("unsupported_media_type", "Content-Type must be application/json");
  }
  const text = await c.req.text();
  if (options.allowEmpty && text.trim() === "") return validate(schema, {});
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw invalidRequest("the request body is not valid JSON");
  }
  return validate(schema, body);
}

function validate<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalidRequest("the request body must be a JSON object");
  }
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.join(".") || "body";
    throw invalidRequest(`${field}: ${issue?.message ?? "is invalid"}`);
  }
  return result.data;
}
