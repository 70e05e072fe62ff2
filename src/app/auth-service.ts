/**
 * @module app/auth-service
 * `AuthService`: the auth Worker's RPC entrypoint. A Worker with a service
 * binding to it (`entrypoint = "AuthService"`) checks, with no network hop,
 * an access token (signature, claims, revocation), an API key, or a request
 * signed with one, with the same checks as the HTTP API. Answers are result
 * objects (src/verify/rpc.ts) rather than thrown errors, because error
 * classes do not survive RPC. It has no state of its own to hide: the
 * composition root (container) builds what it calls.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import type { KeyIdentity } from "../api-keys/service";
import { randomId } from "../lib/crypto/random";
import type {
  ApiKeyCheckOptions,
  ApiKeyRefusalCode,
  EdgelockAuthService,
  RpcApiKeyResult,
  RpcVerifyResult,
  SignedRequestInput,
} from "../verify/rpc";
import { type Container, containerFor } from "./container";
import { deferrer, type RequestContext } from "./request-context";

export type { RpcApiKeyResult, RpcVerifyResult } from "../verify/rpc";

const WHERE_SHAPE = /^[A-Za-z0-9._:/-]{1,64}$/;
const MAX_KEY_LENGTH = 256;

const KEY_DESCRIPTIONS: Record<ApiKeyRefusalCode, string> = {
  unknown: "the API key is invalid",
  revoked: "the API key has been revoked",
  expired: "the API key has expired",
  owner_disabled: "the API key's owner is disabled",
  bad_signature: "the request signature is invalid, expired or replayed",
};

function refuse(code: ApiKeyRefusalCode): RpcApiKeyResult {
  return { ok: false, error: "invalid_token", code, error_description: KEY_DESCRIPTIONS[code] };
}

export class AuthService extends WorkerEntrypoint<Env> implements EdgelockAuthService {
  async verify(token: string): Promise<RpcVerifyResult> {
    if (typeof token !== "string" || token.length === 0 || token.length > 8192) {
      return {
        ok: false,
        error: "invalid_token",
        code: "invalid_token",
        error_description: "the access token is invalid",
      };
    }
    const check = await containerFor(this.env).accessTokens.check(token, Date.now());
    if (check.ok) return { ok: true, claims: check.claims };
    // `code` tells expired from revoked from wrong audience; `error` is what to answer (RFC 6750).
    return { ok: false, error: "invalid_token", code: check.code, error_description: check.message };
  }

  /** An API key (`elk_…`) another Worker was given: the owner and what the key may do now. */
  async verifyApiKey(key: string, options: ApiKeyCheckOptions = {}): Promise<RpcApiKeyResult> {
    const where = whereLabel(options);
    if (typeof key !== "string" || key.length > MAX_KEY_LENGTH || where === undefined) return refuse("unknown");
    const services = containerFor(this.env);
    const ctx = this.#context(services);
    const check = await services.apiKeys.check(key, ctx, where);
    return check.ok ? this.#accepted(services, check.key, ctx.now) : refuse(check.code);
  }

  /** A request signed with an API key's signing secret, as another Worker received it; its nonce is spent. */
  async verifySignedRequest(request: SignedRequestInput): Promise<RpcApiKeyResult> {
    const headers = lowerCaseHeaders(request?.headers);
    const where = whereLabel(request ?? {});
    if (!headers || where === undefined || typeof request.method !== "string" || !isUrl(request.url)) {
      return refuse("bad_signature");
    }
    const services = containerFor(this.env);
    const ctx = this.#context(services);
    const parts = {
      method: request.method,
      url: request.url,
      timestamp: headers["x-edgelock-timestamp"] ?? "",
      nonce: headers["x-edgelock-nonce"] ?? "",
      bodySha256: typeof request.bodySha256 === "string" ? request.bodySha256 : "",
    };
    const keyId = headers["x-edgelock-key-id"] ?? "";
    const signature = headers["x-edgelock-signature"] ?? "";
    const result = await services.apiKeys.authenticateSigned(keyId, parts, signature, ctx, where);
    return "key" in result ? this.#accepted(services, result.key, ctx.now) : refuse("bad_signature");
  }

  #accepted(services: Container, key: KeyIdentity, now: number): RpcApiKeyResult {
    return { ok: true, claims: services.keyClaims.of(key, now) };
  }

  /** A request context for one call: no client address (the caller is a Worker), deferred work on waitUntil. */
  #context(services: Container): RequestContext {
    const meta = { ip: null, userAgent: null, country: null, requestId: randomId() };
    const defer = deferrer((promise) => this.ctx.waitUntil(promise), meta.requestId);
    return { now: Date.now(), meta, defer, audit: services.auditLog(meta, defer) };
  }
}

/** The `where` label, null when absent; undefined when malformed (the call is refused). */
function whereLabel(options: ApiKeyCheckOptions): string | null | undefined {
  if (options.where === undefined) return null;
  return typeof options.where === "string" && WHERE_SHAPE.test(options.where) ? options.where : undefined;
}

function lowerCaseHeaders(headers: unknown): Record<string, string> | null {
  if (typeof headers !== "object" || headers === null) return null;
  const entries = Object.entries(headers).filter((entry): entry is [string, string] => typeof entry[1] === "string");
  return Object.fromEntries(entries.map(([name, value]) => [name.toLowerCase(), value]));
}

function isUrl(url: unknown): url is string {
  return typeof url === "string" && url.length <= 8192 && URL.canParse(url);
}
