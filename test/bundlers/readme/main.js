import { Heap } from 'biasrc';

const heap = await Heap.create();
const worker = await heap.spawn(() => new Worker(new URL('./worker.js', import.meta.url), { type: 'module' }));

const counter = heap.alloc(8);
heap.incref(counter); // one reference moves to the worker with the handle
worker.on('message', () => {
  console.log(heap.withLock(counter, () => heap.view(counter).getUint32(0, true))); // 1
  heap.decref(counter);
});
worker.postMessage(counter);
