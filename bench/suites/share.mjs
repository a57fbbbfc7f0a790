// share: hand a 100,000-node tree from one worker to another. biasrc sends only the root's handle (the nodes already
// live in the shared memory); the plain-JS way is postMessage of an equivalent object tree, i.e. a structured clone.
// Both go over the same MessagePort, so the hand-off times differ only by what has to be copied. One op = one tree.
import { compileCore, createSharedMemory, instantiateCore } from '../../dist/index.js';
import { row } from '../lib/measure.mjs';
import { ratio } from '../lib/report.mjs';
import { runWorkers } from '../lib/workers.mjs';

export default async function share(ctx) {
  const nodes = ctx.pick({ tiny: 1000, quick: 100_000, full: 100_000 });
  const module = await compileCore();
  const memory = createSharedMemory({ initialMiB: 16, maximumMiB: 256 });
  const core = await instantiateCore(module, memory);
  if (core.exports.brc_init(8, (256 * 1024 * 1024) / 65536) !== 0) throw new Error('share: brc_init failed');

  ctx.progress(`share: ${nodes} nodes, ${ctx.timing.warmup + ctx.timing.runs} rounds each way`);
  const { port1, port2 } = new MessageChannel();
  const [runs] = await runWorkers('share', 2, { module, memory, nodes, timing: ctx.timing },
    (index) => ({ data: { port: index === 0 ? port1 : port2 }, transfer: [index === 0 ? port1 : port2] }));

  const note = `one tree of ${nodes.toLocaleString('en')} nodes`;
  const series = (kind, field) => runs[kind].map((r) => r[field]);
  const rows = [
    row('build_biasrc', series('biasrc', 'build'), { note: `${note}: brc_alloc + brc_set_ref from JS` }),
    row('build_js', series('clone', 'build'), { note: `${note}: object literals` }),
    row('handoff_biasrc', series('biasrc', 'handoff'), { note: 'postMessage of the root handle, send to usable' }),
    row('handoff_clone', series('clone', 'handoff'), { note: 'postMessage of the tree, send to usable' }),
    row('walk_biasrc', series('biasrc', 'walk'), { note: `${note}: brc_get_ref + payload reads` }),
    row('walk_js', series('clone', 'walk'), { note: `${note}: property reads` }),
    row('release_biasrc', series('biasrc', 'release'), { note: "receiver's decref (queues) + owner's collect (frees)" }),
  ];
  const ns = Object.fromEntries(rows.map((r) => [r.name, r.nsPerOp]));
  const total = (k) => ns[`build_${k === 'clone' ? 'js' : k}`] + ns[`handoff_${k}`] + ns[`walk_${k === 'clone' ? 'js' : k}`];
  return {
    title: `${nodes.toLocaleString('en')}-node tree from one worker to another`,
    rows,
    ratios: [
      ratio('clone/biasrc', ns.handoff_clone / ns.handoff_biasrc, { op: '>=', target: 20, note: 'hand-off: send to received-and-usable' }),
      ratio('clone/biasrc (build+hand-off+walk)', total('clone') / total('biasrc'), { note: 'end to end, release not included' }),
    ],
  };
}
