/**
 * @module app/form-body
 * Reads OAuth parameters: an `application/x-www-form-urlencoded` body (the
 * token, revocation, introspection endpoints; RFC 6749 §3.2) or a query string
 * (the authorization endpoint). RFC 6749 §3.1 rules apply: a parameter sent
 * without a value is treated as absent, and a parameter may not be repeated,
 * except `resource`, which RFC 8707 §2 allows several times.
 * Size is capped earlier, by the body-limit middleware in app.ts.
 */
import type { Context } from "hono";
import { AuthError, invalidRequest } from "./errors/codes";

const REPEATABLE = new Set(["resource"]);

/** OAuth parameters by name; each present at most once (but `resource`), never empty. */
export class OAuthParams {
  readonly #values: Map<string, string>;
  readonly #resources: string[];

  constructor(values: Map<string, string>, resources: string[] = []) {
    this.#values = values;
    this.#resources = resources;
  }

  /** Parses `search` (a query string or form body); a repeated parameter is invalid_request. */
  static parse(search: string): OAuthParams {
    const values = new Map<string, string>();
    const resources: string[] = [];
    const seen = new Set<string>();
    for (const [name, value] of new URLSearchParams(search)) {
      if (REPEATABLE.has(name)) {
        if (value !== "") resources.push(value);
        continue;
      }
      if (seen.has(name)) throw invalidRequest(`${name}: the parameter is repeated`);
      seen.add(name);
      if (value !== "") values.set(name, value);
    }
    return new OAuthParams(values, resources);
  }

  /** Every `resource` value (RFC 8707), in order. */
  get resources(): readonly string[] {
    return this.#resources;
  }

  get(name: string): string | undefined {
    return this.#values.get(name);
  }

  /** The value, or invalid_request naming the missing parameter. */
  require(name: string): string {
    const value = this.#values.get(name);
    if (value === undefined) throw invalidRequest(`${name}: the parameter is required`);
    return value;
  }

  has(name: string): boolean {
    return this.#values.has(name);
  }

  entries(): IterableIterator<[string, string]> {
    return this.#values.entries();
  }

  /** The parameters as a query string (`?…`, or "" when there are none). */
  toQuery(): string {
    const query = new URLSearchParams([...this.#values.entries(), ...this.#resources.map((r) => ["resource", r])]);
    const text = query.toString();
    return text ? `?${text}` : "";
  }
}

/** The request's form body as OAuth parameters; any other media type is refused. */
export async function readForm(c: Context): Promise<OAuthParams> {
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(c.req.header("Content-Type") ?? "")) {
    throw new AuthError("unsupported_media_type", "Content-Type must be application/x-www-form-urlencoded");
  }
  // Decoded by hand: workerd warns when .text() reads a body whose type is not text/*.
  return OAuthParams.parse(new TextDecoder().decode(await c.req.arrayBuffer()));
}
