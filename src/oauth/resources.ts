/**
 * @module oauth/resources
 * Resource indicators (RFC 8707): which API a token is for. A request may
 * name one or more of the client's registered audiences with `resource`;
 * naming none gives the client's default (its first audience).
 */
import { AuthError } from "../app/errors/codes";

/** The audiences a request asks for, all registered for the client; invalid_target otherwise. */
export function requestedAudiences(resources: readonly string[], registered: readonly string[]): string[] {
  if (resources.length === 0) return registered.slice(0, 1);
  for (const resource of resources) {
    // RFC 8707 §2: an absolute URI without a fragment.
    if (!URL.canParse(resource) || resource.includes("#")) {
      throw new AuthError("invalid_target", "resource: must be an absolute URI without a fragment");
    }
    if (!registered.includes(resource)) {
      throw new AuthError("invalid_target", "resource: this client may not ask for tokens for that resource");
    }
  }
  return [...new Set(resources)];
}

/** A token's `aud`: one audience as a string, several as an array. */
export function audienceClaim(audiences: readonly string[]): string | string[] {
  return audiences.length === 1 ? (audiences[0] as string) : [...audiences];
}
