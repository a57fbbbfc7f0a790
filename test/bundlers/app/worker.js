// The worker: joins the heap, then updates the shared counter under the root's lock.
import { joinHeap } from 'biasrc/worker';

// no top-level await: Vite bundles workers as classic scripts (IIFE) unless told otherwise, and those cannot have it
joinHeap().then((heap) => {
  self.onmessage = ({ data: { root, rounds } }) => {
    const counter = heap.loadRef(root, 0); // a reference of our own, safe against a concurrent setRef
    for (let i = 0; i < rounds; i++) {
      heap.withLock(root, () => {
        const view = heap.view(counter);
        view.setUint32(0, view.getUint32(0, true) + 1, true);
      });
    }
    heap.decref(counter);
    heap.decref(root); // the reference that came with the message
    self.postMessage({ tid: heap.tid, done: rounds });
  };
});
