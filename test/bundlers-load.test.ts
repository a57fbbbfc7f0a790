// Where the wasm comes from, on Node: one location per build, and what a failed load says. Also the worker forms
// spawn takes. (The same in browsers is checked by test/bundlers.test.ts, in built apps.)
import { afterAll, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import { Worker } from 'node:worker_threads';
import { Heap, BrcError, defaultWasmUrl } from 'biasrc';

const workerUrl = new URL('./fixtures/echo-worker.mjs', import.meta.url);
const small = { memory: { initialMiB: 1, maximumMiB: 16 } };

async function failure(promise: Promise<unknown>): Promise<BrcError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(BrcError);
    return error as BrcError;
  }
  throw new Error('expected a BrcError');
}

describe('wasm locations', () => {
  const server = createServer((req, res) => {
    if (req.url === '/page.wasm') res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html>');
    else res.writeHead(404, 'Not Found').end();
  });
  const listening = new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)));
  afterAll(() => { server.close(); });

  it('a missing file: ELOAD naming the file, the cause and the fix', async () => {
    const e = await failure(Heap.create({ ...small, wasm: '/nonexistent/biasrc.wasm' }));
    expect(e.code).toBe('ELOAD');
    expect(e.message).toMatch(/the threaded wasm build from file:\/\/\/nonexistent\/biasrc\.wasm failed \(ENOENT\)/);
    expect(e.message).toContain('Heap.create({ wasm: { threaded: url } })');
  });

  it('an HTTP error: ELOAD naming the URL and the status', async () => {
    const base = await listening;
    const e = await failure(Heap.create({ ...small, wasm: { threaded: `${base}/gone.wasm` } }));
    expect(e.code).toBe('ELOAD');
    expect(e.message).toContain(`${base}/gone.wasm failed (HTTP 404 Not Found)`);
    const html = await failure(Heap.create({ ...small, wasm: { threaded: `${base}/page.wasm` } }));
    expect(html.message).toContain('HTTP 200 with an HTML page instead of a wasm module');
  });

  it('a location for one build leaves the others to the package: the fallback keeps working', async () => {
    const heap = await Heap.create({ ...small, shared: false, wasm: { threaded: '/moved/biasrc.wasm' } });
    expect(heap.shared).toBe(false);
    heap.decref(heap.alloc(8));
    heap.verify();
    await heap.close();
    const named = await Heap.create({ ...small, shared: false, debug: true, wasm: { singleDebug: defaultWasmUrl(true, false)! } });
    expect(named.debug).toBe(true);
    await named.close();
  });

  it('one source for the wrong build says to name one per build (not a raw LinkError)', async () => {
    const e = await failure(Heap.create({ ...small, shared: false, wasm: defaultWasmUrl(false, true)! }));
    expect(e.code).toBe('EINVAL');
    expect(e.message).toContain('wasm: { threaded, single }');
    expect(e.cause).toBeInstanceOf(WebAssembly.LinkError);
  });

  it('unknown keys are refused', async () => {
    const e = await failure(Heap.create({ ...small, wasm: { threded: 'x' } as never }));
    expect(e.message).toMatch(/unknown keys threded/);
  });

  it('defaultWasmUrl names the files next to the package in Node', () => {
    expect(defaultWasmUrl(false)!.href).toMatch(/\/build\/biasrc\.wasm$/);
    expect(defaultWasmUrl(true, false)!.href).toMatch(/\/build\/biasrc\.single\.debug\.wasm$/);
  });
});

describe('spawn: the forms bundlers recognise, on Node', () => {
  it('a Worker instance, a function returning one, and a URL', async () => {
    const heap = await Heap.create(small);
    const threads = await Promise.all([
      heap.spawn(new Worker(workerUrl)),
      heap.spawn(() => new Worker(workerUrl)),
      heap.spawn(workerUrl),
    ]);
    expect(new Set(threads.map((t) => t.tid)).size).toBe(3);
    expect(heap.stats().threads).toBe(4);
    await heap.close();
  });

  it('something else is refused with EINVAL', async () => {
    const heap = await Heap.create(small);
    const e = await failure(heap.spawn({ postMessage() {}, terminate() {} }));
    expect(e.code).toBe('EINVAL');
    expect(e.message).toMatch(/expected a worker_threads Worker/);
    await heap.close();
  });
});
