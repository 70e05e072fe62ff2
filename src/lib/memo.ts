/**
 * @module lib/memo
 * Named values built on first use and kept: the lazy wiring of the composition root.
 */

export class Memo {
  readonly #built = new Map<string, unknown>();

  /** The value built for `name`; `build` runs only the first time. */
  get<T>(name: string, build: () => T): T {
    if (!this.#built.has(name)) this.#built.set(name, build());
    return this.#built.get(name) as T;
  }
}
