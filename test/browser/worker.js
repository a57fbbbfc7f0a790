// A module Web Worker that joins the heap and answers the page.
import { joinHeap } from '/dist/worker.browser.js';

const heap = await joinHeap();
self.onmessage = (event) => {
  const msg = event.data;
  if (msg.op === 'make') {
    const handles = [];
    for (let i = 0; i < msg.count; i++) {
      const h = heap.alloc(8, 1);
      heap.view(h).setUint32(0, i, true);
      handles.push(h);
    }
    self.postMessage({ handles });
  } else if (msg.op === 'release') {
    for (const h of msg.handles) heap.decref(h);
    self.postMessage({ done: true });
  }
};
self.postMessage({ ready: true });
