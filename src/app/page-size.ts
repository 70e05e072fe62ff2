/**
 * @module app/page-size
 * The `limit` query parameter of the admin API's lists.
 */
import { invalidRequest } from "./errors/codes";

/** `limit` as a page size: 50 when absent, else a whole number from 1 to 200. */
export function pageSize(raw: string | undefined): number {
  if (raw === undefined) return 50;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 200) throw invalidRequest("limit: a whole number from 1 to 200");
  return n;
}
