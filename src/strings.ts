/**
 * Strings: immutable UTF-8 string objects in the heap. A string is an ordinary biasrc object (counted, shared,
 * usable as a reference field of a shape) with no slots and this payload:
 *
 *   +0   u32  STRING_ID      the id shapes keep at the same place, so a string is never taken for a shaped object
 *   +4   u32  byte length    of the UTF-8 bytes
 *   +8   u32  hash           FNV-1a (32 bits) of the UTF-8 bytes, computed once when the string is made
 *   +12  u32  length         in UTF-16 code units: what `.length` of the JavaScript string it reads back as is
 *   +16  the UTF-8 bytes
 *
 * Equality, ordering and hashing work on the bytes, without decoding: byte order of UTF-8 is code point order.
 *
 * Lone surrogates. A JavaScript string may hold a surrogate code unit without its pair, which no UTF-8 can encode.
 * Like TextEncoder (and the WHATWG "USVString" conversion every web API applies), each one is stored as U+FFFD
 * (EF BF BD): the bytes are always valid UTF-8, and reading back gives `text.toWellFormed()`, of the same length.
 * So 'a\uD800' and 'a\uFFFD' are equal strings once stored.
 *
 * Shared memory in Chromium. TextEncoder.encodeInto and TextDecoder.decode refuse views of a SharedArrayBuffer
 * there (Node accepts them). Short strings (up to SHORT code units or bytes) are encoded and decoded by a loop in
 * JavaScript straight to and from the memory, which is also faster than a call into the encoder for them; longer
 * ones go through a non-shared scratch buffer: TextEncoder.encodeInto into it, then one copy into the object;
 * one copy out of the object, then TextDecoder.decode (straight from the memory where the platform allows it).
 */

import { BrcError } from './errors.js';
import { contextOf, describeValue, STRING_ID, type Context, type HeapCore } from './context.js';
import type { Handle } from './ref.js';

declare const SHAPE_BRAND: unique symbol;
/**
 * A handle (a plain number, as everywhere in biasrc) that TypeScript knows names an object of shape `S`. Plain
 * numbers are assignable to it, and it to `number`; it only carries the type.
 */
export type ShapeHandle<S> = Handle & { readonly [SHAPE_BRAND]?: S };
/** A handle of a string object. */
export type StringHandle = ShapeHandle<'string'>;

/** Payload offsets of a string object. */
export const STRING_BYTES = 4;
export const STRING_HASH = 8;
export const STRING_LENGTH = 12;
export const STRING_HEADER = 16;

/** Code units (encoding) or bytes (decoding) up to which the JavaScript loops are used. */
const SHORT = 48;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');
let scratch = new Uint8Array(1024);

function scratchOf(bytes: number): Uint8Array {
  if (scratch.length < bytes) scratch = new Uint8Array(Math.max(bytes, scratch.length * 2));
  return scratch;
}

/** Whether TextDecoder.decode takes a view of a SharedArrayBuffer here (Node: yes; Chromium: no). Tried once. */
let decodesShared: boolean | undefined;
function canDecodeShared(): boolean {
  if (decodesShared === undefined) {
    try {
      decodesShared = typeof SharedArrayBuffer === 'function' && decoder.decode(new Uint8Array(new SharedArrayBuffer(8), 0, 1)) === '\0';
    } catch {
      decodesShared = false;
    }
  }
  return decodesShared;
}

/** FNV-1a over bytes [start, end). */
export function fnv1a(u8: Uint8Array, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ u8[i], FNV_PRIME);
  return h >>> 0;
}

/** Bytes of the UTF-8 encoding of `text` (a lone surrogate counts as U+FFFD: 3 bytes). */
export function utf8Length(text: string): number {
  const n = text.length;
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) { bytes += 1; continue; }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2; // 2 code units, 4 bytes
      i++;
      continue;
    }
    bytes += 2;
  }
  return bytes;
}

/** Writes the UTF-8 encoding of `text` at `at` (room for utf8Length(text) bytes); returns its FNV-1a hash. */
function writeUtf8(text: string, u8: Uint8Array, at: number): number {
  let h = FNV_OFFSET;
  let o = at;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      u8[o++] = c;
      h = Math.imul(h ^ c, FNV_PRIME);
      continue;
    }
    let b0: number, b1: number, b2 = -1, b3 = -1;
    if (c < 0x800) {
      b0 = 0xc0 | (c >>> 6);
      b1 = 0x80 | (c & 0x3f);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < n ? text.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && (d & 0xfc00) === 0xdc00) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
        } else {
          c = 0xfffd; // a lone surrogate
        }
      }
      if (c >= 0x10000) {
        b0 = 0xf0 | (c >>> 18);
        b1 = 0x80 | ((c >>> 12) & 0x3f);
        b2 = 0x80 | ((c >>> 6) & 0x3f);
        b3 = 0x80 | (c & 0x3f);
      } else {
        b0 = 0xe0 | (c >>> 12);
        b1 = 0x80 | ((c >>> 6) & 0x3f);
        b2 = 0x80 | (c & 0x3f);
      }
    }
    u8[o++] = b0;
    h = Math.imul(h ^ b0, FNV_PRIME);
    u8[o++] = b1;
    h = Math.imul(h ^ b1, FNV_PRIME);
    if (b2 >= 0) {
      u8[o++] = b2;
      h = Math.imul(h ^ b2, FNV_PRIME);
      if (b3 >= 0) {
        u8[o++] = b3;
        h = Math.imul(h ^ b3, FNV_PRIME);
      }
    }
  }
  return h >>> 0;
}

