// The error taxonomy and its renderers: one table from code to status and wire
// name; the JSON API, the token endpoint (RFC 6749 §5.2), the authorization
// endpoint (redirect with iss and state, or a local page) and HTML pages.
import { Hono } from "hono";
import { describe, expect, it, vi } from "vitest";
import {
  AuthError,
  ConfigError,
  ERRORS,
  invalidGrant,
  invalidToken,
  tooManyRequests,
  Unavailable,
  wireError,
} from "../../src/app/errors/codes";
import { renderHtmlError } from "../../src/app/errors/html";
import { renderAuthorizeError, renderTokenError } from "../../src/app/errors/oauth";
import { renderError } from "../../src/app/errors/render";

describe("the error table", () => {
  it("gives every code a 4xx or 5xx status and a wire name of RFC shape", () => {
    for (const [code, spec] of Object.entries(ERRORS)) {
      expect(spec.status, code).toBeGreaterThanOrEqual(400);
      expect(spec.status, code).toBeLessThan(600);
      expect(wireError(code as keyof typeof ERRORS)).toMatch(/^[a-z_]+$/);
    }
  });

  it("keeps the wire name of internal distinctions to the RFC's", () => {
    expect(wireError("body_too_large")).toBe("invalid_request");
    expect(wireError("wrong_password")).toBe("invalid_credentials");
    expect(wireError("token_in_query")).toBe("invalid_request");
    expect(wireError("invalid_grant")).toBe("invalid_grant");
  });
});

describe("the JSON renderer", () => {
  it("answers a code with its status and the one error shape", () => {
    const rendered = renderError(new AuthError("body_too_large", "too big"), "r1");
    expect(rendered).toEqual({
      status: 413,
      body: { error: "invalid_request", error_description: "too big" },
      headers: {},
    });
  });

  it("adds RFC 6750 challenges: bare without a credential, with the error otherwise", () => {
    expect(renderError(invalidToken("no token", { tokenPresent: false }), "r").headers).toEqual({
      "WWW-Authenticate": 'Bearer realm="edgelock"',
    });
    expect(renderError(invalidToken('bad "token"'), "r").headers["WWW-Authenticate"]).toBe(
      `Bearer realm="edgelock", error="invalid_token", error_description="bad 'token'"`,
    );
    expect(renderError(new AuthError("token_in_query", "no"), "r").headers["WWW-Authenticate"]).toBe(
      'Bearer realm="edgelock", error="invalid_request"',
    );
  });

  it("adds Retry-After from the error, else the code's default, and logs a 5xx's cause", () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      expect(renderError(tooManyRequests(2500), "r").headers["Retry-After"]).toBe("3");
      const unavailable = renderError(new Unavailable("down", new Error("the cause")), "r");
      expect(unavailable.status).toBe(503);
      expect(unavailable.headers["Retry-After"]).toBe("5");
      expect(log).toHaveBeenCalledWith(expect.stringContaining("the cause"));
    } finally {
      log.mockRestore();
    }
  });

  it("never echoes an unknown error or a misconfiguration's values, and logs them", () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const bug = renderError(new Error("secret detail at src/x.ts:1"), "r1");
      expect(bug).toMatchObject({ status: 500, body: { error: "server_error" } });
      expect(JSON.stringify(bug.body)).not.toContain("secret detail");
      const config = renderError(new ConfigError(["PASSWORD_PEPPER must be at least 32 characters"]), "r1");
      expect(config.body).toEqual({
        error: "server_misconfigured",
        error_description: "the server is misconfigured: PASSWORD_PEPPER",
      });
      expect(log).toHaveBeenCalledWith(expect.stringContaining("secret detail"));
    } finally {
      log.mockRestore();
    }
  });
});

