// Prints a results JSON (default bench/results/latest.json) as markdown tables, for bench/PERFORMANCE.md.
// Usage: node bench/markdown.mjs [results.json]
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bytesColumns, ratioColumns, table, timingColumns } from './lib/report.mjs';

const path = process.argv[2] ?? fileURLToPath(new URL('results/latest.json', import.meta.url));
const results = JSON.parse(readFileSync(path, 'utf8'));
const m = results.machine;
const out = [`Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node} (V8 ${m.v8}); ${m.date}; ${results.options.scale} run; load average ${m.loadBefore?.toFixed(2)} before, ${m.loadAfter?.toFixed(2)} after.`, ''];

out.push('### Ratios', '', table(ratioColumns, results.ratios, { markdown: true }), '');
for (const [name, suite] of Object.entries(results.suites)) {
  const columns = name === 'overhead' ? bytesColumns : timingColumns.filter((c) => c.key !== 'median');
  out.push(`### ${name}${suite.title ? `: ${suite.title}` : ''}`, '', table(columns, suite.rows, { markdown: true }), '');
}
console.log(out.join('\n'));
