// shapes: typed objects through heap.shape against the same work written by hand.
//   tree steps (bench/workers/shapes.mjs): build a 100,000-node binary tree in one worker, hand it to another, walk
//   it there; four ways: the shape API, hand-written DataView code over the same heap, @bnaya/objectbuffer, and plain
//   JS objects sent by structured clone. One op = one tree. A hand-off is timed 5 times a round (the median is kept):
//   it is one message, and a thread's wake-up varies as much on a busy machine.
//   field steps (this thread): one field read or write through a shape accessor already pointed at its object,
//   against DataView.getFloat64 / getUint32 (set...) at the hand-computed address; 1,024 objects in turn, an f64
//   and a u32 field each, so one op = one field access. Both on a checked heap (the default): the shape's setter
//   checks the value's type and range, DataView's converts whatever it is given.
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { calibrate, row, timeInterleaved } from '../lib/measure.mjs';
import { ratio } from '../lib/report.mjs';
import { runWorkers } from '../lib/workers.mjs';

const KINDS = ['shape', 'dataview', 'objectbuffer', 'clone'];

export default async function shapes(ctx) {
  const { Heap } = await import(pathToFileURL(join(ctx.root, 'dist', 'index.js')).href);
  const nodes = ctx.pick({ tiny: 1000, quick: 100_000, full: 100_000 });
  const heap = await Heap.create({ maxThreads: 8, memory: { initialMiB: 32, maximumMiB: 512 } });
  const share = { module: heap.module, memory: heap.memory, debug: false, checked: true, cycles: {} };

  ctx.progress(`shapes: ${nodes} nodes, ${ctx.timing.warmup + ctx.timing.runs} rounds of ${KINDS.join(', ')}`);
  const { port1, port2 } = new MessageChannel();
  const [runs] = await runWorkers('shapes', 2, { share, nodes, timing: ctx.timing, kinds: KINDS },
    (index) => ({ data: { port: index === 0 ? port1 : port2 }, transfer: [index === 0 ? port1 : port2] }));

  const note = `one tree of ${nodes.toLocaleString('en')} nodes`;
  const what = {
    build: { shape: 'Node.create({ value, id, left, right })', dataview: 'alloc + DataView sets + setRef', objectbuffer: 'JS tree + createObjectBuffer', clone: 'object literals' },
    handoff: { shape: 'postMessage of the root handle', dataview: 'postMessage of the root handle', objectbuffer: 'postMessage of the SharedArrayBuffer + loadObjectBuffer', clone: 'postMessage of the tree (structured clone)' },
    walk: { shape: 'accessor.at(h), .value .id .left .right', dataview: 'DataView gets + getRef', objectbuffer: 'property reads through its proxies', clone: 'property reads' },
  };
  const rows = [];
  for (const step of ['build', 'handoff', 'walk']) {
    for (const kind of KINDS) {
      rows.push(row(`${step}_${kind}`, runs[kind].map((r) => r[step]), { note: `${step === 'handoff' ? 'send to usable' : note}: ${what[step][kind]}` }));
    }
  }
  rows.splice(1, 0, row('build_shape_into', runs.shapeInto.map((r) => r.build), { note: `${note}: Node.create(null, accessor), fields set through it` }));
  for (const kind of ['shape', 'dataview']) {
    rows.push(row(`release_${kind}`, runs[kind].map((r) => r.release), { note: "receiver's decref (queues) + owner's collect (frees)" }));
  }

  // ---- one field access ----
  const Node = heap.shape('TreeNode', { value: 'f64', id: 'u32', left: 'self', right: 'self' });
  const N = 1024;
  const handles = [], plain = [];
  for (let i = 0; i < N; i++) {
    handles.push(Node.create({ value: i, id: i }));
    plain.push(heap.alloc(12, 2));
  }
  const accessors = handles.map((h) => Node.at(h));
  const addresses = plain.map((h) => h >>> 0);
  const PAYLOAD = 16 + 2 * 4;
  const dv = new DataView(heap.memory.buffer); // no allocation below: the memory does not grow
  let sink = 0;
  const fieldCases = [
    { name: 'field_get_shape', fn: (n) => { let s = 0; for (let r = 0; r < n; r++) for (let i = 0; i < N; i++) { const o = accessors[i]; s += o.value + o.id; } sink += s; } },
    { name: 'field_get_dataview', fn: (n) => { let s = 0; for (let r = 0; r < n; r++) for (let i = 0; i < N; i++) { const a = addresses[i]; s += dv.getFloat64(a + PAYLOAD, true) + dv.getUint32(a + PAYLOAD + 8, true); } sink += s; } },
    { name: 'field_set_shape', fn: (n) => { for (let r = 0; r < n; r++) for (let i = 0; i < N; i++) { const o = accessors[i]; o.value = r; o.id = i; } } },
    { name: 'field_set_dataview', fn: (n) => { for (let r = 0; r < n; r++) for (let i = 0; i < N; i++) { const a = addresses[i]; dv.setFloat64(a + PAYLOAD, r, true); dv.setUint32(a + PAYLOAD + 8, i, true); } } },
  ];
  ctx.progress('shapes: field get/set');
  for (const c of fieldCases) {
    c.n = calibrate(c.fn, ctx.targetMs, 1);
    c.ops = c.n * N * 2;
  }
  const fieldNs = timeInterleaved(fieldCases, ctx.timing);
  for (const c of fieldCases) rows.push(row(c.name, fieldNs[c.name], { note: `one field access (${N} objects, an f64 and a u32 each)` }));
  if (!Number.isFinite(sink)) throw new Error('shapes: the field loops read garbage');
  for (const h of [...handles, ...plain]) heap.decref(h);
  if (heap.stats().liveObjects !== 0) throw new Error('shapes: objects left after the field steps');
  await heap.close();

  const ns = Object.fromEntries(rows.map((r) => [r.name, r.nsPerOp]));
  const ratios = [];
  for (const step of ['build', 'handoff', 'walk']) {
    ratios.push(ratio(`shape/dataview ${step}`, ns[`${step}_shape`] / ns[`${step}_dataview`], { op: '<=', target: 1.3 }));
  }
  ratios.push(ratio('shape/dataview build (into)', ns.build_shape_into / ns.build_dataview, { note: 'the allocation-free create(null, accessor)' }));
  for (const step of ['build', 'handoff', 'walk']) {
    ratios.push(ratio(`objectbuffer/shape ${step}`, ns[`${step}_objectbuffer`] / ns[`${step}_shape`], { op: '>=', target: 1, note: 'above 1: the shape API is faster' }));
  }
  ratios.push(ratio('field get shape/dataview', ns.field_get_shape / ns.field_get_dataview, { op: '<=', target: 1.5 }));
  ratios.push(ratio('field set shape/dataview', ns.field_set_shape / ns.field_set_dataview, { op: '<=', target: 1.5 }));
  const total = (k) => ns[`build_${k}`] + ns[`handoff_${k}`] + ns[`walk_${k}`];
  ratios.push(ratio('clone/shape (build+hand-off+walk)', total('clone') / total('shape'), { note: 'end to end, release not included' }));
  ratios.push(ratio('objectbuffer/shape (build+hand-off+walk)', total('objectbuffer') / total('shape'), { note: 'end to end' }));
  return { title: `shapes: a ${nodes.toLocaleString('en')}-node tree from one worker to another, and one field access`, rows, ratios };
}
