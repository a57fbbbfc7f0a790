// rc: one incref+decref pair (= one op) in an in-wasm loop, four ways, on one object and on 4096 objects round
// robin. All four count on the same 16-byte object headers of the real heap:
//   plain         non-atomic load/add/store on the first header word: the floor, not thread-safe
//   atomic        atomic.add / atomic.sub on the same word: what Rust's Arc does
//   brc_owner     the core's own incref / decrefAny, run by the owner (plain stores, one u64 load for the check)
//   brc_nonowner  the same code run by another tid (a second instance in this JS thread): the shared-count CAS,
//                 uncontended, as in the paper's single-thread measurement
import { loopsHeap, attachLoops, u32 } from '../lib/wasm.mjs';
import { calibrate, row, timeInterleaved } from '../lib/measure.mjs';
import { ratio } from '../lib/report.mjs';

const OBJECTS = 4096;

export default async function rc(ctx) {
  const { memory, x: owner } = await loopsHeap(ctx.modules.loops);
  const other = await attachLoops(ctx.modules.loops, memory);
  const one = owner.brc_alloc(8, 0);
  const list = owner.brc_malloc(OBJECTS * 4);
  const handles = Array.from({ length: OBJECTS }, () => owner.brc_alloc(8, 0));
  u32(memory).set(handles, list >>> 2);
  const mask = OBJECTS - 1;

  const loops = {
    plain: (n) => owner.rc_plain(one, n),
    atomic: (n) => owner.rc_atomic(one, n),
    brc_owner: (n) => owner.rc_brc(one, n),
    brc_nonowner: (n) => other.rc_brc(one, n),
    plain_4096: (n) => owner.rc_plain_list(list, mask, n),
    atomic_4096: (n) => owner.rc_atomic_list(list, mask, n),
    brc_owner_4096: (n) => owner.rc_brc_list(list, mask, n),
    brc_nonowner_4096: (n) => other.rc_brc_list(list, mask, n),
  };
  const cases = Object.entries(loops).map(([name, fn]) => {
    ctx.progress(`rc: calibrating ${name}`);
    return { name, fn, n: calibrate(fn, ctx.targetMs) };
  });
  ctx.progress(`rc: ${ctx.timing.runs} interleaved runs of ${cases.length} loops`);
  const times = timeInterleaved(cases, ctx.timing);
  const rows = cases.map((c) => row(c.name, times[c.name], { n: c.n, note: 'incref+decref pair' }));

  // the objects must still be intact: every pair was balanced
  if (owner.brc_info_local(one) !== 1 || owner.brc_info_shared(one) !== 0) throw new Error('rc: counts drifted');
  owner.brc_decref(one);
  for (const h of handles) owner.brc_decref(h);
  owner.brc_free(list);

  const ns = Object.fromEntries(rows.map((r) => [r.name, r.nsPerOp]));
  const ratios = [
    ratio('brc_owner/plain', ns.brc_owner / ns.plain, { op: '<=', target: 1.2, paper: 1.09 }),
    ratio('atomic/brc_owner', ns.atomic / ns.brc_owner, { op: '>=', target: 4, paper: 2.2 }),
    ratio('brc_nonowner/atomic', ns.brc_nonowner / ns.atomic, { op: '<=', target: 1.1, paper: 1.125 }),
    ratio('brc_owner/plain (4096 objects)', ns.brc_owner_4096 / ns.plain_4096, { op: '<=', target: 1.5, note: 'round robin: V8 cannot fold the plain loop away here' }),
    ratio('atomic/brc_owner (4096 objects)', ns.atomic_4096 / ns.brc_owner_4096),
    ratio('brc_nonowner/atomic (4096 objects)', ns.brc_nonowner_4096 / ns.atomic_4096),
  ];
  return { rows, ratios };
}
