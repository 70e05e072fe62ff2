/**
 * @module mail/mailer
 * Sends mail through the transport chosen by MAIL_TRANSPORT:
 *   outbox — kept in D1 for tests and developers (GET /_dev/outbox); never in production;
 *   log    — one structured log line per message (bodies only outside production);
 *   resend — Resend's REST API over fetch.
 */

import { logEvent } from "../lib/log";
import type { OutboxStore } from "./outbox-store";

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

export class OutboxMailer implements Mailer {
  readonly #outbox: OutboxStore;
  readonly #clock: () => number;

  constructor(outbox: OutboxStore, clock: () => number = Date.now) {
    this.#outbox = outbox;
    this.#clock = clock;
  }

  send(message: MailMessage): Promise<void> {
    return this.#outbox.insert(message, this.#clock());
  }
}

export class LogMailer implements Mailer {
  readonly #includeBodies: boolean;

  /** Bodies hold verification links, which are credentials: log them only in development. */
  constructor(options: { includeBodies: boolean }) {
    this.#includeBodies = options.includeBodies;
  }

  async send(message: MailMessage): Promise<void> {
    const body = this.#includeBodies ? { text: message.text } : {};
    logEvent("info", "mail", { to: message.to, subject: message.subject, ...body });
  }
}

export const RESEND_ENDPOINT = "https://api.resend.com/emails";
/** A hung provider must not hold a request (or its deferred work) open. */
export const MAIL_SEND_TIMEOUT_MS = 10_000;

export class ResendMailer implements Mailer {
  readonly #apiKey: string;
  readonly #from: string;

  constructor(apiKey: string, from: string) {
    this.#apiKey = apiKey;
    this.#from = from;
  }

  async send(message: MailMessage): Promise<void> {
    const response = await fetch(RESEND_ENDPOINT, {
      method: "POST",
      headers: { Authorization: `Bearer ${this.#apiKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({
        from: this.#from,
        to: [message.to],
        subject: message.subject,
        text: message.text,
        html: message.html,
      }),
      signal: AbortSignal.timeout(MAIL_SEND_TIMEOUT_MS),
    });
    if (!response.ok) {
      // The provider's answer may echo addresses; keep only the status.
      throw new Error(`mail provider answered ${response.status}`);
    }
  }
}

export interface MailSettings {
  transport: "outbox" | "log" | "resend";
  from: string;
  resendApiKey?: string;
  /** Log mail bodies (they hold links that are credentials): development only. */
  logBodies: boolean;
}

export function createMailer(settings: MailSettings, outbox: OutboxStore): Mailer {
  switch (settings.transport) {
    case "outbox":
      return new OutboxMailer(outbox);
    case "resend":
      // config.ts guarantees the key is present for this transport.
      return new ResendMailer(settings.resendApiKey ?? "", settings.from);
    case "log":
      return new LogMailer({ includeBodies: settings.logBodies });
  }
}
