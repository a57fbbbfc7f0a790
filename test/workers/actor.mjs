// A scripted thread for the schedule-point tests (test/helpers/schedule.ts): attaches to the heap, tells its instance
// where the schedule table is, then runs one raw ABI call per message and answers with its result (or the trap).
// While a call is parked at a schedule point the thread sleeps inside wasm; messages wait for it.
//
// The host's wait is wrapped: before the thread sleeps in it, it writes the address it sleeps on to
// workerData.sleeping[0] (0 once it is back), so a test can see it asleep on a given word.
import { parentPort, workerData } from 'node:worker_threads';
import { errorName } from '../../dist/index.js';
import { checkModule } from '../../dist/layout.js';

const { module, memory, table, seed, sleeping } = workerData;
let view = new Int32Array(memory.buffer);
const biasrc_wait = (address, expected, timeoutMs) => {
  if (view.buffer !== memory.buffer) view = new Int32Array(memory.buffer);
  Atomics.store(sleeping, 0, address);
  const result = Atomics.wait(view, address >>> 2, expected, timeoutMs < 0 ? Infinity : timeoutMs);
  Atomics.store(sleeping, 0, 0);
  return result === 'ok' ? 0 : result === 'not-equal' ? 1 : 2;
};
const instance = await WebAssembly.instantiate(module, { env: { memory, biasrc_wait } });
const x = instance.exports;
checkModule(x, 'actor');
const tid = x.brc_thread_attach();
if (tid === 0) throw new Error(`attach failed: ${errorName(x.brc_last_error())}`);
if (x.brc_debug_schedule(table, seed) !== 0) throw new Error('brc_debug_schedule failed: not the debug build?');

parentPort.on('message', ({ id, name, args }) => {
  try {
    const result = x[name](...args);
    parentPort.postMessage({ id, result: typeof result === 'bigint' ? Number(result) : result });
  } catch (error) {
    const code = x.brc_last_error();
    parentPort.postMessage({ id, error: `${name}(${args.join(', ')}): ${error?.message ?? error}` + (code ? ` (${errorName(code)})` : '') });
  }
});
parentPort.postMessage({ ready: true, tid });
