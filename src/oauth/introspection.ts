/**
 * @module oauth/introspection
 * `TokenIntrospection` (RFC 7662): what a client may learn about an access
 * token. A client sees tokens issued to it, and a resource server (a client
 * with `served_audiences`) sees tokens for the resources it serves; any other
 * token, and every revoked, expired or malformed one, is `{"active": false}`
 * (§2.2), so the answer tells nothing about tokens the caller may not see.
 * Refresh tokens are opaque to everyone but this server and answer
 * `{"active": false}`.
 */
import type { TokenInspector } from "../tokens/token-inspector";
import type { AccessTokenClaims } from "../verify/verifier";
import type { ClientRecord } from "./clients/client-store";

export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      scope?: string;
      client_id?: string;
      sub: string;
      aud: string | string[];
      iss: string;
      exp: number;
      iat: number;
      jti: string;
      token_type: "Bearer";
      sid?: string;
    };

export class TokenIntrospection {
  readonly #inspector: TokenInspector;

  constructor(options: { inspector: TokenInspector }) {
    this.#inspector = options.inspector;
  }

  async introspect(token: string, client: ClientRecord, now: number): Promise<IntrospectionResponse> {
    const claims = await this.#inspector.activeClaims(token, now);
    if (!claims || !visibleTo(claims, client)) return { active: false };
    return {
      active: true,
      ...(claims.scope !== undefined ? { scope: claims.scope } : {}),
      ...(claims.client_id !== undefined ? { client_id: claims.client_id } : {}),
      sub: claims.sub,
      aud: claims.aud,
      iss: claims.iss,
      exp: claims.exp,
      iat: claims.iat,
      jti: claims.jti,
      token_type: "Bearer",
      ...(typeof claims.sid === "string" ? { sid: claims.sid } : {}),
    };
  }
}

function visibleTo(claims: AccessTokenClaims, client: ClientRecord): boolean {
  if (claims.client_id === client.id) return true;
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  return audiences.some((audience) => client.servedAudiences.includes(audience));
}
