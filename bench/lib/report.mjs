// Tables for the terminal and the ratio records that go to the JSON.

/** A ratio with its goal ('<=' or '>=' target, or none) and the paper's figure for the same comparison. */
export function ratio(name, value, { op = null, target = null, paper = null, note = '' } = {}) {
  const ok = Number.isFinite(value);
  const met = op === null || !ok ? null : op === '<=' ? value <= target : value >= target;
  return { name, value: ok ? value : null, goal: op === null ? null : `${op} ${target}`, op, target, paper, met, note };
}

export function formatTime(ns) {
  if (!Number.isFinite(ns)) return '-';
  if (ns < 1e3) return `${ns.toFixed(ns < 10 ? 2 : 1)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(1)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(2)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

export function formatRate(perSec) {
  if (!Number.isFinite(perSec)) return '-';
  if (perSec >= 1e6) return `${(perSec / 1e6).toFixed(1)} M/s`;
  if (perSec >= 1e3) return `${(perSec / 1e3).toFixed(1)} k/s`;
  return `${perSec.toFixed(1)} /s`;
}

export const timingColumns = [
  { key: 'name', title: 'case' },
  { key: 'nsPerOp', title: 'ns/op (median)', format: formatTime },
  { key: 'opsPerSec', title: 'ops/s', format: formatRate },
  { key: 'min', title: 'min', format: formatTime },
  { key: 'median', title: 'median', format: formatTime },
  { key: 'max', title: 'max', format: formatTime },
  { key: 'runs', title: 'runs', format: (r) => String(r.length) },
  { key: 'note', title: 'op', format: (v) => v ?? '' },
];

/** A plain text table; also used (with markdown = true) for PERFORMANCE.md. */
export function table(columns, rows, { markdown = false } = {}) {
  const cells = rows.map((r) => columns.map((c) => (c.format ? c.format(r[c.key], r) : String(r[c.key] ?? ''))));
  const head = columns.map((c) => c.title);
  if (markdown) {
    const line = (xs) => `| ${xs.join(' | ')} |`;
    return [line(head), line(head.map(() => '---')), ...cells.map(line)].join('\n');
  }
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (xs) => xs.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

export const ratioColumns = [
  { key: 'suite', title: 'suite' },
  { key: 'name', title: 'ratio' },
  { key: 'value', title: 'measured', format: (v) => (v === null ? '-' : v.toFixed(v >= 100 ? 0 : 2)) },
  { key: 'goal', title: 'goal', format: (v) => v ?? '(info)' },
  { key: 'paper', title: 'paper', format: (v) => (v === null ? '-' : String(v)) },
  { key: 'met', title: 'met', format: (v) => (v === null ? '' : v ? 'yes' : 'NO') },
];

const bytes = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1));

/** Columns of the overhead suite (sizes, not times). */
export const bytesColumns = [
  { key: 'name', title: 'case' },
  { key: 'header', title: 'header', format: bytes },
  { key: 'block', title: 'block bytes/object', format: bytes },
  { key: 'overhead', title: 'overhead (block - payload)', format: bytes },
  { key: 'usable', title: 'usable payload', format: bytes },
  { key: 'footprint', title: 'footprint bytes/object (pages)', format: bytes },
];
