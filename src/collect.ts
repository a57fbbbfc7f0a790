/**
 * Holding the world from JavaScript: the request, the wait for every other thread to reach a safe point (with a
 * timeout, so a collection never hangs on a thread that is busy elsewhere), and the release, around a collection
 * (brc_collect_cycles) or a merge of every queue (brc_merge_queues). The core's side is assembly/collect.ts.
 */

import { BrcError, coreError } from './errors.js';
import { canBlock } from './env.js';
import { LAYOUT } from './layout.js';
import type { BrcExports } from './generated/abi.js';

export interface CycleOptions {
  /**
   * Collect by itself once this many objects were allocated since the last collection (in batches of
   * GC_ALLOCATION_BATCH per thread). Default: never (collectCycles() only): holding the world needs every thread
   * to reach a safe point, which a program should choose to wait for.
   */
  threshold?: number;
  /** How long a collection waits for the other threads to reach a safe point (default 5000 ms). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5000;
const now = () => (typeof performance !== 'undefined' ? performance.now() : Date.now());

let sleeper: Int32Array | undefined;

/** Sleeps a millisecond where this thread may block; elsewhere (a browser's main thread) returns at once. */
function pauseBriefly(): void {
  if (!canBlock() || typeof SharedArrayBuffer === 'undefined') return; // (a page without cross-origin isolation has none)
  sleeper ??= new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(sleeper, 0, 0, 1);
}

/** Holds the world, runs `body`, lets it go. */
function withWorld<T>(raw: BrcExports, options: CycleOptions, what: string, body: () => T): T {
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const started = now();
  const late = (detail: string) => new BrcError('ETIMEDOUT', `${what}: ${detail} within ${timeout} ms; nothing was collected (raise cycles.timeoutMs, or let that thread reach its event loop or a biasrc call)`);
  for (;;) {
    const rc = raw.brc_world_request();
    if (rc === 0) break;
    if (rc !== LAYOUT.EBUSY) throw coreError(rc, what);
    raw.brc_safepoint(); // another thread collects: let it (our next call waits for its end)
    if (now() - started > timeout) throw late('another collection held the world');
    pauseBriefly();
  }
  const held = now();
  try {
    for (;;) {
      const waiting = raw.brc_world_poll();
      if (waiting === 0) break;
      if (waiting < 0) throw coreError(-waiting, what); // never: our request returned OK
      if (now() - started > timeout) {
        throw late(`thread ${waiting} did not reach a safe point (it runs JavaScript that neither calls biasrc nor returns to its event loop, or it waits outside biasrc)`);
      }
      pauseBriefly();
    }
    return body();
  } finally {
    const rc = raw.brc_world_release(Math.min(0xffffffff, Math.round((now() - held) * 1000)));
    if (rc !== 0) throw coreError(rc, what); // never: our request returned OK and nothing else releases it
  }
}

export function collectCycles(raw: BrcExports, options: CycleOptions, what: string): number {
  return withWorld(raw, options, what, () => {
    const freed = raw.brc_collect_cycles();
    if (freed < 0) throw coreError(-freed, what);
    return freed;
  });
}

export function mergeEveryQueue<T>(raw: BrcExports, options: CycleOptions, what: string, read: () => T): T {
  return withWorld(raw, options, what, () => {
    const rc = raw.brc_merge_queues();
    if (rc !== 0) throw coreError(rc, what);
    return read();
  });
}
