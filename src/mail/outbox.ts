/**
 * @module mail/outbox
 * Reading the development outbox (GET /_dev/outbox): what the outbox transport kept for one address.
 */
import { normalizeEmail } from "../lib/email";
import type { OutboxMessage, OutboxStore } from "./outbox-store";

export class Outbox {
  readonly #store: OutboxStore;

  constructor(options: { store: OutboxStore }) {
    this.#store = options.store;
  }

  /** Newest last. */
  listFor(email: string): Promise<OutboxMessage[]> {
    return this.#store.listFor(normalizeEmail(email));
  }
}
