// Garbage at every OAuth endpoint: always a 4xx with the documented error
// shape (JSON or a page), never a 5xx, and no row written anywhere.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE, send } from "../helpers";
import { newPublicClient } from "./flow";

const TABLES = ["oauth_clients", "oauth_consents", "sessions", "one_time_secrets"];

async function rowCounts(): Promise<number[]> {
  return Promise.all(
    TABLES.map(
      async (table) => (await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table}`).first<{ n: number }>())?.n ?? 0,
    ),
  );
}

const GARBAGE = [
  "",
  "%",
  "%zz",
  "a=%E0%A4%A",
  "\u0000",
  "x".repeat(5000),
  "a=1&a=2",
  "=&=&",
  "client_id=%00&redirect_uri=%ff",
];

function form(path: string, body: string, headers: Record<string, string> = {}) {
  return send(
    new Request(`${BASE}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "CF-Connecting-IP": "203.0.113.200", ...headers },
      body,
    }),
  );
}

describe("bad input at the OAuth endpoints", () => {
  it("answers every malformed request with a 4xx and changes nothing", async () => {
    const client = await newPublicClient();
    const before = await rowCounts();
    const statuses: [string, number][] = [];
    const record = async (label: string, response: Promise<Response>) => {
      const answered = await response;
      statuses.push([label, answered.status]);
      await answered.arrayBuffer();
    };
    for (const junk of GARBAGE) {
      const query = encodeURIComponent(junk);
      await record(`authorize ?${junk.slice(0, 20)}`, send(`${BASE}/oauth/authorize?${junk}`));
      await record(
        "authorize client",
        send(`${BASE}/oauth/authorize?client_id=${client.client_id}&redirect_uri=${query}`),
      );
      await record(
        "authorize params",
        send(
          `${BASE}/oauth/authorize?client_id=${client.client_id}&response_type=${query}&scope=${query}&prompt=${query}&max_age=${query}`,
        ),
      );
      await record("token", form("/oauth/token", junk));
      await record(
        "token grant",
        form(
          "/oauth/token",
          `grant_type=authorization_code&client_id=${client.client_id}&code=${query}&code_verifier=${query}`,
        ),
      );
      await record(
        "token refresh",
        form(
          "/oauth/token",
          `grant_type=refresh_token&client_id=${client.client_id}&refresh_token=${query}&scope=${query}`,
        ),
      );
      await record(
        "token basic",
        form("/oauth/token", "grant_type=client_credentials", { Authorization: `Basic ${query}` }),
      );
      await record("revoke", form("/oauth/revoke", `token=${query}&client_id=${client.client_id}`));
      await record("introspect", form("/oauth/introspect", `token=${query}`, { Authorization: "Basic Og==" }));
      await record(
        "userinfo",
        send(new Request(`${BASE}/oauth/userinfo`, { headers: { Authorization: `Bearer ${query}` } })),
      );
      await record("userinfo post", form("/oauth/userinfo", junk));
      await record("logout", send(`${BASE}/oauth/logout?id_token_hint=${query}&post_logout_redirect_uri=${query}`));
      await record("interaction", send(`${BASE}/oauth/interaction/${query || "x"}`));
      await record("interaction login", form(`/oauth/interaction/${"A".repeat(43)}/login`, junk, { Origin: BASE }));
      await record(
        "register",
        send(
          new Request(`${BASE}/oauth/register`, {
            method: "POST",
            headers: { "Content-Type": "application/json", "CF-Connecting-IP": "203.0.113.201" },
            body: junk.startsWith("{")
              ? junk
              : JSON.stringify({ redirect_uris: [junk], scope: junk, grant_types: [junk] }),
          }),
        ),
      );
    }
    const serverErrors = statuses.filter(([, status]) => status >= 500);
    expect(serverErrors).toEqual([]);
    expect(statuses.every(([, status]) => status >= 400 || status === 200)).toBe(true);
    // 200s are the answers RFC 7009 and RFC 7662 prescribe for unknown tokens, and the logout page.
    const ok = new Set(statuses.filter(([, status]) => status === 200).map(([label]) => label));
    expect([...ok].every((label) => ["revoke", "logout"].includes(label))).toBe(true);
    expect(await rowCounts()).toEqual(before);
  });
});
