// Compiled against the installed package with tsconfig.dom.json: the DOM lib, no @types/node, skipLibCheck false.
import { Heap, BrcError, type HeapThread } from 'biasrc';

type NotAny<T> = 0 extends 1 & T ? never : T;

const heap = await Heap.create({ wasm: { single: new URL('/assets/biasrc.single.wasm', location.href) } });
// with the DOM lib these are exactly the host's types
const memory: WebAssembly.Memory = heap.memory;
const module: WebAssembly.Module = heap.module;
const thread: HeapThread = await heap.spawn(() => new Worker(new URL('./worker.js', import.meta.url), { type: 'module' }));
thread.on('message', (data) => { const payload: NotAny<typeof data> = data; void payload; });
thread.postMessage({ hello: 1 }, [new ArrayBuffer(8)]);
heap.withLock(heap.alloc(8), () => memory.buffer.byteLength);
try {
  await heap.spawn(new Worker('/worker.js', { type: 'module' }));
} catch (error) {
  if (error instanceof BrcError && error.code === 'ENOTSHARED') console.log(error.message);
}
void module;
