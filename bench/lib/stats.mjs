// Statistics and table output for bench/run.mjs.

export const round3 = (x) => Math.round(x * 1000) / 1000;
export const round1 = (x) => Math.round(x * 10) / 10;

/** Nearest-rank: the smallest value with at least q of the samples at or below it. */
export function quantile(sorted, q) {
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1];
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Latency figures of one series. `wallMs` is the wall time the series took;
 * requests_per_s = n / wall time. `keepSamples`: include every sample (for small series).
 */
export function summarize(samples, wallMs, { keepSamples = true } = {}) {
  const sorted = [...samples].sort((a, b) => a - b);
  const summary = {
    n: samples.length,
    median_ms: round3(median(samples)),
    p95_ms: round3(quantile(sorted, 0.95)),
    p99_ms: round3(quantile(sorted, 0.99)),
    min_ms: round3(sorted[0]),
    max_ms: round3(sorted[sorted.length - 1]),
    mean_ms: round3(samples.reduce((a, b) => a + b, 0) / samples.length),
    requests_per_s: round1(samples.length / (wallMs / 1000)),
  };
  if (keepSamples) summary.samples_ms = samples.map(round3);
  return summary;
}

/** A plain-text table: first row is the header, first column left-aligned, the rest right-aligned. */
export function table(rows) {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => String(row[col]).length)));
  const line = (row) =>
    row
      .map((cell, col) => (col === 0 ? String(cell).padEnd(widths[col]) : String(cell).padStart(widths[col])))
      .join("  ");
  return [line(rows[0]), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)].join("\n");
}

export const ms = (x) => (x === undefined || x === null ? "-" : x.toFixed(2));
export const signedMs = (x) => `${x >= 0 ? "+" : ""}${x.toFixed(2)}`;
