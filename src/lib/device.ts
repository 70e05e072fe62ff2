/**
 * @module lib/device
 * A coarse device label for "new sign-in" mail: browser family + OS family +
 * country. Coarse on purpose: a browser update must not look like a new device.
 */

const BROWSERS: [RegExp, string][] = [
  [/Edg\//, "Edge"],
  [/OPR\/|Opera/, "Opera"],
  [/Firefox\//, "Firefox"],
  [/Chrome\/|CriOS\//, "Chrome"],
  [/Safari\//, "Safari"],
  [/curl\//, "curl"],
];

const SYSTEMS: [RegExp, string][] = [
  [/Android/, "Android"],
  [/iPhone|iPad|iPod/, "iOS"],
  [/Windows/, "Windows"],
  [/Mac OS X|Macintosh/, "macOS"],
  [/CrOS/, "ChromeOS"],
  [/Linux/, "Linux"],
];

function family(userAgent: string, table: [RegExp, string][]): string {
  return table.find(([pattern]) => pattern.test(userAgent))?.[1] ?? "Other";
}

export function deviceLabel(userAgent: string | null, country: string | null): string {
  const ua = userAgent ?? "";
  return `${family(ua, BROWSERS)} on ${family(ua, SYSTEMS)} (${country ?? "unknown country"})`;
}
