/**
 * The owner's fast path, in JavaScript: a copy of the core's three-instruction owner case (assembly/refcount.ts
 * incref and decrefFast), as CPython keeps Py_INCREF's owner path inline in its header. Everything else goes to the
 * core. test/fastpath.test.ts checks that the two agree on every header state.
 *
 *   u32[attention] == 0            nobody asked this thread to stop or to hold still (safepoint.ts): one plain load
 *   header tid (u16 at +4) == tid  this thread owns the object
 *   local (u32 at +0) in range     incref: below LOCAL_IMMORTAL - 1; decref: 2 .. LOCAL_IMMORTAL - 1
 *   -> one plain store of local +/- 1
 *
 * A stale view (the memory grew) reads `undefined` past its end: the tid comparison fails and the core runs.
 */

import { LAYOUT } from './layout.js';

const INCREF_LIMIT = LAYOUT.LOCAL_IMMORTAL - 1;
const TID_MASK = 0xffff;
const TID_WORD = LAYOUT.H_TID >>> 2; // the u32 that holds tid (low half) and slots | generation (high half)

/** incref's owner case; false when the core must do it. `tid` -1 never matches (the debug build always calls in). */
export function ownerIncref(u32: Uint32Array, attention: number, tid: number, address: number): boolean {
  const i = address >>> 2;
  if (u32[attention] === 0 && (u32[i + TID_WORD] & TID_MASK) === tid) {
    const local = u32[i];
    if (local < INCREF_LIMIT) {
      u32[i] = local + 1;
      return true;
    }
  }
  return false;
}

/** decref's owner case (the count stays at least 1); false when the core must do it. */
export function ownerDecref(u32: Uint32Array, attention: number, tid: number, address: number): boolean {
  const i = address >>> 2;
  if (u32[attention] === 0 && (u32[i + TID_WORD] & TID_MASK) === tid) {
    const local = u32[i];
    if (local >= 2 && local < LAYOUT.LOCAL_IMMORTAL) {
      u32[i] = local - 1;
      return true;
    }
  }
  return false;
}
