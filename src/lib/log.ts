/**
 * @module lib/log
 * Structured logs: one JSON object per line, so Workers Logs can index the fields.
 * Never pass secrets, tokens or passwords in `fields`.
 */

export type LogLevel = "debug" | "info" | "warn" | "error";

export function logEvent(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, event, time: new Date().toISOString(), ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
