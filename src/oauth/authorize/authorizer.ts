/**
 * @module oauth/authorize/authorizer
 * `Authorizer`: what to do with a checked authorization request, as a policy
 * of checks (after node-oidc-provider): is there a browser session, is its
 * login fresh enough (`prompt=login`, `max_age`) and the hinted user's, does
 * the client need consent for these scopes. The answer is a page to show
 * (login, consent), or a redirect to the client with a code or an error.
 * `prompt=none` never shows a page: login_required / consent_required.
 * This module knows nothing about passwords: logging in is authn's.
 */
import { AuthError, type AuthorizeRedirectContext } from "../../app/errors/codes";
import type { RequestContext } from "../../app/request-context";
import type { RoleService } from "../../authz/roles";
import type { UserRecord } from "../../identity/user-store";
import type { UserService } from "../../identity/users";
import { randomId } from "../../lib/crypto/random";
import type { ResolvedBrowserSession } from "../../sessions/browser-sessions";
import { parseAmr } from "../../sessions/session-tokens";
import type { AuthorizationCodes } from "../authorization-codes";
import { DEVICE_CODE_GRANT } from "../clients/client-metadata";
import type { ClientRecord } from "../clients/client-store";
import type { OAuthClients } from "../clients/clients";
import type { Consents } from "../consents";
import { delegableScopes } from "../delegable-scopes";
import type { IdTokens } from "../id-tokens";
import { matchesRegistered } from "../redirect-uris";
import { isPermissionScope } from "../scopes";
import { type AuthorizationRequest, AuthorizeFailure } from "./authorization-request";
import type { AnyInteraction, Interaction, Interactions } from "./interactions";

export type AuthorizeOutcome =
  | { kind: "redirect"; location: string }
  | { kind: "login"; interaction: Interaction; client: ClientRecord }
  | {
      kind: "consent";
      interaction: Interaction;
      client: ClientRecord;
      scopes: string[];
      userEmail: string;
      csrfToken: string;
    };

export interface AuthorizerOptions {
  clients: OAuthClients;
  codes: AuthorizationCodes;
  consents: Consents;
  interactions: Interactions;
  users: UserService;
  roles: RoleService;
  idTokens: IdTokens;
  issuer: string;
}

/** An interaction still waiting, and its client. */
export interface PendingInteraction {
  interaction: AnyInteraction;
  client: ClientRecord;
}

/** The browser's session, resolved by the caller from its cookie; null when there is none. */
export type BrowserSession = ResolvedBrowserSession | null;

export class Authorizer {
  readonly #o: AuthorizerOptions;

  constructor(options: AuthorizerOptions) {
    this.#o = options;
  }

  get interactions(): Interactions {
    return this.#o.interactions;
  }

  /**
   * The client of an interaction that is still waiting (an authorization
   * request, or a device confirmation); AuthorizeFailure (a local page) otherwise.
   */
  async pending(id: string, now: number): Promise<PendingInteraction> {
    const interaction = await this.#o.interactions.find(id, now);
    if (!interaction) throw expired();
    if (interaction.kind === "device") {
      const client = await this.#o.clients.find(interaction.clientId);
      // A client deleted, or no longer registered for the grant, since the code was entered: it ends here.
      if (!client?.grantTypes.includes(DEVICE_CODE_GRANT)) throw expired();
      return { interaction, client };
    }
    const client = await this.#o.clients.find(interaction.request.clientId);
    // A client deleted, or its redirect URI removed, since the request began: it ends here.
    if (!client || !matchesRegistered(interaction.request.redirectUri, client.redirectUris)) throw expired();
    return { interaction, client };
  }

