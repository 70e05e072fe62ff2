/**
 * @module oauth/discovery
 * Authorization server metadata (RFC 8414) and OpenID Provider metadata
 * (OpenID Connect Discovery 1.0 §3): one document, served at both
 * well-known paths with the same `issuer`. Every field says what is built.
 */
import { ACR_VALUES } from "./id-tokens";
import { isPermissionScope, OPENID_SCOPES } from "./scopes";

export interface DiscoveryInputs {
  issuer: string;
  publicUrl: string;
  grantTypes: string[];
  idTokenAlgorithms: string[];
  permissions: string[];
  registration: boolean;
}

const CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"];
const CONFIDENTIAL_AUTH_METHODS = ["client_secret_basic", "client_secret_post"];

export function discoveryDocument(inputs: DiscoveryInputs): Record<string, unknown> {
  const url = (path: string) => `${inputs.publicUrl}${path}`;
  return {
    issuer: inputs.issuer,
    authorization_endpoint: url("/oauth/authorize"),
    token_endpoint: url("/oauth/token"),
    userinfo_endpoint: url("/oauth/userinfo"),
    jwks_uri: url("/.well-known/jwks.json"),
    ...(inputs.registration ? { registration_endpoint: url("/oauth/register") } : {}),
    device_authorization_endpoint: url("/oauth/device_authorization"),
    revocation_endpoint: url("/oauth/revoke"),
    introspection_endpoint: url("/oauth/introspect"),
    end_session_endpoint: url("/oauth/logout"),
    scopes_supported: [...OPENID_SCOPES, ...inputs.permissions.filter(isPermissionScope)],
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: inputs.grantTypes,
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    revocation_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    introspection_endpoint_auth_methods_supported: CONFIDENTIAL_AUTH_METHODS,
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: inputs.idTokenAlgorithms,
    claims_supported: [
      "iss",
      "sub",
      "aud",
      "exp",
      "iat",
      "auth_time",
      "nonce",
      "at_hash",
      "amr",
      "acr",
      "sid",
      "email",
      "email_verified",
    ],
    claims_parameter_supported: false,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    authorization_response_iss_parameter_supported: true,
    prompt_values_supported: ["none", "login", "consent"],
    acr_values_supported: [ACR_VALUES.singleFactor, ACR_VALUES.multiFactor],
  };
}
