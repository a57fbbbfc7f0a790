// A module Web Worker for lifecycle.js: joins the heap, then makes objects for the page or ends itself.
// `close` ends it with self.close() (biasrc detaches it first); `rawClose` with the browser's own close, captured
// before joinHeap wrapped it: nothing detaches it, so the heap's watchdog must notice the end.
import { joinHeap } from '/dist/worker.browser.js';

const rawClose = self.close.bind(self);
const heap = await joinHeap();
self.onmessage = (event) => {
  const msg = event.data;
  if (msg.op === 'make') {
    const handles = [];
    for (let i = 0; i < msg.count; i++) handles.push(heap.alloc(8));
    self.postMessage({ handles });
  } else if (msg.op === 'close') {
    self.close();
  } else if (msg.op === 'rawClose') {
    rawClose();
  }
};
self.postMessage({ ready: true });
