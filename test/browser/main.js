// Runs in the page: the built package as ESM, two module workers sharing and releasing objects.
import { Heap } from '/dist/index.browser.js';

const workerUrl = new URL('./worker.js', import.meta.url);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function reply(thread, message) {
  return new Promise((resolve) => {
    const onMessage = (m) => { if (m?.ready) return; thread.off('message', onMessage); resolve(m); };
    thread.on('message', onMessage);
    thread.postMessage(message);
  });
}

async function until(check, what) {
  for (let i = 0; i < 500; i++) { if (check()) return; await sleep(10); }
  throw new Error(`timed out waiting for ${what}`);
}

async function threaded(heap) {
  const [w1, w2] = await Promise.all([heap.spawn(workerUrl), heap.spawn(workerUrl)]);
  // w1 makes objects and moves one reference of each to us; we move them on to w2, which releases them: w1's
  // counts are then merged by w1 itself while its event loop is idle (it is notified through Atomics.waitAsync)
  const { handles } = await reply(w1, { op: 'make', count: 200 });
  const owners = [...new Set(handles.map((h) => heap.info(h).owner))];
  const values = handles.slice(0, 3).map((h) => heap.view(h).getUint32(0, true));
  await reply(w2, { op: 'release', handles });
  await until(() => heap.stats().liveObjects === 0, 'w1 to merge its queue');
  // and the other way: our objects released by a worker
  const mine = Array.from({ length: 100 }, () => heap.alloc(16));
  await reply(w1, { op: 'release', handles: mine });
  await until(() => heap.stats().liveObjects === 0, 'our idle merge');
  heap.verify();
  // a cycle across two owners (w1's object and ours), collected from a main thread that may not block: the
  // workers, idle in their event loops, acknowledge the pause there
  const [theirs] = (await reply(w1, { op: 'make', count: 1 })).handles;
  const ours = heap.alloc(0, 1);
  heap.setRef(ours, 0, theirs);
  heap.setRef(theirs, 0, ours); // (the worker makes its objects with one slot)
  heap.decref(ours);
  heap.decref(theirs);
  const cycleFreed = heap.collectCycles();
  const exactLive = heap.stats({ exact: true }).liveObjects;
  const threadsBefore = heap.stats().threads;
  await w1.terminate();
  await w2.terminate();
  const threadsAfter = heap.stats().threads;
  heap.verify();
  await heap.close();
  return { tids: [w1.tid, w2.tid], owners, values, threadsBefore, threadsAfter, cycleFreed, exactLive };
}

async function singleThread(heap) {
  const a = heap.alloc(8, 1), b = heap.alloc(4);
  heap.setRef(a, 0, b);
  heap.decref(b);
  heap.decref(a);
  // a cycle, collected in the single-thread build (a page without SharedArrayBuffer at all)
  const c = heap.alloc(0, 1), d = heap.alloc(0, 1);
  heap.setRef(c, 0, d);
  heap.setRef(d, 0, c);
  heap.decref(c);
  heap.decref(d);
  const cycleFreed = heap.collectCycles();
  const exactLive = heap.stats({ exact: true }).liveObjects;
  let spawnError = null;
  try { await heap.spawn(workerUrl); } catch (e) { spawnError = { code: e.code, message: e.message }; }
  heap.verify();
  return { liveObjects: heap.stats().liveObjects, spawnError, cycleFreed, exactLive, sharedArrayBuffer: typeof SharedArrayBuffer };
}

async function run() {
  const heap = await Heap.create({ debug: true, memory: { initialMiB: 2, maximumMiB: 64 } });
  const base = { crossOriginIsolated: globalThis.crossOriginIsolated === true, shared: heap.shared };
  return { ...base, ...(heap.shared ? await threaded(heap) : await singleThread(heap)) };
}

run().then(
  (result) => { window.__result = result; },
  (error) => { window.__result = { error: String(error?.stack ?? error) }; },
);
