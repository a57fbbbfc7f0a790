// The README example with the worker written as the app's own `new Worker(...)` (the form bundlers recognise):
// spawn takes a function returning a worker_threads Worker. Uses the README's worker.mjs unchanged.
import { Worker } from 'node:worker_threads';
import { Heap } from 'biasrc';

const heap = await Heap.create({ maxThreads: 8, memory: { initialMiB: 16, maximumMiB: 256 } });

let head = 0;
for (const value of [3, 2, 1]) {
  const node = heap.alloc(8, 1);
  heap.view(node).setFloat64(0, value, true);
  if (head !== 0) {
    heap.setRef(node, 0, head);
    heap.decref(head);
  }
  head = node;
}

const worker = await heap.spawn(() => new Worker(new URL('./worker.mjs', import.meta.url)));
worker.on('message', async (sum) => {
  console.log(`worker ${worker.tid} summed the list: ${sum}`);
  heap.collect();
  console.log(`objects still live: ${heap.stats().liveObjects}`);
  await heap.close();
});
worker.postMessage(head);
