import { LAYOUT, errorName as nameOf, type CoreInstance } from '../../dist/index.js';

/** Decoded header of an object, for assertions. */
export function info(core: CoreInstance, obj: number) {
  const x = core.exports;
  const shared = x.brc_info_shared(obj);
  return {
    owner: x.brc_info_owner(obj),
    local: x.brc_info_local(obj) >>> 0,
    shared: shared >> LAYOUT.SHARED_SHIFT,
    queued: (shared & LAYOUT.SHARED_QUEUED) !== 0,
    merged: (shared & LAYOUT.SHARED_MERGED) !== 0,
    immortal: x.brc_info_immortal(obj) === 1,
  };
}

export function errorName(_core: CoreInstance, code: number): string | undefined {
  return nameOf(code);
}
