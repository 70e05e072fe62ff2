/**
 * @module oauth/clients/client-metadata
 * Client metadata (RFC 7591 §2 names, plus OpenID Connect's
 * `id_token_signed_response_alg` and `post_logout_redirect_uris`), checked the
 * same way for the admin API and for dynamic registration. What is refused:
 * redirect URIs that are not https (loopback excepted) or carry a fragment,
 * `none` with a grant that needs a confidential client, a code grant without
 * a redirect URI, unknown scopes. Registration may not pick audiences,
 * permission scopes, the client credentials or device grant, or the
 * first-party flag: those are the admin's. A client without audiences gets tokens for edgelock
 * itself (the issuer: good for userinfo), which no API accepts.
 */
import * as z from "zod";
import { AuthError } from "../../app/errors/codes";
import { redirectUriProblem } from "../redirect-uris";
import { isKnownScope, isPermissionScope, parseScope } from "../scopes";

/** RFC 8628 §3.4: the device authorization grant's `grant_type`. */
export const DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code";
export const GRANT_TYPES = ["authorization_code", "refresh_token", "client_credentials", DEVICE_CODE_GRANT] as const;
export type GrantType = (typeof GRANT_TYPES)[number];
export const AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"] as const;
export type ClientAuthMethod = (typeof AUTH_METHODS)[number];

const httpsUri = z
  .string()
  .max(2000)
  .refine((value) => URL.canParse(value) && new URL(value).protocol === "https:", "must be an https URI");
const absoluteUri = z
  .string()
  .max(2000)
  .refine((value) => URL.canParse(value), "must be an absolute URI");

/** The metadata a client may send: RFC 7591 §2. Unknown members are ignored (§2). */
export const clientMetadataSchema = z.object({
  client_name: z.string().trim().min(1).max(200).optional(),
  redirect_uris: z.array(z.string()).max(20).optional(),
  post_logout_redirect_uris: z.array(z.string()).max(20).optional(),
  token_endpoint_auth_method: z.enum(AUTH_METHODS).optional(),
  grant_types: z.array(z.enum(GRANT_TYPES)).min(1).optional(),
  response_types: z.array(z.literal("code")).min(1).optional(),
  scope: z.string().max(2000).optional(),
  id_token_signed_response_alg: z.enum(["RS256", "ES256"]).optional(),
  logo_uri: httpsUri.optional(),
  client_uri: httpsUri.optional(),
  policy_uri: httpsUri.optional(),
  tos_uri: httpsUri.optional(),
});

/** What only an admin may set. */
export const adminMetadataSchema = clientMetadataSchema.extend({
  audiences: z.array(absoluteUri).min(1).max(10).optional(),
  /** The resources the client serves: it may introspect tokens issued for them. */
  served_audiences: z.array(absoluteUri).max(10).optional(),
  first_party: z.boolean().optional(),
});

export type ClientMetadataInput = z.output<typeof adminMetadataSchema>;

export interface ClientSettings {
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  authMethod: ClientAuthMethod;
  grantTypes: GrantType[];
  scopes: string[];
  audiences: string[];
  servedAudiences: string[];
  idTokenAlg: "RS256" | "ES256";
  logoUri: string | null;
  clientUri: string | null;
  policyUri: string | null;
  tosUri: string | null;
  firstParty: boolean;
}

export type RegistrationSource = "admin" | "registration";

const DEFAULT_SCOPES = ["openid", "profile", "email", "offline_access"];
/** The grants that act for a user, and so may come with refresh tokens. */
const USER_GRANTS: readonly GrantType[] = ["authorization_code", DEVICE_CODE_GRANT];

function metadataError(code: "invalid_redirect_uri" | "invalid_client_metadata", description: string): AuthError {
  return new AuthError(code, description);
}

/** Checks metadata and fills in the defaults; `defaultAudience` is the issuer (tokens for edgelock itself). */
export function clientSettings(
  input: ClientMetadataInput,
  source: RegistrationSource,
  defaultAudience: string,
): ClientSettings {
  if (source === "registration") refuseAdminOnly(input);
  const grantTypes: GrantType[] = [...new Set(input.grant_types ?? (["authorization_code"] as const))];
  const authMethod = input.token_endpoint_auth_method ?? "client_secret_basic";
  const redirectUris = checkedUris(input.redirect_uris ?? [], "redirect_uris");
  const postLogoutRedirectUris = checkedUris(input.post_logout_redirect_uris ?? [], "post_logout_redirect_uris");
  if (grantTypes.includes("authorization_code") && redirectUris.length === 0) {
    throw metadataError("invalid_redirect_uri", "redirect_uris: the authorization_code grant needs at least one");
  }
  if (grantTypes.includes("client_credentials") && authMethod === "none") {
    throw metadataError("invalid_client_metadata", "client_credentials needs a confidential client, not 'none'");
  }
  if (grantTypes.includes("refresh_token") && !grantTypes.some((grant) => USER_GRANTS.includes(grant))) {
    throw metadataError(
      "invalid_client_metadata",
      `refresh_token is only issued with authorization_code or ${DEVICE_CODE_GRANT}`,
    );
  }
  const scopes = checkedScopes(input.scope);
  if (source === "registration" && scopes.some(isPermissionScope)) {
    // Delegated permissions are for the APIs an admin assigns a client; a self-registered one has none.
    throw metadataError("invalid_client_metadata", "scope: permission scopes are assigned by an administrator");
  }
  return {
    name: input.client_name ?? "Unnamed client",
    redirectUris,
    postLogoutRedirectUris,
    authMethod,
    grantTypes,
    scopes,
    audiences: input.audiences ?? [defaultAudience],
    servedAudiences: input.served_audiences ?? [],
    idTokenAlg: input.id_token_signed_response_alg ?? "RS256",
    logoUri: input.logo_uri ?? null,
    clientUri: input.client_uri ?? null,
    policyUri: input.policy_uri ?? null,
    tosUri: input.tos_uri ?? null,
    firstParty: input.first_party ?? false,
  };
}

function refuseAdminOnly(input: ClientMetadataInput): void {
  if (input.audiences !== undefined || input.served_audiences !== undefined || input.first_party !== undefined) {
    throw metadataError(
      "invalid_client_metadata",
      "audiences, served_audiences and first_party are set by an administrator",
    );
  }
  if (input.grant_types?.includes("client_credentials")) {
    // A self-registered client acting for itself would mint tokens nobody vouched for.
    throw metadataError("invalid_client_metadata", "client_credentials clients are created by an administrator");
  }
  if (input.grant_types?.includes(DEVICE_CODE_GRANT)) {
    // A device request has no redirect URI: the confirmation page could show nothing
    // about the client but the name it gave itself, which anyone can pick (RFC 8628 §5.4).
    throw metadataError("invalid_client_metadata", `${DEVICE_CODE_GRANT} clients are created by an administrator`);
  }
}

function checkedUris(uris: string[], field: string): string[] {
  for (const uri of uris) {
    const problem = redirectUriProblem(uri);
    if (problem) throw metadataError("invalid_redirect_uri", `${field}: ${uri} ${problem}`);
  }
  return [...new Set(uris)];
}

function checkedScopes(raw: string | undefined): string[] {
  let scopes: string[];
  try {
    scopes = raw === undefined ? DEFAULT_SCOPES : parseScope(raw);
  } catch (error) {
    throw metadataError("invalid_client_metadata", (error as AuthError).description);
  }
  const unknown = scopes.find((scope) => !isKnownScope(scope));
  if (unknown) throw metadataError("invalid_client_metadata", `scope: ${unknown} is not a scope this server knows`);
  return scopes;
}
