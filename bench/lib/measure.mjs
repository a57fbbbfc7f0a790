// Timing and statistics shared by the suites.
import { performance } from 'node:perf_hooks';

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A result row from per-run ns/op values: the table and the JSON both read these fields. */
export function row(name, nsPerOpRuns, extra = {}) {
  const med = median(nsPerOpRuns);
  return {
    name,
    nsPerOp: med,
    opsPerSec: 1e9 / med,
    min: Math.min(...nsPerOpRuns),
    median: med,
    max: Math.max(...nsPerOpRuns),
    runs: nsPerOpRuns,
    ...extra,
  };
}

/** Grows n until one call of fn(n) takes at least targetMs / 4, then scales it to about targetMs. */
export function calibrate(fn, targetMs, start = 1000) {
  let n = start;
  for (;;) {
    const t0 = performance.now();
    fn(n);
    const ms = performance.now() - t0;
    if (ms >= targetMs / 4 || n >= 2 ** 30) return Math.max(1, Math.min(2 ** 31 - 1, Math.round((n * targetMs) / Math.max(ms, 1e-3))));
    n *= ms < targetMs / 64 ? 8 : 2;
  }
}

/** One clock for every thread of the process (performance.now() has a per-thread origin). */
export const nowNs = () => Number(process.hrtime.bigint());

/**
 * Times several cases with their runs interleaved (case A run 1, case B run 1, ..., case A run 2, ...), so a burst
 * of load from another process on this shared machine spreads over every case instead of skewing one of them.
 * cases: [{ name, fn(n), n, ops? }]; returns { name: [ns/op per timed run] }.
 */
export function timeInterleaved(cases, { warmup, runs }) {
  for (const c of cases) for (let i = 0; i < warmup; i++) c.fn(c.n);
  const out = Object.fromEntries(cases.map((c) => [c.name, []]));
  for (let r = 0; r < runs; r++) {
    for (const c of cases) {
      const t0 = performance.now();
      c.fn(c.n);
      out[c.name].push(((performance.now() - t0) * 1e6) / (c.ops ?? c.n));
    }
  }
  return out;
}
