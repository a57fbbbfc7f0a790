// Runs in the page (issue 11.5): a worker that closes itself is noticed: exited resolves, 'exit' fires, its tid is
// reused by a later spawn, what it owned is not counted as orphans. Once through self.close() (biasrc's wrapper
// detaches it first) and once through the browser's own close, which nothing wraps (the watchdog detaches it).
import { Heap } from '/dist/index.browser.js';

const workerUrl = new URL('./lifecycle-worker.js', import.meta.url);

function answer(thread, key, message) {
  return new Promise((resolve) => {
    const on = (m) => { if (m && key in m) { thread.off('message', on); resolve(m); } };
    thread.on('message', on);
    if (message) thread.postMessage(message);
  });
}

const progress = (what) => { (window.__progress ??= []).push(what); };

async function closesItself(heap, op) {
  progress(`${op}: spawn`);
  const thread = await heap.spawn(workerUrl);
  progress(`${op}: spawned tid ${thread.tid}`);
  const { handles } = await answer(thread, 'handles', { op: 'make', count: 20 });
  const events = [];
  thread.on('exit', (code) => events.push(`on ${code}`));
  thread.addEventListener('exit', (e) => events.push(`event ${e.detail}`));
  thread.postMessage({ op });
  progress(`${op}: asked to close`);
  // (a hang guard, so that a worker never noticed fails the test with a word instead of a page timeout)
  const code = await Promise.race([thread.exited, new Promise((r) => setTimeout(() => r('never noticed'), 20_000))]);
  if (code === 'never noticed') return { op, tid: thread.tid, code, events };
  progress(`${op}: exited ${code}`);
  const after = heap.stats();
  const owner = heap.info(handles[0]).owner;
  for (const h of handles) heap.decref(h);
  const next = await heap.spawn(workerUrl); // the tid is free again
  progress(`${op}: next spawned tid ${next.tid}`);
  const result = { op, tid: thread.tid, code, events, threadsAfter: after.threads, orphans: after.orphans, ownerAfter: owner, nextTid: next.tid, running: heap.threads.length };
  await next.terminate();
  return result;
}

async function run() {
  const heap = await Heap.create({ debug: true, maxThreads: 2, memory: { initialMiB: 2, maximumMiB: 64 } });
  if (!heap.shared) return { error: 'not cross-origin isolated' };
  // maxThreads 2: a tid that was not freed would make the next spawn fail with ETHREADS
  const cases = [];
  const only = new URLSearchParams(location.search).get('cases');
  for (const op of only ? only.split(',') : ['close', 'rawClose']) cases.push(await closesItself(heap, op));
  const stats = heap.stats({ exact: true });
  heap.verify();
  await heap.close();
  return { cases, liveObjects: stats.liveObjects, threads: stats.threads };
}

run().then(
  (result) => { window.__result = result; },
  (error) => { window.__result = { error: String(error?.stack ?? error) }; },
);
