// A module Web Worker: declares the shapes itself, waits on a barrier with the others, updates the counter under
// its lock, reads a long string field (decoded over shared memory), and builds a list it hands to the page.
import { joinHeap } from '/dist/worker.browser.js';
import { barrier } from '/scripts/lib/threads.mjs';

const heap = await joinHeap();
const Counter = heap.shape('Counter', { hits: 'u32', total: 'f64', note: 'string' });
const Item = heap.shape('Item', { worker: 'u8', label: 'string', next: 'self' });

self.onmessage = (event) => {
  const { counter, iterations, index, barrier: b, ids } = event.data;
  const c = Counter.at(counter);
  const noteOk = c.note === '漢😀ab'.repeat(5000);
  barrier(b, 3);
  let head = 0;
  for (let k = 0; k < iterations; k++) {
    heap.withLock(counter, () => { c.hits++; c.total += 0.25; });
    const item = Item.create({ worker: index, label: `w${index}:${k}:ñ😀`, next: head || undefined });
    if (head) heap.decref(head);
    head = item;
  }
  self.postMessage({ list: head, noteOk, idsOk: ids[0] === Counter.id && ids[1] === Item.id });
};
self.postMessage({ ready: true });
