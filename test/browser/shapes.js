// Runs in the page (cross-origin isolated: shared memory): strings of every UTF-8 class over shared memory, where
// Chromium's TextEncoder/TextDecoder refuse SharedArrayBuffer views, and shapes used by three module workers at once.
import { Heap } from '/dist/index.browser.js';

const workerUrl = new URL('./shapes-worker.js', import.meta.url);
const TEXTS = ['', 'ascii', 'ñéüß', '€漢字', '😀🎉𝄞', 'x'.repeat(48), 'x'.repeat(49), 'ñ'.repeat(30), '漢😀ab'.repeat(5000), 'a\ud800b', '\udc00'];

function reply(thread, message) {
  return new Promise((resolve) => {
    const onMessage = (m) => { if (m?.ready) return; thread.off('message', onMessage); resolve(m); };
    thread.on('message', onMessage);
    thread.postMessage(message);
  });
}

async function run() {
  let refusesShared = false;
  try { new TextDecoder().decode(new Uint8Array(new SharedArrayBuffer(4))); } catch { refusesShared = true; }
  const heap = await Heap.create({ debug: true, memory: { initialMiB: 4, maximumMiB: 128 } });
  const strings = TEXTS.map((text) => {
    const h = heap.string(text);
    const ok = heap.readString(h) === text.toWellFormed() && heap.strings.equals(h, text.toWellFormed())
      && heap.strings.byteLength(h) === new TextEncoder().encode(text).length;
    heap.decref(h);
    return ok;
  });
  const Counter = heap.shape('Counter', { hits: 'u32', total: 'f64', note: 'string' });
  const Item = heap.shape('Item', { worker: 'u8', label: 'string', next: 'self' });
  const counter = Counter.create({ note: TEXTS[8] });
  const threads = await Promise.all([0, 1, 2].map(() => heap.spawn(workerUrl)));
  const barrier = new Int32Array(new SharedArrayBuffer(8));
  const iterations = 500;
  const replies = await Promise.all(threads.map((t, index) => reply(t, { counter, iterations, index, barrier, ids: [Counter.id, Item.id] })));
  const c = Counter.at(counter);
  const item = Item.at(replies[0].list);
  const labels = [];
  for (const r of replies) {
    let n = 0;
    for (let h = r.list; h !== 0; h = item.next) { item.at(h); n++; if (n === 1) labels.push(item.label); }
    labels.push(n);
  }
  for (const r of replies) heap.decref(r.list);
  for (const t of threads) await t.terminate();
  heap.decref(counter);
  const live = heap.stats({ exact: true }).liveObjects;
  heap.verify();
  await heap.close();
  return {
    refusesShared, shared: heap.shared, strings, hits: c.hits, total: c.total, labels, live,
    workersReadNote: replies.map((r) => r.noteOk), workerIds: replies.map((r) => r.idsOk),
  };
}

run().then(
  (result) => { window.__result = result; },
  (error) => { window.__result = { error: String(error?.stack ?? error) }; },
);
