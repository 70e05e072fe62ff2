/**
 * @module oauth/authorize/authorization-request
 * Checks an authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1) as a
 * short pipeline of named checks. The first two decide where errors may go:
 * until the client and its redirect URI are known, an error is shown on a
 * local page (`context: null`) and the browser is never redirected; after
 * that, every error is redirected to the client with `state` and `iss`.
 */
import { AuthError, type AuthorizeRedirectContext, invalidRequest } from "../../app/errors/codes";
import type { OAuthParams } from "../../app/form-body";
import type { ClientRecord } from "../clients/client-store";
import { isWellFormedChallenge } from "../pkce";
import { matchesRegistered } from "../redirect-uris";
import { requestedAudiences } from "../resources";
import { parseScope, withinScopes } from "../scopes";

export type Prompt = "none" | "login" | "consent";

/** A checked authorization request; everything the rest of the flow needs, serializable. */
export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  /** Whether the request named redirect_uri (the token request must then repeat it). */
  redirectUriGiven: boolean;
  state: string | null;
  scopes: string[];
  audiences: string[];
  codeChallenge: string | null;
  nonce: string | null;
  prompts: Prompt[];
  /** Seconds (OIDC `max_age`); null: any login age. */
  maxAge: number | null;
  loginHint: string | null;
  idTokenHint: string | null;
}

/** An authorization error and where it may be sent. */
export class AuthorizeFailure extends Error {
  readonly error: AuthError;
  readonly context: AuthorizeRedirectContext | null;

  constructor(error: AuthError, context: AuthorizeRedirectContext | null) {
    super(error.description);
    this.name = "AuthorizeFailure";
    this.error = error;
    this.context = context;
  }
}

const MAX_STATE = 2048;
const MAX_NONCE = 512;
const MAX_HINT = 4096;

/** The client and redirect URI, validated: only then may errors go back to the client. */
export function checkClientAndRedirect(
  params: OAuthParams,
  client: ClientRecord | null,
  issuer: string,
): AuthorizeRedirectContext {
  if (!params.has("client_id"))
    throw new AuthorizeFailure(invalidRequest("client_id: the parameter is required"), null);
  if (!client) throw new AuthorizeFailure(new AuthError("invalid_client", "unknown client_id"), null);
  const requested = params.get("redirect_uri");
  // RFC 6749 §3.1.2.3: a client with one registered URI may leave it out.
  const redirectUri = requested ?? (client.redirectUris.length === 1 ? client.redirectUris[0] : undefined);
  if (redirectUri === undefined) {
    throw new AuthorizeFailure(invalidRequest("redirect_uri: the parameter is required"), null);
  }
  if (!matchesRegistered(redirectUri, client.redirectUris)) {
    throw new AuthorizeFailure(invalidRequest("redirect_uri: not registered for this client"), null);
  }
  const state = params.get("state") ?? null;
  if (state !== null && state.length > MAX_STATE) {
    throw new AuthorizeFailure(invalidRequest(`state: at most ${MAX_STATE} characters`), null);
  }
  return { redirectUri, state, issuer };
}

/** The rest of the request; a failure here is redirected to the client. */
export function checkAuthorizationRequest(
  params: OAuthParams,
  client: ClientRecord,
  context: AuthorizeRedirectContext,
): AuthorizationRequest {
  try {
    refuseRequestObjects(params);
    checkResponseType(params, client);
    const scopes = checkScope(params, client);
    if (scopes.includes("openid") && !params.has("redirect_uri")) {
      throw invalidRequest("redirect_uri: required in an OpenID Connect request");
    }
    return {
      clientId: client.id,
      redirectUri: context.redirectUri,
      redirectUriGiven: params.has("redirect_uri"),
      state: context.state,
      scopes,
      audiences: requestedAudiences(params.resources, client.audiences),
      codeChallenge: checkPkce(params, client),
      nonce: bounded(params, "nonce", MAX_NONCE),
      prompts: checkPrompt(params),
      maxAge: checkMaxAge(params),
      loginHint: bounded(params, "login_hint", MAX_HINT),
      idTokenHint: bounded(params, "id_token_hint", MAX_HINT),
    };
  } catch (error) {
    if (error instanceof AuthError) throw new AuthorizeFailure(error, context);
    throw error;
  }
}

function refuseRequestObjects(params: OAuthParams): void {
  if (params.has("request")) throw new AuthError("request_not_supported", "request objects are not supported");
  if (params.has("request_uri")) throw new AuthError("request_uri_not_supported", "request_uri is not supported");
}

function checkResponseType(params: OAuthParams, client: ClientRecord): void {
  const responseType = params.require("response_type");
  // The implicit and hybrid flows hand tokens to the front channel (OAuth 2.1 removes them).
  if (responseType !== "code") {
    throw new AuthError("unsupported_response_type", "only response_type=code is supported");
  }
  if (!client.grantTypes.includes("authorization_code")) {
    throw new AuthError("unauthorized_client", "the client is not registered for the authorization code grant");
  }
  const mode = params.get("response_mode");
  if (mode !== undefined && mode !== "query") throw invalidRequest("response_mode: only query is supported");
}

function checkScope(params: OAuthParams, client: ClientRecord): string[] {
  const scopes = parseScope(params.get("scope"));
  if (!withinScopes(scopes, client.scopes)) {
    throw new AuthError("invalid_scope", "the client is not registered for every requested scope");
  }
  return scopes;
}

function checkPkce(params: OAuthParams, client: ClientRecord): string | null {
  const challenge = params.get("code_challenge");
  const method = params.get("code_challenge_method");
  if (challenge === undefined) {
    if (method !== undefined) throw invalidRequest("code_challenge_method without code_challenge");
    // Public clients cannot keep a secret: PKCE is what binds the code to them.
    if (client.authMethod === "none") throw invalidRequest("code_challenge: PKCE is required for public clients");
    return null;
  }
  // RFC 7636 §4.3: an absent method means plain, which is refused like an explicit one.
  if (method !== "S256") throw invalidRequest("code_challenge_method: only S256 is supported");
  if (!isWellFormedChallenge(challenge)) throw invalidRequest("code_challenge: 43-128 unreserved characters");
  return challenge;
}

function checkPrompt(params: OAuthParams): Prompt[] {
  const values = (params.get("prompt") ?? "").split(" ").filter(Boolean);
  const known = values.filter((v): v is Prompt => v === "none" || v === "login" || v === "consent");
  // OIDC Core §3.1.2.1: none with any other value is an error.
  if (values.includes("none") && values.length > 1) throw invalidRequest("prompt: none cannot be combined");
  // Unknown values (select_account, create) are ignored: there is one account per browser session.
  return [...new Set(known)];
}

function checkMaxAge(params: OAuthParams): number | null {
  const raw = params.get("max_age");
  if (raw === undefined) return null;
  if (!/^\d{1,10}$/.test(raw)) throw invalidRequest("max_age: a number of seconds");
  return Number(raw);
}

function bounded(params: OAuthParams, name: string, max: number): string | null {
  const value = params.get(name);
  if (value === undefined) return null;
  if (value.length > max) throw invalidRequest(`${name}: at most ${max} characters`);
  return value;
}
