/**
 * @module lib/settled
 * For work started early and looked at later: `settled(promise)` never rejects,
 * so an early exit in between leaves no unhandled rejection, and `unwrap`
 * rethrows the failure where the result is finally needed.
 */

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export function settled<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

export function unwrap<T>(result: Settled<T>): T {
  if (!result.ok) throw result.error;
  return result.value;
}