  /** Decides a request: a page, or a redirect with a code or an error. */
  async decide(
    request: AuthorizationRequest,
    client: ClientRecord,
    browser: BrowserSession,
    interaction: Interaction | null,
    ctx: RequestContext,
  ): Promise<AuthorizeOutcome> {
    const context = contextOf(request, this.#o.issuer);
    const user = await this.#loggedInUser(request, client, browser, interaction, ctx);
    if (!user || !browser) {
      if (request.prompts.includes("none"))
        return fail(new AuthError("login_required", "the user is not logged in"), context);
      return {
        kind: "login",
        interaction: interaction ?? (await this.#o.interactions.begin(request, ctx.now)),
        client,
      };
    }
    const scopes = await this.#grantableScopes(user, client, request.scopes);
    if (await this.#needsConsent(user, client, request, scopes)) {
      if (request.prompts.includes("none")) {
        fail(new AuthError("consent_required", "the user has not allowed this client"), context);
      }
      const pending = interaction ?? (await this.#o.interactions.begin(request, ctx.now));
      return {
        kind: "consent",
        interaction: pending,
        client,
        scopes,
        userEmail: user.email,
        csrfToken: browser.csrfToken,
      };
    }
    return this.#issueCode(request, user, browser, scopes, interaction, ctx);
  }

  /** The user's answer on the consent page. */
  async answerConsent(
    interaction: Interaction,
    client: ClientRecord,
    browser: ResolvedBrowserSession,
    allow: boolean,
    ctx: RequestContext,
  ): Promise<AuthorizeOutcome> {
    const { request } = interaction;
    const context = contextOf(request, this.#o.issuer);
    // The same checks as the page that asked: a session that may not answer
    // (prompt=login or max_age not met, another user than the hint) logs in first.
    const user = await this.#loggedInUser(request, client, browser, interaction, ctx);
    if (!user) return { kind: "login", interaction, client };
    if (!allow) {
      if (!(await this.#o.interactions.end(interaction.id, ctx.now))) throw expired();
      fail(new AuthError("access_denied", "the user denied the request"), context);
    }
    const scopes = await this.#grantableScopes(user, client, request.scopes);
    await this.#o.consents.grant(user.id, client.id, scopes, ctx);
    return this.#issueCode(request, user, browser, scopes, interaction, ctx);
  }

  async #loggedInUser(
    request: AuthorizationRequest,
    client: ClientRecord,
    browser: BrowserSession,
    interaction: Interaction | null,
    ctx: RequestContext,
  ): Promise<UserRecord | null> {
    if (!browser) return null;
    const session = browser.session;
    const authTime = session.auth_time ?? session.created_at;
    // A login after the interaction began is the fresh one this request asked for.
    const freshForThis = interaction !== null && authTime >= interaction.createdAt;
    if (!freshForThis) {
      if (request.prompts.includes("login")) return null;
      if (request.maxAge !== null && ctx.now - authTime > request.maxAge * 1000) return null;
    }
    if (request.idTokenHint !== null) {
      const hinted = await this.#o.idTokens.hintSubject(request.idTokenHint, client.id, ctx.now);
      if (hinted === null)
        throw new AuthorizeFailure(
          new AuthError("invalid_request", "id_token_hint: not an ID token of ours for this client"),
          contextOf(request, this.#o.issuer),
        );
      if (hinted !== session.user_id) return null;
    }
    return this.#o.users.findActive(session.user_id);
  }

  /** The requested scopes the user can delegate: permission scopes only if the user holds them. */
  async #grantableScopes(user: UserRecord, client: ClientRecord, scopes: string[]): Promise<string[]> {
    if (!scopes.some(isPermissionScope)) return scopes;
    return delegableScopes(scopes, client, user.id, await this.#o.roles.grantsFor(user.id));
  }

  async #needsConsent(
    user: UserRecord,
    client: ClientRecord,
    request: AuthorizationRequest,
    scopes: string[],
  ): Promise<boolean> {
    if (client.firstParty) return false;
    // prompt=consent asks again even when allowed before; the answer completes the interaction.
    if (request.prompts.includes("consent")) return true;
    return !(await this.#o.consents.covers(user.id, client.id, scopes));
  }

  async #issueCode(
    request: AuthorizationRequest,
    user: UserRecord,
    browser: ResolvedBrowserSession,
    scopes: string[],
    interaction: Interaction | null,
    ctx: RequestContext,
  ): Promise<AuthorizeOutcome> {
    // Spent once: a second submit of the same page (another tab, a double click) gets no second code.
    if (interaction && !(await this.#o.interactions.end(interaction.id, ctx.now))) throw expired();
    const session = browser.session;
    const code = await this.#o.codes.issue(
      {
        grantId: randomId(),
        userId: user.id,
        clientId: request.clientId,
        redirectUri: request.redirectUri,
        redirectUriGiven: request.redirectUriGiven,
        codeChallenge: request.codeChallenge,
        nonce: request.nonce,
        scopes,
        audiences: request.audiences,
        amr: parseAmr(session.amr),
        authTime: session.auth_time ?? session.created_at,
      },
      ctx.now,
    );
    const url = new URL(request.redirectUri);
    url.searchParams.set("code", code);
    if (request.state !== null) url.searchParams.set("state", request.state);
    url.searchParams.set("iss", this.#o.issuer);
    return { kind: "redirect", location: url.toString() };
  }
}

function contextOf(request: AuthorizationRequest, issuer: string): AuthorizeRedirectContext {
  return { redirectUri: request.redirectUri, state: request.state, issuer };
}

/** An error for the client: the route redirects it there with `state` and `iss`. */
function fail(error: AuthError, context: AuthorizeRedirectContext): never {
  throw new AuthorizeFailure(error, context);
}

function expired(): AuthorizeFailure {
  return new AuthorizeFailure(
    new AuthError(
      "invalid_request",
      "this sign-in request has expired or was already completed; start again from the app",
    ),
    null,
  );
}
