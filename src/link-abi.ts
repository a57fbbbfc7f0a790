/**
 * What the generated C and Rust headers (scripts/gen-header.mjs) and the loader (link.ts) must agree on, in one
 * place: the layout fingerprint a foreign module carries, the custom section that carries it, and the names of the
 * per-thread globals the header's inline fast path imports. The generator imports this file from dist/, so the two
 * cannot drift.
 */

/** Name of the custom section every module built with biasrc.h / biasrc.rs carries (one record per unit). */
export const LAYOUT_SECTION = 'biasrc.layout';
/** "BRCH" little-endian: the first word of a layout record. */
export const LAYOUT_RECORD_MAGIC = 0x48435242;
/** Version of the header's own conventions (record format, import names). 2: the v2 object header. */
export const HEADER_FORMAT = 2;
/** Bytes of one layout record: magic, header format, layout version, layout hash (u32 little-endian each). */
export const LAYOUT_RECORD_SIZE = 16;
/** The wasm import module under which the header declares the brc_* functions. */
export const IMPORT_MODULE = 'biasrc';
/**
 * The header's inline fast path reads two immutable globals, imported from IMPORT_MODULE, that the loader gives each
 * thread's instance: its tid << 32 (i64; NO_TID << 32 for a debug core, so that every count goes to the core) and the
 * address of its ATTENTION word (i32).
 */
export const TID_HIGH_IMPORT = 'thread_tid_high';
export const ATTENTION_IMPORT = 'thread_attention';

export interface LayoutRecord {
  magic: number;
  format: number;
  version: number;
  hash: number;
}

/**
 * FNV-1a (32 bit) over "NAME=VALUE;" for every constant the core exports, sorted by name, values in decimal (every
 * constant is a non-negative integer below 2^53: src/generated/abi.ts holds them as numbers). Any constant that
 * changes, appears or disappears changes the hash.
 */
export function layoutHash(constants: Iterable<readonly [string, number]>): number {
  const entries = [...constants].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  let h = 0x811c9dc5;
  for (const [name, value] of entries) {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`layoutHash: ${name} = ${value} is not a non-negative integer`);
    const text = `${name}=${value};`;
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i) & 0xff;
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  }
  return h >>> 0;
}

/** The 16 bytes of a layout record. */
export function encodeLayoutRecord(version: number, hash: number): Uint8Array {
  const bytes = new Uint8Array(LAYOUT_RECORD_SIZE);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, LAYOUT_RECORD_MAGIC, true);
  view.setUint32(4, HEADER_FORMAT, true);
  view.setUint32(8, version >>> 0, true);
  view.setUint32(12, hash >>> 0, true);
  return bytes;
}

/** Every record of a module's layout sections (wasm-ld concatenates one record per translation unit), or what is wrong. */
export function decodeLayoutRecords(sections: ArrayBuffer[]): LayoutRecord[] | string {
  const records: LayoutRecord[] = [];
  for (const section of sections) {
    if (section.byteLength === 0 || section.byteLength % LAYOUT_RECORD_SIZE !== 0) {
      return `a "${LAYOUT_SECTION}" section of ${section.byteLength} bytes (records are ${LAYOUT_RECORD_SIZE} bytes)`;
    }
    const view = new DataView(section);
    for (let at = 0; at < section.byteLength; at += LAYOUT_RECORD_SIZE) {
      records.push({
        magic: view.getUint32(at, true),
        format: view.getUint32(at + 4, true),
        version: view.getUint32(at + 8, true),
        hash: view.getUint32(at + 12, true),
      });
    }
  }
  return records;
}
