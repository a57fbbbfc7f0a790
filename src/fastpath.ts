/**
 * The owner's fast path, in JavaScript: a copy of the core's three-instruction owner case (assembly/refcount.ts
 * incref and decrefFast), as CPython keeps Py_INCREF's owner path inline in its header. Everything else goes to the
 * core. test/fastpath.test.ts checks that the two agree on every header state.
 *
 *   i32[attention] == 0            nobody asked this thread to stop or to hold still (safepoint.ts): one plain load
 *   header tid (u16 at +4) == tid  this thread owns the object
 *   local (at +0) in range         incref: 0 .. 2^31 - 2; decref: 2 .. 2^31 - 1
 *   -> one plain store of local +/- 1
 *
 * The JS ranges are the core's (below LOCAL_IMMORTAL - 1, and 2 .. LOCAL_IMMORTAL - 1) cut at 2^31, so that every
 * value stays a 32-bit integer for the JIT (a count that large takes the core's path, which does the same store).
 * A stale view (the memory grew) reads `undefined` past its end: the tid comparison fails and the core runs.
 */

import { LAYOUT } from './layout.js';

const TID_MASK = 0xffff;
const TID_WORD = LAYOUT.H_TID >>> 2; // the word that holds tid (low half) and slots | generation (high half)
const LOCAL_LIMIT = 0x7fffffff;

/** incref's owner case; false when the core must do it. `tid` -1 never matches (the debug build always calls in). */
export function ownerIncref(i32: Int32Array, attention: number, tid: number, address: number): boolean {
  const i = address >>> 2;
  if (i32[attention] === 0 && (i32[i + TID_WORD] & TID_MASK) === tid) {
    const local = i32[i];
    if (local >= 0 && local < LOCAL_LIMIT) {
      i32[i] = local + 1;
      return true;
    }
  }
  return false;
}

/** decref's owner case (the count stays at least 1); false when the core must do it. */
export function ownerDecref(i32: Int32Array, attention: number, tid: number, address: number): boolean {
  const i = address >>> 2;
  if (i32[attention] === 0 && (i32[i + TID_WORD] & TID_MASK) === tid) {
    const local = i32[i];
    if (local >= 2) {
      i32[i] = local - 1;
      return true;
    }
  }
  return false;
}
