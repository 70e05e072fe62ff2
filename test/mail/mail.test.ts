import { afterEach, describe, expect, it, vi } from "vitest";
import { LogMailer } from "../../src/mail/mailer";
import { BASE, expectError, freshEmail, jsonRequest, PASSWORD, send, sendWithEnv } from "../helpers";

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe("mail transports", () => {
  it("resend: posts the verification mail to Resend's API with the API key", async () => {
    const calls: { url: string; init: RequestInit }[] = [];
    vi.stubGlobal("fetch", async (url: string, init: RequestInit) => {
      calls.push({ url: String(url), init });
      return new Response(JSON.stringify({ id: "m_1" }), { status: 200 });
    });
    const email = freshEmail();
    const response = await sendWithEnv(
      { MAIL_TRANSPORT: "resend", RESEND_API_KEY: "re_test_key" },
      jsonRequest("/auth/signup", { email, password: PASSWORD }),
    );
    expect(response.status).toBe(202);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe("https://api.resend.com/emails");
    expect(new Headers(calls[0]?.init.headers).get("Authorization")).toBe("Bearer re_test_key");
    const payload = JSON.parse(String(calls[0]?.init.body));
    expect(payload).toMatchObject({
      to: [email],
      from: "edgelock <no-reply@auth.test>",
      subject: "Confirm your email address",
    });
    expect(payload.text).toMatch(/https:\/\/auth\.test\/auth\/verify-email\?token=/);
  });

  it("resend: a failing provider does not change the signup answer, and is logged", async () => {
    vi.stubGlobal("fetch", async () => new Response("upstream down", { status: 503 }));
    const log = vi.spyOn(console, "error").mockImplementation(() => {});
    const response = await sendWithEnv(
      { MAIL_TRANSPORT: "resend", RESEND_API_KEY: "re_test_key" },
      jsonRequest("/auth/signup", { email: freshEmail(), password: PASSWORD }),
    );
    expect(response.status).toBe(202);
    expect(log).toHaveBeenCalledWith(expect.stringContaining("mail_failed"));
  });

  it("resend: every send carries a timeout, so a hung provider cannot hold the request", async () => {
    const signals: (AbortSignal | null | undefined)[] = [];
    vi.stubGlobal("fetch", async (_url: string, init: RequestInit) => {
      signals.push(init.signal);
      return new Response("{}", { status: 200 });
    });
    const response = await sendWithEnv(
      { MAIL_TRANSPORT: "resend", RESEND_API_KEY: "re_test_key" },
      jsonRequest("/auth/signup", { email: freshEmail(), password: PASSWORD }),
    );
    expect(response.status).toBe(202);
    expect(signals[0]).toBeInstanceOf(AbortSignal);
    expect(signals[0]?.aborted).toBe(false);
  });

  it("log: writes one log line per message", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const email = freshEmail();
    const response = await sendWithEnv(
      { MAIL_TRANSPORT: "log" },
      jsonRequest("/auth/signup", { email, password: PASSWORD }),
    );
    expect(response.status).toBe(202);
    const line = log.mock.calls.map((args) => String(args[0])).find((text) => text.includes('"event":"mail"'));
    expect(JSON.parse(line ?? "{}")).toMatchObject({ to: email, subject: "Confirm your email address" });
  });
});

describe("log transport in production", () => {
  it("logs recipient and subject but never the body (it holds credentials)", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    const message = { to: "ada@example.com", subject: "Confirm", text: "secret-link", html: "<p>secret-link</p>" };
    await new LogMailer({ includeBodies: false }).send(message);
    const line = String(log.mock.calls.at(-1)?.[0]);
    expect(JSON.parse(line)).toMatchObject({ event: "mail", to: "ada@example.com", subject: "Confirm" });
    expect(line).not.toContain("secret-link");
  });
});

describe("GET /_dev/outbox", () => {
  it("lists a recipient's mail as {to, subject, text, html, created_at}", async () => {
    const email = freshEmail();
    await send(jsonRequest("/auth/signup", { email, password: PASSWORD }));
    const response = await send(`${BASE}/_dev/outbox?to=${encodeURIComponent(email.toUpperCase())}`);
    const mails = (await response.json()) as Record<string, string>[];
    expect(mails).toHaveLength(1);
    expect(Object.keys(mails[0] ?? {}).sort()).toEqual(["created_at", "html", "subject", "text", "to"]);
    expect(mails[0]?.html).toContain("<a href=");
  });

  it("needs a recipient", async () => {
    await expectError(await send(`${BASE}/_dev/outbox`), 400, "invalid_request");
  });

  it("does not exist in production", async () => {
    const response = await sendWithEnv(
      { ENVIRONMENT: "production", MAIL_TRANSPORT: "resend", RESEND_API_KEY: "re_test_key" },
      new Request(`${BASE}/_dev/outbox?to=a@example.com`),
    );
    await expectError(response, 404, "not_found");
  });
});
