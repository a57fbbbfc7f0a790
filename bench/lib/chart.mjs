// The SVG chart of the mix and scaling suites: a vega-lite spec, compiled to vega, rendered headless by vega's own
// SVG renderer (new vega.View(...).toSVG()), so no canvas and no hand-written drawing code.
import * as vega from 'vega';
import { compile } from 'vega-lite';

function mixChart(mix) {
  return {
    title: 'mix: throughput vs share of ops on other threads\' objects',
    width: 320,
    height: 220,
    data: { values: mix.rows.map((r) => ({ share: `${r.p}%`, impl: r.impl, mops: r.opsPerSec / 1e6 })) },
    mark: { type: 'line', point: true },
    encoding: {
      // ordinal: 0, 1 and 10 % would crowd together on a linear axis
      x: { field: 'share', type: 'ordinal', sort: null, title: 'ops on objects owned by another thread', axis: { labelAngle: 0 } },
      y: { field: 'mops', type: 'quantitative', title: 'Mops/s, all threads (incref+decref pairs)' },
      color: { field: 'impl', type: 'nominal', title: null },
    },
  };
}

function scalingChart(scaling) {
  const one = scaling.rows.find((r) => r.threads === 1)?.opsPerSec ?? 0;
  const values = scaling.rows.flatMap((r) => [
    { threads: r.threads, series: 'BRC owner-local', mops: r.opsPerSec / 1e6 },
    { threads: r.threads, series: 'linear (ideal)', mops: (one * r.threads) / 1e6 },
  ]);
  return {
    title: 'scaling: owner-local BRC throughput',
    width: 320,
    height: 220,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'threads', type: 'quantitative', title: 'threads', axis: { tickMinStep: 1 } },
      y: { field: 'mops', type: 'quantitative', title: 'Mops/s, all threads' },
      color: { field: 'series', type: 'nominal', title: null },
      strokeDash: { field: 'series', type: 'nominal', legend: null },
    },
  };
}

/** SVG text of the charts for the suites that ran, or null if neither mix nor scaling did. */
export async function renderChart(results) {
  const charts = [];
  if (results.suites.mix) charts.push(mixChart(results.suites.mix));
  if (results.suites.scaling) charts.push(scalingChart(results.suites.scaling));
  if (!charts.length) return null;
  const m = results.machine;
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'biasrc benchmarks', subtitle: `${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.date.slice(0, 10)}, ${results.options.scale} run` },
    hconcat: charts,
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
    config: { background: 'white' },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
