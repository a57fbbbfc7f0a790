// cycles: the cost of a cycle collection (heap.collectCycles) per object, against CPython's gc.collect() on the same
// graph shapes, measured side by side in the same run when a python3 is on the PATH.
//   live      N objects in a chain held by one root: the collection scans them all and frees nothing
//   garbage   N objects in rings of 10 that nothing outside holds: the collection scans and frees them all
//   mutating  the live graph while 2 workers allocate, link and drop objects (cycles too): the pause each time
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { median, row } from '../lib/measure.mjs';
import { ratio } from '../lib/report.mjs';

const RING = 10;

// Two kinds of Python object on the same graphs: a plain class (what most Python code has) and one with __slots__.
const PYTHON = `
import gc, sys, time, json
class Plain:
    def __init__(self): self.next = None; self.value = 0.0
class Slotted:
    __slots__ = ('next', 'value')
    def __init__(self): self.next = None; self.value = 0.0
n, runs = int(sys.argv[1]), int(sys.argv[2])
gc.disable()
out = {}
for Node in (Plain, Slotted):
    live, garbage = [], []
    for _ in range(runs):
        root = Node(); prev = root
        for _ in range(n - 1):
            node = Node(); prev.next = node; prev = node
        gc.collect()
        t = time.perf_counter(); gc.collect(); live.append((time.perf_counter() - t) * 1e9 / n)
        for _ in range(n // ${RING}):
            first = Node(); p = first
            for _ in range(${RING} - 1):
                q = Node(); p.next = q; p = q
            p.next = first
        first = p = q = None
        t = time.perf_counter(); gc.collect(); garbage.append((time.perf_counter() - t) * 1e9 / n - live[-1])
        root = prev = node = None; gc.collect()
    out[Node.__name__] = {'live': live, 'garbage': garbage}
print(json.dumps(out))
`;

/** A chain of `n` objects (slot 0 of each names the next); returns the first, the one reference we hold. */
function chain(heap, n) {
  const root = heap.alloc(8, 1);
  let prev = root;
  for (let i = 1; i < n; i++) {
    const next = heap.alloc(8, 1);
    heap.setRef(prev, 0, next);
    heap.decref(next);
    prev = next;
  }
  return { root, last: prev };
}

/** `n / RING` rings of RING objects, none held from outside: garbage for the collector. */
function rings(heap, n) {
  for (let r = 0; r < n / RING; r++) {
    const { root, last } = chain(heap, RING);
    heap.setRef(last, 0, root);
    heap.decref(root);
  }
}

function timeCollection(heap) {
  const t0 = process.hrtime.bigint();
  const freed = heap.collectCycles({ timeoutMs: 60_000 });
  return { ns: Number(process.hrtime.bigint() - t0), freed };
}

export default async function cycles(ctx) {
  const { Heap } = await import(pathToFileURL(join(ctx.root, 'dist', 'index.js')).href);
  const n = ctx.pick({ tiny: 10_000, quick: 200_000, full: 1_000_000 });
  const runs = ctx.timing.runs;
  const heap = await Heap.create({ checked: false, memory: { initialMiB: 64, maximumMiB: 2048 } });
  const live = [], garbage = [];
  const { root } = chain(heap, n);
  heap.collectCycles(); // warm-up
  for (let r = 0; r < runs; r++) {
    ctx.progress(`cycles: run ${r + 1} of ${runs} (${n} objects)`);
    live.push(timeCollection(heap).ns / n);
    rings(heap, n);
    const { ns, freed } = timeCollection(heap);
    if (freed !== n) throw new Error(`cycles: freed ${freed} of ${n}`);
    garbage.push((ns - median(live) * n) / n); // what the garbage adds over scanning the live chain
  }

  // the pause while two workers mutate the heap
  ctx.progress('cycles: collections while 2 workers mutate');
  const sync = new Int32Array(new SharedArrayBuffer(8));
  const workerUrl = new URL('../../test/fixtures/cycles-worker.mjs', import.meta.url);
  // each worker says 'ready' once it joined: listen before anything else is awaited, or the message is missed
  const spawnReady = async () => {
    const w = await heap.spawn(workerUrl);
    await new Promise((resolve) => w.once('message', resolve));
    return w;
  };
  const workers = await Promise.all([spawnReady(), spawnReady()]);
  const rounds = ctx.pick({ tiny: 50, quick: 500, full: 2000 });
  const done = Promise.all(workers.map((w, i) => new Promise((resolve) => {
    w.once('message', resolve);
    w.postMessage({ op: 'mutate', seed: 77 + i, rounds, sync, parties: 2 });
  })));
  let finished = false;
  void done.then(() => { finished = true; });
  const pauses = [];
  while (!finished || pauses.length < 5) {
    pauses.push(timeCollection(heap).ns);
    await new Promise((r) => setTimeout(r, 1));
  }
  await done;
  heap.decref(root);
  heap.collectCycles();
  if (heap.stats({ exact: true }).liveObjects !== 0) throw new Error('cycles: objects left');
  await heap.close();

  const rows = [
    row('biasrc_live', live, { note: `ns per live object scanned (${n} objects)` }),
    row('biasrc_garbage', garbage, { note: `ns per garbage object freed (${n} objects, rings of ${RING})` }),
    row('pause_mutating', pauses, { note: `one collection of ${n} live objects while 2 workers mutate (${pauses.length} collections)` }),
  ];
  const ratios = [];
  const python = spawnSync('python3', ['-c', PYTHON, String(n), String(runs)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (python.status === 0) {
    const py = JSON.parse(python.stdout);
    rows.push(row('cpython_live', py.Plain.live, { note: 'gc.collect(), ns per live object (the same chain of plain objects)' }));
    rows.push(row('cpython_garbage', py.Plain.garbage, { note: 'gc.collect(), ns per garbage object (the same rings)' }));
    rows.push(row('cpython_slots_live', py.Slotted.live, { note: 'the same, objects with __slots__' }));
    rows.push(row('cpython_slots_garbage', py.Slotted.garbage, { note: 'the same, objects with __slots__' }));
    const ns = Object.fromEntries(rows.map((r) => [r.name, r.nsPerOp]));
    ratios.push(ratio('cpython/biasrc (live)', ns.cpython_live / ns.biasrc_live, { op: '>=', target: 5 }));
    ratios.push(ratio('cpython/biasrc (garbage)', ns.cpython_garbage / ns.biasrc_garbage, { op: '>=', target: 5 }));
    ratios.push(ratio('cpython_slots/biasrc (live)', ns.cpython_slots_live / ns.biasrc_live));
    ratios.push(ratio('cpython_slots/biasrc (garbage)', ns.cpython_slots_garbage / ns.biasrc_garbage));
  } else {
    ctx.progress('cycles: no python3 on the PATH: CPython not measured');
  }
  return { title: 'cycle collection per object, and CPython\'s gc.collect() on the same graphs', rows, ratios };
}
