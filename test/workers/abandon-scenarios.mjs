// Allocation after abandonment (issue 10.1), for test/memory.test.ts: a worker allocates the sizes it is given
// (whole pages of a few size classes, so that most of its pages end full), stamps each block, publishes the
// addresses and detaches, leaving its pages abandoned while the main thread still holds every block.
import { parentPort, workerData } from 'node:worker_threads';
import { attach } from './common.mjs';

const { core, x, tid } = await attach();
const { sizes, mailbox } = workerData;
const errors = [];
sizes.forEach((size, k) => {
  const p = x.brc_malloc(size);
  if (p === 0) errors.push(`malloc(${size}) failed: error ${x.brc_last_error()}`);
  else new DataView(core.memory.buffer).setUint32(p, (tid << 24) ^ k, true);
  mailbox[k] = p;
});
parentPort.postMessage({ tid, errors, detached: x.brc_thread_detach() });
