// overhead: memory per object on the shipped core, for payloads of 0, 8, 16 and 64 bytes (no slots). Allocates
// `count` objects and reads the heap's own statistics:
//   block      live bytes / objects: the allocator block each object occupies (header + payload, rounded up)
//   footprint  pages in use * 64 KiB / objects: adds the page headers and the unused tail of the last page
import { compileCore, createSharedMemory, instantiateCore } from '../../dist/index.js';
import { bytesColumns } from '../lib/report.mjs';

const PAYLOADS = [0, 8, 16, 64];

export default async function overhead(ctx) {
  const count = ctx.pick({ tiny: 2000, quick: 20_000, full: 100_000 });
  const module = await compileCore();
  const rows = [];
  for (const payload of PAYLOADS) {
    ctx.progress(`overhead: ${count} objects of ${payload} payload bytes`);
    // a fresh heap each time: pages kept from an earlier size of the same class would hide part of the footprint
    const memory = createSharedMemory({ initialMiB: 16, maximumMiB: 256 });
    const core = await instantiateCore(module, memory);
    const x = core.exports;
    if (x.brc_init(8, (256 * 1024 * 1024) / 65536) !== 0 || x.brc_thread_attach() === 0) throw new Error('overhead: no heap');
    const stat = (name) => x.brc_stat(core.raw[name].value);
    const bytes0 = stat('STAT_LIVE_BYTES'), pages0 = stat('STAT_PAGES_IN_USE');
    const handles = Array.from({ length: count }, () => x.brc_alloc(payload, 0));
    const block = (stat('STAT_LIVE_BYTES') - bytes0) / count;
    const footprint = ((stat('STAT_PAGES_IN_USE') - pages0) * 65536) / count;
    const usable = x.brc_info_bytes(handles[0]);
    for (const h of handles) x.brc_decref(h);
    x.brc_thread_detach();
    rows.push({ name: `payload ${payload} B`, payload, header: x.HEADER_SIZE.value, block, usable, overhead: block - payload, footprint });
  }

  return {
    title: `bytes per object (${count.toLocaleString('en')} objects each)`,
    columns: bytesColumns,
    rows,
    ratios: [],
  };
}