describe("the token endpoint renderer (RFC 6749 §5.2)", () => {
  it("answers invalid_client with 401 and a Basic challenge, never cached", () => {
    const rendered = renderTokenError(new AuthError("invalid_client", "client authentication failed"));
    expect(rendered.status).toBe(401);
    expect(rendered.headers).toMatchObject({
      "WWW-Authenticate": 'Basic realm="edgelock"',
      "Cache-Control": "no-store",
      Pragma: "no-cache",
    });
    expect(rendered.body.error).toBe("invalid_client");
  });

  it("answers the RFC's other codes with 400", () => {
    for (const code of ["invalid_grant", "unauthorized_client", "unsupported_grant_type", "invalid_scope"] as const) {
      const rendered = renderTokenError(new AuthError(code, "no"));
      expect(rendered.status, code).toBe(400);
      expect(rendered.body.error).toBe(code);
      expect(rendered.headers["WWW-Authenticate"]).toBeUndefined();
    }
  });

  it("maps a code the RFC does not define for this endpoint onto invalid_request", () => {
    const rendered = renderTokenError(new AuthError("body_too_large", "too big"));
    expect(rendered).toMatchObject({ status: 400, body: { error: "invalid_request", error_description: "too big" } });
    const weak = renderTokenError(new AuthError("csrf_failed", "no"));
    expect(weak.body.error).toBe("invalid_request");
  });

  it("keeps outages and limits as 503 and 429 with Retry-After", () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      expect(renderTokenError(new Unavailable("down"))).toMatchObject({
        status: 503,
        headers: { "Retry-After": "5" },
      });
      expect(renderTokenError(tooManyRequests(1000)).status).toBe(429);
    } finally {
      log.mockRestore();
    }
  });
});

describe("the authorization endpoint renderer (RFC 6749 §4.1.2.1, RFC 9207)", () => {
  const context = { redirectUri: "https://app.example/cb?x=1", state: "s t&", issuer: "https://auth.test" };

  it("redirects to the validated redirect URI with error, description, state and iss", () => {
    const outcome = renderAuthorizeError(new AuthError("access_denied", "the user said no"), context);
    expect(outcome.kind).toBe("redirect");
    if (outcome.kind !== "redirect") return;
    const url = new URL(outcome.location);
    expect(url.origin + url.pathname).toBe("https://app.example/cb");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      x: "1",
      error: "access_denied",
      error_description: "the user said no",
      state: "s t&",
      iss: "https://auth.test",
    });
  });

  it("leaves state out when the client sent none", () => {
    const outcome = renderAuthorizeError(invalidGrant("no"), { ...context, state: null });
    expect(outcome.kind === "redirect" && new URL(outcome.location).searchParams.has("state")).toBe(false);
  });

  it("never redirects without a validated redirect URI: a local page instead", () => {
    expect(renderAuthorizeError(new AuthError("invalid_client", "unknown client"), null)).toEqual({
      kind: "page",
      status: 400,
      code: "invalid_client",
      description: "unknown client",
    });
  });

  it("sends only the codes the authorization endpoint defines", () => {
    const code = (error: unknown) => {
      const outcome = renderAuthorizeError(error, context);
      return outcome.kind === "redirect" ? new URL(outcome.location).searchParams.get("error") : null;
    };
    expect(code(invalidGrant("no"))).toBe("invalid_request");
    expect(code(new AuthError("login_required", "log in"))).toBe("login_required");
    expect(code(new Unavailable("down"))).toBe("temporarily_unavailable");
    expect(code(new Error("bug"))).toBe("server_error");
  });
});

describe("the HTML renderer", () => {
  function page(error: unknown) {
    const app = new Hono();
    app.get("/", () => {
      throw error;
    });
    app.onError(renderHtmlError);
    return app.request("/");
  }

  it("answers a page with the code's status, the description and a strict CSP", async () => {
    const response = await page(new AuthError("csrf_failed", "this <form> expired"));
    expect(response.status).toBe(403);
    expect(response.headers.get("Content-Type")).toMatch(/^text\/html/);
    expect(response.headers.get("Content-Security-Policy")).toContain("script-src 'none'");
    expect(response.headers.get("Content-Security-Policy")).toContain("frame-ancestors 'none'");
    const html = await response.text();
    expect(html).toContain("this &#60;form&#62; expired");
    expect(html).toContain("csrf_failed");
  });

  it("shows no internals for an unknown error", async () => {
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const response = await page(new Error("D1_ERROR: internal"));
      expect(response.status).toBe(500);
      expect(await response.text()).not.toContain("D1_ERROR");
    } finally {
      log.mockRestore();
    }
  });
});
