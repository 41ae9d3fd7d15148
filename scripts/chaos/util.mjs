// Small helpers shared by the chaos modules: progress lines, sleeping, rounding, percentiles.

const started = Date.now();

/** A progress line on stderr, stamped with seconds since the run started (stdout is the summary's). */
export function log(message) {
  process.stderr.write(`[chaos ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Seconds with millisecond precision, or null. */
export function seconds(ms) {
  return ms === undefined || ms === null ? null : Math.round(ms) / 1000;
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Counts of `key(item)` over `items`, as a plain object. */
export function countBy(items, key) {
  const counts = {};
  for (const item of items) {
    const k = String(key(item));
    counts[k] = (counts[k] ?? 0) + 1;
  }
  return counts;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  });
  await Promise.all(lanes);
  return results;
}
