// What every thread record says (state, stop state, queue, in-op mark, locks held): the diagnosis printed when a
// stress run stalls, by the harness and by the watchdog. Offsets come from the module's exported constants.

/** One line per tid in `tids`, read from the records in `memory` through the core's exports `x`. */
export function describeThreads(x, memory, tids) {
  const i32 = new Int32Array(memory.buffer);
  const R = (name) => Number(x[name].value);
  const hex = (v) => `0x${(v >>> 0).toString(16)}`;
  return tids.map((tid) => {
    const rec = x.brc_queue_address(tid) - R('R_QUEUE'); // the tid's record
    const held = i32[(rec + R('R_LOCKS_HELD')) >> 2];
    const table = Array.from(i32.subarray((rec + R('R_LOCK_TABLE')) >> 2, ((rec + R('R_LOCK_TABLE')) >> 2) + held)).map(hex);
    return `tid ${tid}: state ${x.brc_thread_state(tid)} stop ${x.brc_thread_stop_state(tid)} ` +
      `queue ${hex(i32[(rec + R('R_QUEUE')) >> 2])} inOp ${i32[(rec + R('R_IN_OP')) >> 2]} locks [${table}]`;
  });
}
