/**
 * @module oauth/redirect-uris
 * Which redirect URIs a client may register, and whether a requested one is
 * registered. Matching is exact string comparison (RFC 9700 §4.1.3; OAuth 2.1
 * §2.3.1), with one exception: for a loopback URI (`http://127.0.0.1`,
 * `http://[::1]`, `http://localhost`) any port matches, because a native app
 * listens on whatever port the OS gives it (RFC 8252 §7.3).
 */

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "[::1]", "localhost"]);
const MAX_URI_LENGTH = 2000;

function parse(uri: string): URL | null {
  try {
    return new URL(uri);
  } catch {
    return null;
  }
}

function isLoopback(url: URL): boolean {
  return url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname);
}

/** Why `uri` cannot be registered as a redirect URI, or null when it can. */
export function redirectUriProblem(uri: string): string | null {
  if (uri.length > MAX_URI_LENGTH) return `is longer than ${MAX_URI_LENGTH} characters`;
  const url = parse(uri);
  if (!url) return "is not an absolute URI";
  // RFC 6749 §3.1.2: the endpoint URI MUST NOT include a fragment.
  if (uri.includes("#")) return "must not contain a fragment";
  if (url.username !== "" || url.password !== "") return "must not contain user information";
  if (url.protocol === "https:") return null;
  if (isLoopback(url)) return null;
  return "must use https (http only for a loopback address: 127.0.0.1, [::1] or localhost)";
}

/** A loopback URI without its port, as written (no normalization); null for any other URI. */
const LOOPBACK_URI = /^(http:\/\/(?:127\.0\.0\.1|\[::1\]|localhost))(?::(\d{1,5}))?([/?].*)?$/;

function loopbackWithoutPort(uri: string): string | null {
  const match = LOOPBACK_URI.exec(uri);
  // A port a URL parser refuses (above 65535) is no port at all.
  if (!match || !URL.canParse(uri) || Number(match[2] ?? 0) > 65535) return null;
  return `${match[1]}${match[3] ?? ""}`;
}

/** Whether `requested` is one of `registered` (exactly, or a loopback URI on another port). */
export function matchesRegistered(requested: string, registered: readonly string[]): boolean {
  if (registered.includes(requested)) return true;
  const wanted = loopbackWithoutPort(requested);
  if (wanted === null || requested.includes("#")) return false;
  // Everything but the port must be the same, character for character.
  return registered.some((candidate) => loopbackWithoutPort(candidate) === wanted);
}
