/**
 * @module app/request-context
 * One request's context, handed to services: the time the request is handled
 * at, who sent it, its audit log, and `defer` for work that runs after the
 * response. Deferred work never fails the request; a failure is always logged
 * with its label.
 */
import type { AuditLog } from "../audit/audit-log";
import { logEvent } from "../lib/log";

/** Who sent the request: filled in once per request by the app. */
export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
  country: string | null;
  requestId: string | null;
}

/**
 * Runs `work` after the response. A rejection is logged as the event
 * `<label>_failed` (e.g. `audit_write_failed`), with `fields` and the request id.
 */
export type Defer = (work: Promise<unknown>, label: string, fields?: Record<string, unknown>) => void;

export interface RequestContext {
  /** Epoch ms the request is handled at: one clock for every decision it makes. */
  readonly now: number;
  readonly meta: RequestMeta;
  readonly audit: AuditLog;
  readonly defer: Defer;
}

/** A Defer over `waitUntil` (ctx.waitUntil in a Worker) that logs every failure. */
export function deferrer(waitUntil: (promise: Promise<unknown>) => void, requestId: string | null): Defer {
  return (work, label, fields = {}) => {
    waitUntil(
      work.then(
        () => undefined,
        (error: unknown) =>
          logEvent("error", `${label}_failed`, { ...fields, request_id: requestId, error: String(error) }),
      ),
    );
  };
}
