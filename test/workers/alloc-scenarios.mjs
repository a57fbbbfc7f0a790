// Allocator scenarios run inside worker threads (test/alloc.test.ts). Each posts one result object and exits.
import { parentPort, workerData } from 'node:worker_threads';
import { attach, barrier, rng } from './common.mjs';

const { core, x, tid } = await attach();
const view = () => new DataView(core.memory.buffer); // re-made after any call that may grow memory

/**
 * Rounds of: allocate a batch, stamp each block with (tid, sequence, size), hand half to the next worker through a
 * double-buffered mailbox, then check and free the half the previous worker handed us, and our other half.
 * `live` marks every handed-out block (by address / 16): a block handed out twice while live is caught at once.
 */
function exchange() {
  const { index, count, rounds, perRound, mailbox, live, seed } = workerData;
  const rand = rng(seed + index * 7919);
  const errors = [];
  let allocated = 0;
  let freed = 0;
  const region = (worker, round) => ((round & 1) * count + worker) * perRound;
  const claim = (p) => { if (Atomics.compareExchange(live, p >>> 4, 0, 1) !== 0) errors.push(`block 0x${p.toString(16)} handed out twice`); };
  const release = (p) => {
    if (Atomics.compareExchange(live, p >>> 4, 1, 0) !== 1) errors.push(`block 0x${p.toString(16)} freed while not live`);
    x.brc_free(p);
    freed++;
  };
  const check = (p, expectTid) => {
    const v = view();
    const t = v.getUint32(p, true), size = v.getUint32(p + 8, true), seq = v.getUint32(p + 4, true);
    if ((expectTid !== undefined && t !== expectTid) || v.getUint32(p + 12, true) !== ((t * 31 + seq) ^ size) >>> 0) {
      errors.push(`stamp of block 0x${p.toString(16)} damaged`);
    }
    if (size > 16 && v.getUint8(p + size - 1) !== (seq & 0xff)) errors.push(`tail of block 0x${p.toString(16)} damaged`);
  };
  barrier();
  for (let r = 0; r < rounds; r++) {
    const mine = [];
    for (let k = 0; k < perRound; k++) {
      const size = 16 + Math.floor(rand() < 0.02 ? rand() * 200_000 : rand() * 1_000);
      const p = x.brc_malloc(size);
      if (p === 0 || p % 16 !== 0) { errors.push(`malloc(${size}) = ${p}`); continue; }
      claim(p);
      allocated++;
      const v = view();
      const seq = r * perRound + k;
      v.setUint32(p, tid, true); v.setUint32(p + 4, seq, true); v.setUint32(p + 8, size, true);
      v.setUint32(p + 12, ((tid * 31 + seq) ^ size) >>> 0, true);
      if (size > 16) v.setUint8(p + size - 1, seq & 0xff); // past the 16-byte stamp
      mine.push(p);
    }
    const out = region(index, r);
    for (let k = 0; k < perRound; k++) mailbox[out + k] = k % 2 === 0 && k < mine.length ? mine[k] : 0;
    barrier();
    const from = region((index + count - 1) % count, r);
    for (let k = 0; k < perRound; k++) {
      const p = mailbox[from + k] >>> 0;
      if (p !== 0) { check(p); release(p); }
    }
    for (let k = 1; k < mine.length; k += 2) { check(mine[k], tid); release(mine[k]); }
  }
  barrier();
  const detached = x.brc_thread_detach();
  return { tid, allocated, freed, errors, detached };
}

/** Allocates blocks, publishes their addresses, then detaches and exits while the main thread still holds them. */
function allocateAndDetach() {
  const { sizes, mailbox } = workerData;
  sizes.forEach((size, k) => { mailbox[k] = x.brc_malloc(size); });
  return { tid, detached: x.brc_thread_detach() };
}

/** Allocates the given sizes and reports the addresses (for page reuse checks). */
function allocateSizes() {
  const { sizes } = workerData;
  const blocks = sizes.map((size) => x.brc_malloc(size));
  for (const p of blocks) x.brc_free(p);
  return { tid, blocks, detached: x.brc_thread_detach() };
}

const scenarios = { exchange, allocateAndDetach, allocateSizes };
parentPort.postMessage(scenarios[workerData.scenario]());
