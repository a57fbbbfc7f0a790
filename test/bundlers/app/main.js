// A small app as a user writes it: 'biasrc' from node_modules, a worker written the way bundlers recognise.
// Built by Vite, esbuild, webpack and Rollup (test/bundlers.test.ts); the page reports in window.__result.
import { Heap } from 'biasrc';

const WORKERS = 3;
const ROUNDS = 200;

// the form bundlers find and bundle (the worker's imports included); a function, so nothing starts if spawn refuses
const startWorker = () => new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });

function reply(thread, message) {
  return new Promise((resolve) => {
    const onMessage = (data) => { thread.off('message', onMessage); resolve(data); };
    thread.on('message', onMessage);
    thread.postMessage(message);
  });
}

// waits for the other threads' releases to be merged (no timing assumption: poll until done, or report the state)
async function until(check, what) {
  for (let i = 0; i < 3000; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`gave up waiting for ${what}`);
}

async function threaded(heap) {
  // the shared structure: a root with one slot holding a counter (8 bytes)
  const root = heap.alloc(0, 1);
  const counter = heap.alloc(8);
  heap.setRef(root, 0, counter);
  heap.decref(counter);
  const threads = await Promise.all(Array.from({ length: WORKERS }, () => heap.spawn(startWorker)));
  // each worker gets a reference of its own to the root (it moves with the handle) and releases it when done
  const results = await Promise.all(threads.map((thread) => {
    heap.incref(root);
    return reply(thread, { root, rounds: ROUNDS });
  }));
  const count = heap.withLock(root, () => heap.view(heap.getRef(root, 0)).getUint32(0, true));
  heap.decref(root);
  await until(() => heap.stats().liveObjects === 0, 'the structure to be freed');
  const liveObjects = heap.stats().liveObjects;
  heap.verify();
  const tids = threads.map((thread) => thread.tid);
  await Promise.all(threads.map((thread) => thread.terminate()));
  const threadsAfter = heap.stats().threads;
  heap.verify();
  // a worker script a bundler did not bundle (what Vite makes of `spawn(new URL('./worker.js', import.meta.url))`:
  // a data: URL of the unbundled file): spawn says what to write instead
  let unbundled;
  try {
    await heap.spawn('data:text/javascript,import "biasrc/worker";');
  } catch (error) {
    unbundled = { code: error.code, message: error.message };
  }
  await heap.close();
  return { count, expected: WORKERS * ROUNDS, results, tids, liveObjects, threadsAfter, unbundled };
}

async function singleThread(heap) {
  const root = heap.alloc(0, 1);
  const counter = heap.alloc(8);
  heap.setRef(root, 0, counter);
  heap.decref(counter);
  heap.withLock(root, () => heap.view(heap.getRef(root, 0)).setUint32(0, 7, true));
  heap.decref(root);
  let spawnError;
  try {
    await heap.spawn(startWorker);
  } catch (error) {
    spawnError = { code: error.code, message: error.message };
  }
  heap.verify();
  const liveObjects = heap.stats().liveObjects;
  await heap.close();
  // a location for one build only keeps the fallback; a location that is wrong says so
  const moved = await Heap.create({ wasm: { threaded: '/moved/biasrc.wasm' } });
  const movedShared = moved.shared;
  await moved.close();
  let loadError;
  try {
    await Heap.create({ wasm: { single: '/moved/biasrc.single.wasm' } });
  } catch (error) {
    loadError = { code: error.code, message: error.message };
  }
  return { liveObjects, spawnError, movedShared, loadError };
}

async function run() {
  const heap = await Heap.create({ debug: true, memory: { initialMiB: 2, maximumMiB: 64 } });
  const base = { crossOriginIsolated: globalThis.crossOriginIsolated === true, shared: heap.shared, debug: heap.debug };
  return { ...base, ...(heap.shared ? await threaded(heap) : await singleThread(heap)) };
}

run().then(
  (result) => { window.__result = result; },
  (error) => { window.__result = { error: String(error?.stack ?? error), code: error?.code }; },
);
