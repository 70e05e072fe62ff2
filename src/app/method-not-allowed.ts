/**
 * @module app/method-not-allowed
 * Which methods a path answers to, from the app's own route table: a request
 * to a known path with another method is 405 with `Allow` (RFC 9110 §15.5.6),
 * not 404.
 */

interface RouteEntry {
  method: string;
  path: string;
}

/** A matcher from the registered routes: the methods `path` answers to (HEAD with GET), sorted. */
export function methodsByPath(routes: readonly RouteEntry[]): (path: string) => string[] {
  const patterns = routes
    .filter((route) => route.method !== "ALL" && !route.path.includes("*"))
    .map((route) => ({ method: route.method, pattern: pathPattern(route.path) }));
  return (path) => {
    const methods = new Set(patterns.filter((p) => p.pattern.test(path)).map((p) => p.method));
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods].sort();
  };
}

/** `/auth/sessions/:id` as a regular expression over a whole path. */
function pathPattern(path: string): RegExp {
  const source = path
    .split("/")
    .map((segment) => (segment.startsWith(":") ? "[^/]+" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${source}$`);
}