/** Decodes valid UTF-8 in [start, end); null at the first invalid sequence (the caller then uses TextDecoder). */
function readUtf8(u8: Uint8Array, start: number, end: number): string | null {
  let s = '';
  for (let i = start; i < end;) {
    const b = u8[i];
    if (b < 0x80) {
      s += String.fromCharCode(b);
      i++;
      continue;
    }
    let cp: number, need: number, min: number;
    if (b >= 0xc2 && b <= 0xdf) { cp = b & 0x1f; need = 1; min = 0x80; }
    else if (b >= 0xe0 && b <= 0xef) { cp = b & 0x0f; need = 2; min = 0x800; }
    else if (b >= 0xf0 && b <= 0xf4) { cp = b & 0x07; need = 3; min = 0x10000; }
    else return null;
    if (i + need >= end + 1) return null;
    for (let k = 1; k <= need; k++) {
      const c = u8[i + k];
      if ((c & 0xc0) !== 0x80) return null;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return null;
    if (cp < 0x10000) s += String.fromCharCode(cp);
    else s += String.fromCharCode(0xd800 + ((cp - 0x10000) >>> 10), 0xdc00 + ((cp - 0x10000) & 0x3ff));
    i += need + 1;
  }
  return s;
}

/** Makes a string object of `text`; the caller holds its one reference. */
export function makeString(context: Context, text: unknown, what: string): StringHandle {
  if (typeof text !== 'string') throw new BrcError('EINVAL', `${what}: ${describeValue(text)} is not a string`);
  const short = text.length <= SHORT;
  let bytes: number;
  let buffer: Uint8Array | undefined;
  if (short) {
    bytes = utf8Length(text);
  } else {
    buffer = scratchOf(text.length * 3);
    bytes = encoder.encodeInto(text, buffer).written;
  }
  const handle = context.heap.alloc(STRING_HEADER + bytes, 0);
  const mem = context.mem;
  const p = (handle >>> 0) + 16; // no slots: the payload follows the header
  if (p + STRING_HEADER + bytes > mem.u8.length) mem.refresh();
  let hash: number;
  if (buffer === undefined) {
    hash = writeUtf8(text, mem.u8, p + STRING_HEADER);
  } else {
    mem.u8.set(buffer.subarray(0, bytes), p + STRING_HEADER);
    hash = fnv1a(buffer, 0, bytes);
  }
  const u32 = mem.u32, i = p >>> 2;
  u32[i] = STRING_ID;
  u32[i + 1] = bytes;
  u32[i + 2] = hash;
  u32[i + 3] = text.length;
  return handle;
}

/** The payload address of the string object at `address`, or -1 if it is no string. */
export function stringPayload(context: Context, address: number): number {
  const mem = context.mem;
  if (address + 32 > mem.u8.length) mem.refresh();
  if ((mem.u16[(address + 6) >>> 1] & 0xfff) !== 0) return -1;
  const p = address + 16;
  return mem.u32[p >>> 2] === STRING_ID ? p : -1;
}

/** The payload of the string `handle` names (validated in checked mode); a BrcError naming `what` otherwise. */
function payloadOf(context: Context, handle: unknown, what: string): number {
  const address = context.checked ? context.address(handle, what) : (handle as number) >>> 0;
  const p = stringPayload(context, address);
  if (p < 0) throw new BrcError('EINVAL', `${what}: handle 0x${(handle as number).toString(16)} is ${context.describeObject(address)}, not a string`, { handle: handle as number });
  return p;
}

/** Decodes the string whose payload is at `p`. */
export function decodeAt(context: Context, p: number): string {
  const mem = context.mem;
  const u32 = mem.u32;
  const bytes = u32[(p + STRING_BYTES) >>> 2];
  const start = p + STRING_HEADER, end = start + bytes;
  if (end > mem.u8.length) mem.refresh();
  if (bytes <= SHORT) {
    const s = readUtf8(mem.u8, start, end);
    if (s !== null) return s;
  }
  if (!(mem.buffer instanceof SharedArrayBuffer) || canDecodeShared()) return decoder.decode(mem.u8.subarray(start, end));
  const copy = scratchOf(bytes);
  copy.set(mem.u8.subarray(start, end));
  return decoder.decode(copy.subarray(0, bytes));
}

/** The UTF-8 bytes of `text` in the scratch buffer: [scratch, length]. */
function encodeScratch(text: string): number {
  if (text.length <= SHORT) {
    const bytes = utf8Length(text);
    writeUtf8(text, scratchOf(bytes), 0);
    return bytes;
  }
  return encoder.encodeInto(text, scratchOf(text.length * 3)).written;
}

/** The string operations of one heap: `heap.strings`. Handles are validated in checked mode, like every call. */
export class Strings {
  readonly #context: Context;

  constructor(context: Context) {
    this.#context = context;
  }

  /** Makes a string object; you hold its one reference. Same as `heap.string(text)`. */
  make(text: string): StringHandle {
    return makeString(this.#context, text, 'strings.make');
  }

  /** The string as a JavaScript string. Same as `heap.readString(handle)`. */
  read(handle: Handle): string {
    return decodeAt(this.#context, payloadOf(this.#context, handle, 'readString'));
  }

  /** Whether `handle` names a live string object. */
  is(handle: Handle): boolean {
    const context = this.#context;
    if (context.views.check(handle) !== 0) return false;
    return stringPayload(context, handle >>> 0) >= 0;
  }

  /** Its UTF-8 bytes. */
  byteLength(handle: Handle): number {
    return this.#context.mem.u32[(payloadOf(this.#context, handle, 'strings.byteLength') + STRING_BYTES) >>> 2];
  }

  /** Its length in UTF-16 code units (the `.length` of the JavaScript string it reads back as). */
  length(handle: Handle): number {
    return this.#context.mem.u32[(payloadOf(this.#context, handle, 'strings.length') + STRING_LENGTH) >>> 2];
  }

  /** FNV-1a (32 bits, unsigned) of its UTF-8 bytes, stored when it was made: no decoding, no pass over the bytes. */
  hash(handle: Handle): number {
    return this.#context.mem.u32[(payloadOf(this.#context, handle, 'strings.hash') + STRING_HASH) >>> 2];
  }

  /** The hash `hash` gives for a string object of `text`, without making one. */
  hashOf(text: string): number {
    if (typeof text !== 'string') throw new BrcError('EINVAL', `strings.hashOf: ${describeValue(text)} is not a string`);
    return fnv1a(scratch, 0, encodeScratch(text));
  }

  /** Whether the string `a` holds the same text as the string object `b`, or as the JavaScript string `b`. */
  equals(a: Handle, b: Handle | string): boolean {
    const context = this.#context;
    const pa = payloadOf(context, a, 'strings.equals');
    const u32 = context.mem.u32, u8 = context.mem.u8;
    const bytes = u32[(pa + STRING_BYTES) >>> 2];
    if (typeof b === 'string') {
      if (b.length !== u32[(pa + STRING_LENGTH) >>> 2]) return false;
      const n = encodeScratch(b);
      if (n !== bytes) return false;
      const s = scratch, start = pa + STRING_HEADER;
      for (let i = 0; i < n; i++) if (s[i] !== u8[start + i]) return false;
      return true;
    }
    const pb = payloadOf(context, b, 'strings.equals');
    if (pa === pb) return true;
    if (bytes !== u32[(pb + STRING_BYTES) >>> 2] || u32[(pa + STRING_HASH) >>> 2] !== u32[(pb + STRING_HASH) >>> 2]) return false;
    // both byte runs start 8-aligned: compare whole words, then the tail
    const words = bytes >>> 2, ia = (pa + STRING_HEADER) >>> 2, ib = (pb + STRING_HEADER) >>> 2;
    for (let i = 0; i < words; i++) if (u32[ia + i] !== u32[ib + i]) return false;
    for (let i = words << 2; i < bytes; i++) if (u8[pa + STRING_HEADER + i] !== u8[pb + STRING_HEADER + i]) return false;
    return true;
  }

  /** -1, 0 or 1 as `a` sorts before, with or after `b`, by code points (UTF-8 byte order), without decoding. */
  compare(a: Handle, b: Handle): number {
    const context = this.#context;
    const pa = payloadOf(context, a, 'strings.compare'), pb = payloadOf(context, b, 'strings.compare');
    const u32 = context.mem.u32, u8 = context.mem.u8;
    const na = u32[(pa + STRING_BYTES) >>> 2], nb = u32[(pb + STRING_BYTES) >>> 2];
    const n = Math.min(na, nb), sa = pa + STRING_HEADER, sb = pb + STRING_HEADER;
    for (let i = 0; i < n; i++) {
      const x = u8[sa + i], y = u8[sb + i];
      if (x !== y) return x < y ? -1 : 1;
    }
    return na === nb ? 0 : na < nb ? -1 : 1;
  }
}

const stringTools = new WeakMap<Context, Strings>();

/** heap.strings */
export function stringsOf(heap: HeapCore): Strings {
  const context = contextOf(heap);
  let tools = stringTools.get(context);
  if (tools === undefined) stringTools.set(context, (tools = new Strings(context)));
  return tools;
}

/** heap.string(text) */
export function heapString(heap: HeapCore, text: string): StringHandle {
  return makeString(contextOf(heap), text, 'string');
}

/** heap.readString(handle) */
export function heapReadString(heap: HeapCore, handle: Handle): string {
  return stringsOf(heap).read(handle);
}
