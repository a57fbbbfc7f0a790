// embed: a C module sharing the heap (issue 16, docs/EMBEDDING.md), against the same work done inside the core.
//   core            the core's own incref+decref loop (bench/assembly/loops.ts rc_brc): the baseline
//   c_import        the same pairs from C through the module's imports (a wasm-to-wasm call each)
//   c_inline        the same pairs from C through include/biasrc.h's inline owner fast path
//   js_raw          the same pairs from JavaScript through the exports (heap.raw), for scale
//   *_4096          on 4096 objects visited round robin instead of one
//   c_no_attention  the inline path without its ATTENTION check (not a usable path: what the check costs)
//   lookup_calls / lookup_accessors / lookup_handwritten
//                   lookups in a 20000-key CHAMP (examples/c/champ.c) reading the nodes' fields through
//                   brc_payload / brc_get_ref calls, the header's inline accessors, or offsets written by hand
// The C module (bench/c/embed.c) is built with examples/c/build.sh and linked with the loader (dist/link.js, what
// heap.link uses) into a heap made by loops.wasm, so core and C run the same core code on the same objects. Without clang-19 and
// wasm-ld-19 the suite reports that and measures nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loopsHeap, u32 } from '../lib/wasm.mjs';
import { calibrate, row, timeInterleaved } from '../lib/measure.mjs';
import { ratio } from '../lib/report.mjs';

const OBJECTS = 4096;
const KEYS = 20_000;

export function haveClang() {
  const ok = (cmd) => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
  return ok('clang-19') && ok('wasm-ld-19');
}

/** Builds bench/build/embed_c.wasm when it is older than its sources or the generated header. */
function buildC(root) {
  const out = join(root, 'bench', 'build', 'embed_c.wasm');
  const inputs = ['bench/c/embed.c', 'examples/c/champ.c', 'examples/c/build.sh', 'include/biasrc.h'].map((p) => join(root, p));
  const newest = Math.max(...inputs.map((p) => statSync(p).mtimeMs));
  if (!existsSync(out) || statSync(out).mtimeMs < newest) {
    mkdirSync(join(root, 'bench', 'build'), { recursive: true });
    const r = spawnSync('sh', [join(root, 'examples', 'c', 'build.sh'), join(root, 'bench', 'c', 'embed.c'), out], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`embed: building bench/c/embed.c failed:\n${r.stderr}${r.stdout}`);
  }
  return readFileSync(out);
}

export default async function embed(ctx) {
  if (!haveClang()) {
    ctx.progress('embed: clang-19 / wasm-ld-19 not found: skipped (apt-get install clang-19 lld-19)');
    return { title: 'SKIPPED: needs clang-19 and wasm-ld-19 (apt-get install clang-19 lld-19)', rows: [], ratios: [], skipped: true };
  }
  const { link } = await import(pathToFileURL(join(ctx.root, 'dist', 'link.js')).href);
  const bytes = buildC(ctx.root);
  const { memory, x } = await loopsHeap(ctx.modules.loops);
  // the loader's view of this thread: the loops module is the whole core plus the loops, attached here
  const host = { raw: x, memory, tid: x.brc_thread_id(), debug: false, onDetach: () => () => {} };
  const lib = await link(host, bytes, { stackBytes: 64 * 1024 });
  const c = lib.raw; // the unwrapped exports: no JS between the timer and the loop

  const one = x.brc_alloc(8, 0);
  const list = x.brc_malloc(OBJECTS * 4);
  const handles = Array.from({ length: OBJECTS }, () => x.brc_alloc(8, 0));
  u32(memory).set(handles, list >>> 2);
  const mask = OBJECTS - 1;
  c.champ_init();
  c.champ_put_range(0, KEYS, 1);

  const loops = {
    core: (n) => x.rc_brc(one, n),
    c_import: (n) => c.rc_import(one, n),
    c_inline: (n) => c.rc_inline(one, n),
    js_raw: (n) => { for (let i = 0; i < n; i++) { x.brc_incref(one); x.brc_decref(one); } },
    core_4096: (n) => x.rc_brc_list(list, mask, n),
    c_import_4096: (n) => c.rc_import_list(list, mask, n),
    c_inline_4096: (n) => c.rc_inline_list(list, mask, n),
    c_no_attention_4096: (n) => c.rc_owner_only_list(list, mask, n),
    lookup_calls: (n) => c.lookup_calls(KEYS, n),
    lookup_accessors: (n) => c.lookup_accessors(KEYS, n),
    lookup_handwritten: (n) => c.lookup_handwritten(KEYS, n),
  };
  // every lookup finds its key: the three variants read the same fields
  for (const name of ['lookup_calls', 'lookup_accessors', 'lookup_handwritten']) {
    if (c[name](KEYS, 1000) !== 1000) throw new Error(`embed: ${name} missed keys`);
  }
  // many short calls first: V8 moves a wasm function to its optimizing tier only between calls, and a few long
  // calibration calls would otherwise leave some loops on the baseline tier for part of the timed runs
  for (const fn of Object.values(loops)) for (let i = 0; i < 50; i++) fn(2000);
  const cases = Object.entries(loops).map(([name, fn]) => {
    ctx.progress(`embed: calibrating ${name}`);
    return { name, fn, n: calibrate(fn, ctx.targetMs) };
  });
  ctx.progress(`embed: ${ctx.timing.runs} interleaved runs of ${cases.length} loops`);
  const times = timeInterleaved(cases, ctx.timing);
  const rows = cases.map((k) => row(k.name, times[k.name], { n: k.n, note: k.name.startsWith('lookup') ? 'one lookup' : 'incref+decref pair' }));

  if (x.brc_info_local(one) !== 1 || x.brc_info_shared(one) !== 0) throw new Error('embed: counts drifted');
  x.brc_decref(one);
  for (const h of handles) x.brc_decref(h);
  x.brc_free(list);
  c.champ_shutdown();
  lib.unlink();
  if (x.brc_stat(Number(x.STAT_LIVE_OBJECTS.value)) !== 0) throw new Error('embed: objects left alive');
  if (x.brc_verify() !== 0) throw new Error(`embed: verify failed (${x.brc_last_error()})`);

  const ns = Object.fromEntries(rows.map((r) => [r.name, r.nsPerOp]));
  return {
    title: 'a C module on the heap (one thread): pairs through imports and inline, field reads',
    rows,
    ratios: [
      ratio('c_import/core', ns.c_import / ns.core, { op: '<=', target: 1.3, note: 'issue 16 goal: the C path within 1.3x' }),
      ratio('c_inline/core', ns.c_inline / ns.core, { op: '<=', target: 1.3 }),
      ratio('c_import/core (4096 objects)', ns.c_import_4096 / ns.core_4096),
      ratio('c_inline/core (4096 objects)', ns.c_inline_4096 / ns.core_4096),
      ratio('c_no_attention/core (4096 objects)', ns.c_no_attention_4096 / ns.core_4096, { note: 'the inline path without its ATTENTION load (information only)' }),
      ratio('js_raw/core', ns.js_raw / ns.core, { note: 'two JS -> wasm calls a pair' }),
      ratio('lookup accessors/handwritten', ns.lookup_accessors / ns.lookup_handwritten, { op: '<=', target: 1.1, note: 'issue 16 goal' }),
      ratio('lookup calls/handwritten', ns.lookup_calls / ns.lookup_handwritten),
    ],
  };
}
