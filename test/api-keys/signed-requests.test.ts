import { describe, expect, it } from "vitest";
import { bodySha256, canonicalString, checkSignature, sign } from "../../src/api-keys/request-signing";
import { utf8Bytes } from "../../src/lib/crypto/encoding";
import { BASE, bearer, expectError, newAdmin, postJson, send } from "../helpers";

async function signingKey(): Promise<{ id: string; secret: string }> {
  const admin = await newAdmin();
  const response = await postJson(
    "/auth/api-keys",
    { name: "billing service", scopes: ["users:read"], signing: true },
    bearer(admin.access_token),
  );
  expect(response.status).toBe(201);
  const body = (await response.json()) as { id: string; signing_secret: string };
  expect(body.signing_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  return { id: body.id, secret: body.signing_secret };
}

function nonce(): string {
  return crypto.randomUUID().replace(/-/g, "");
}

async function signedRequest(
  key: { id: string; secret: string },
  url: string,
  options: { method?: string; timestamp?: number; nonce?: string; sendUrl?: string } = {},
): Promise<Request> {
  const method = options.method ?? "GET";
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  const n = options.nonce ?? nonce();
  const signature = await sign(key.secret, {
    method,
    url,
    timestamp,
    nonce: n,
    bodySha256: await bodySha256(new Uint8Array()),
  });
  return new Request(options.sendUrl ?? url, {
    method,
    headers: {
      "X-Edgelock-Key-Id": key.id,
      "X-Edgelock-Timestamp": timestamp,
      "X-Edgelock-Nonce": n,
      "X-Edgelock-Signature": signature,
    },
  });
}

describe("signed requests", () => {
  it("are accepted when valid, with the key's scopes", async () => {
    const key = await signingKey();
    expect((await send(await signedRequest(key, `${BASE}/admin/users?limit=5&q=a`))).status).toBe(200);
    await expectError(await send(await signedRequest(key, `${BASE}/admin/audit`)), 403, "insufficient_scope");
  });

  it("are refused once their timestamp is more than 5 minutes off", async () => {
    const key = await signingKey();
    // 30 s past the window: workerd's clock only advances on I/O, so a tighter margin races slow requests.
    const old = Math.floor(Date.now() / 1000) - 330;
    await expectError(
      await send(await signedRequest(key, `${BASE}/admin/users`, { timestamp: old })),
      401,
      "invalid_token",
    );
    const future = Math.floor(Date.now() / 1000) + 330;
    await expectError(
      await send(await signedRequest(key, `${BASE}/admin/users`, { timestamp: future })),
      401,
      "invalid_token",
    );
    const recent = Math.floor(Date.now() / 1000) - 240;
    expect((await send(await signedRequest(key, `${BASE}/admin/users`, { timestamp: recent }))).status).toBe(200);
  });

  it("are accepted once: a replayed signature is refused", async () => {
    const key = await signingKey();
    const request = await signedRequest(key, `${BASE}/admin/users`);
    expect((await send(request.clone())).status).toBe(200);
    await expectError(await send(request), 401, "invalid_token");
  });

  it("are refused when tampered with: another query, path or method", async () => {
    const key = await signingKey();
    const url = `${BASE}/admin/users?limit=5`;
    await expectError(
      await send(await signedRequest(key, url, { sendUrl: `${BASE}/admin/users?limit=50` })),
      401,
      "invalid_token",
    );
    await expectError(
      await send(await signedRequest(key, url, { sendUrl: `${BASE}/admin/audit?limit=5` })),
      401,
      "invalid_token",
    );
    const asPost = await signedRequest(key, url);
    const changed = new Request(asPost.url, { method: "POST", headers: asPost.headers });
    await expectError(await send(changed), 401, "invalid_token");
  });

  it("are refused when a query name appears twice (a reorderable request)", async () => {
    const key = await signingKey();
    await expectError(await send(await signedRequest(key, `${BASE}/admin/users?q=a&q=b`)), 401, "invalid_token");
  });

  it("are refused for unknown keys, keys without signing, and malformed headers", async () => {
    const key = await signingKey();
    await expectError(
      await send(await signedRequest({ id: "0000000000000000", secret: key.secret }, `${BASE}/admin/users`)),
      401,
      "invalid_token",
    );
    await expectError(
      await send(await signedRequest({ id: key.id, secret: "not-the-secret" }, `${BASE}/admin/users`)),
      401,
      "invalid_token",
    );
    await expectError(
      await send(await signedRequest(key, `${BASE}/admin/users`, { nonce: "short" })),
      401,
      "invalid_token",
    );
    const admin = await newAdmin();
    const plain = (await (
      await postJson("/auth/api-keys", { name: "no signing", scopes: ["users:read"] }, bearer(admin.access_token))
    ).json()) as {
      id: string;
      signing_secret?: string;
    };
    expect(plain.signing_secret).toBeUndefined();
    await expectError(
      await send(await signedRequest({ id: plain.id, secret: key.secret }, `${BASE}/admin/users`)),
      401,
      "invalid_token",
    );
  });

  it("are not accepted where only user tokens are", async () => {
    const key = await signingKey();
    await expectError(
      await send(await signedRequest(key, `${BASE}/auth/logout-all`, { method: "POST" })),
      401,
      "invalid_token",
    );
  });
});

describe("the canonical string", () => {
  it("is the documented one: method, path, sorted query, timestamp, nonce, body hash", async () => {
    const canonical = await canonicalString({
      method: "post",
      url: "https://auth.test/v1/items?b=2&a=3&a=1",
      timestamp: "1700000000",
      nonce: "n0nce-n0nce-n0nce",
      bodySha256: await bodySha256(utf8Bytes("{}")),
    });
    expect(canonical).toBe(
      [
        "EDGELOCK-HMAC-SHA256",
        "POST",
        "/v1/items",
        "a=1&a=3&b=2",
        "1700000000",
        "n0nce-n0nce-n0nce",
        "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
      ].join("\n"),
    );
  });

  it("covers the body: another body fails the signature", async () => {
    const parts = {
      method: "POST",
      url: "https://auth.test/x",
      timestamp: String(Math.floor(Date.now() / 1000)),
      nonce: "n0nce-n0nce-n0nce",
      bodySha256: await bodySha256(utf8Bytes('{"amount":1}')),
    };
    const signature = await sign("secret", parts);
    expect((await checkSignature("secret", parts, signature, Date.now())).ok).toBe(true);
    expect(
      (
        await checkSignature(
          "secret",
          { ...parts, bodySha256: await bodySha256(utf8Bytes('{"amount":9}')) },
          signature,
          Date.now(),
        )
      ).ok,
    ).toBe(false);
  });
});
