// Helpers for the OAuth tests: clients made through the admin API, form posts,
// and oauth4webapi pointed at the Worker through its customFetch hook.
import { exports } from "cloudflare:workers";
import * as oauth from "oauth4webapi";
import { expect } from "vitest";
import { BASE, bearer, newAdmin, postJson, randomIp } from "../helpers";

export interface CreatedClient {
  client_id: string;
  client_secret?: string;
  [name: string]: unknown;
}

let adminToken: Promise<string> | undefined;

/** One admin per test file, made the way `npm run admin:create` does it. */
export function adminAccessToken(): Promise<string> {
  adminToken ??= newAdmin().then((admin) => admin.access_token);
  return adminToken;
}

export async function createClient(metadata: Record<string, unknown>): Promise<CreatedClient> {
  const response = await postJson("/admin/clients", metadata, bearer(await adminAccessToken()));
  expect(response.status).toBe(201);
  return response.json();
}

export function postForm(path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return exports.default.fetch(
    new Request(`${BASE}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "CF-Connecting-IP": randomIp(), ...headers },
      body: new URLSearchParams(fields).toString(),
    }),
  );
}

export function basic(clientId: string, secret: string): Record<string, string> {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, "+");
  return { Authorization: `Basic ${btoa(`${encode(clientId)}:${encode(secret)}`)}` };
}

/** oauth4webapi's options: every request goes to the Worker, not the network. */
export const viaWorker = {
  [oauth.customFetch]: (url: string, init: oauth.CustomFetchOptions<string, unknown>) =>
    exports.default.fetch(new Request(url, init as RequestInit)),
};

export async function authorizationServer(): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(BASE);
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, viaWorker));
}

/** A browser for the hosted pages: keeps the session cookie, sends what a same-origin form post sends. */
export class TestBrowser {
  cookie: string | null = null;
  readonly ip = randomIp();

  async get(url: string): Promise<Response> {
    return this.#send(new Request(url.startsWith("http") ? url : `${BASE}${url}`, { headers: this.#headers() }));
  }

  async submit(path: string, fields: Record<string, string>, origin = BASE): Promise<Response> {
    const headers = { ...this.#headers(), "Content-Type": "application/x-www-form-urlencoded", Origin: origin };
    return this.#send(new Request(`${BASE}${path}`, { method: "POST", headers, body: new URLSearchParams(fields) }));
  }

  #headers(): Record<string, string> {
    return { "CF-Connecting-IP": this.ip, ...(this.cookie ? { Cookie: this.cookie } : {}) };
  }

  async #send(request: Request): Promise<Response> {
    const response = await exports.default.fetch(request, { redirect: "manual" } as RequestInit);
    const set = response.headers.get("Set-Cookie");
    const match = set ? /(__Host-edgelock_session=[^;]*)/.exec(set) : null;
    if (match?.[1]) this.cookie = match[1].endsWith("=") ? null : match[1];
    return response;
  }
}

/** The form action's interaction id and the hidden CSRF token of a hosted page. */
export function pageFields(html: string): { interaction: string; csrf: string | null } {
  const interaction = /\/oauth\/interaction\/([A-Za-z0-9_-]+)\//.exec(html)?.[1];
  if (!interaction) throw new Error(`no interaction form in: ${html.slice(0, 400)}`);
  return { interaction, csrf: /name="csrf_token" value="([^"]+)"/.exec(html)?.[1] ?? null };
}
