// Compiled against the installed package with tsconfig.node.json: Node types only, no DOM lib, skipLibCheck false.
import { Worker } from 'node:worker_threads';
import { Heap, BrcError, type HeapThread, type WasmLocations, type Handle, type WorkerSource } from 'biasrc';
import { joinHeap } from 'biasrc/worker';

/** `never` where T is `any`: assigning a value of type `any` to it is an error, so each line below proves "not any". */
type NotAny<T> = 0 extends 1 & T ? never : T;

const locations: WasmLocations = { threaded: new URL('file:///srv/biasrc.wasm'), single: '/srv/biasrc.single.wasm' };
const heap: Heap = await Heap.create({ maxThreads: 8, wasm: locations });
const memory: NotAny<typeof heap.memory> = heap.memory;
const bytes: number = memory.buffer.byteLength;
const module: NotAny<typeof heap.module> = heap.module;
const workerData: NotAny<typeof heap.workerData> = heap.workerData;
const handle: Handle = heap.alloc(8, 1);

const source: WorkerSource = () => new Worker(new URL('./worker.mjs', import.meta.url));
const thread: HeapThread = await heap.spawn(source);
await heap.spawn(new Worker(new URL('./worker.mjs', import.meta.url)));
await heap.spawn(new URL('./worker.mjs', import.meta.url));
thread.on('message', (data) => { const payload: NotAny<typeof data> = data; void payload; });
thread.on('message', (sum: number) => console.log(sum.toFixed(1)));
thread.on('exit', (code) => console.log(code.toFixed(0)));
thread.postMessage(handle, []);

try {
  await joinHeap();
} catch (error) {
  if (error instanceof BrcError) console.log(error.code satisfies string, error.handle);
}
using ref = heap.ref(handle);
void [bytes, module, workerData, ref];
