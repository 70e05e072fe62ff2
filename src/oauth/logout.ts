/**
 * @module oauth/logout
 * `RpLogout` (OpenID Connect RP-Initiated Logout 1.0): a relying party sends
 * the browser here to end the user's session at the provider. The session
 * ends at once when `id_token_hint` is an ID token of ours for the user of
 * this browser's session; otherwise the user is asked first (§2: so that no
 * third-party page can log people out). A `post_logout_redirect_uri` must be
 * registered for the client (named by `client_id` or by the hint), and is
 * followed only with an id_token_hint for that client; an unregistered one is
 * an error page, never a redirect.
 */
import { AuthError, invalidRequest } from "../app/errors/codes";
import type { OAuthParams } from "../app/form-body";
import type { ResolvedBrowserSession } from "../sessions/browser-sessions";
import type { OAuthClients } from "./clients/clients";
import type { IdTokens } from "./id-tokens";

export interface LogoutRequest {
  /** Where to send the browser afterwards (registered for the client), with `state`. */
  redirect: string | null;
  /** Whether the session may end without asking (a matching id_token_hint). */
  confirmed: boolean;
  clientName: string | null;
}

export class RpLogout {
  readonly #clients: OAuthClients;
  readonly #idTokens: IdTokens;

  constructor(options: { clients: OAuthClients; idTokens: IdTokens }) {
    this.#clients = options.clients;
    this.#idTokens = options.idTokens;
  }

  async check(params: OAuthParams, browser: ResolvedBrowserSession | null, now: number): Promise<LogoutRequest> {
    const hintToken = params.get("id_token_hint");
    const hint = hintToken ? await this.#idTokens.readHint(hintToken, now) : null;
    if (hintToken && !hint) throw invalidRequest("id_token_hint: not an ID token of ours");
    const clientId = params.get("client_id") ?? hint?.clientId;
    if (hint && params.has("client_id") && params.get("client_id") !== hint.clientId) {
      throw invalidRequest("client_id: differs from the id_token_hint's audience");
    }
    const client = clientId ? await this.#clients.find(clientId) : null;
    if (clientId && !client) throw new AuthError("invalid_client", "unknown client_id");
    const target = params.get("post_logout_redirect_uri");
    let redirect: string | null = null;
    if (target !== undefined) {
      // Exact match only, as for redirect URIs; no client, no redirect.
      if (!client?.postLogoutRedirectUris.includes(target)) {
        throw invalidRequest("post_logout_redirect_uri: not registered for this client");
      }
      // Only an ID token of ours for that client proves the request comes from it:
      // otherwise anyone who registered a client could bounce browsers anywhere.
      if (hint?.clientId === client.id) {
        const url = new URL(target);
        const state = params.get("state");
        if (state !== undefined) url.searchParams.set("state", state);
        redirect = url.toString();
      }
    }
    const confirmed = browser === null || (hint !== null && hint.subject === browser.session.user_id);
    return { redirect, confirmed, clientName: client?.name ?? null };
  }
}
