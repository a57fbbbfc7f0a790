/**
 * Shapes: declare an object's fields once, by name and type, and read and write them as properties.
 *
 *   const Node = heap.shape('Node', { value: 'f64', count: 'u32', left: 'self', right: 'self', name: 'string' });
 *   const h = Node.create({ value: 1.5, name: 'root' });   // a handle: you hold its one reference
 *   const n = Node.at(h);                                  // an accessor: validated once, then plain loads/stores
 *   n.count++; n.left = other;                             // a reference store takes a reference (setRef)
 *
 * A shaped object is an ordinary biasrc object. Its reference fields (to a shape, to a string, to any object, and
 * fixed-length arrays of them) are its slots, in declaration order, with the usual counting: a store takes a new
 * reference to the child and releases the old one (brc_set_ref), a read borrows (like getRef), `load` takes a new
 * reference (like loadRef). Its numeric fields (i8..i64, u8..u64, f32, f64, bool, and fixed-length arrays of them)
 * live in the payload, each at an offset that is a multiple of its size (natural alignment: the payload itself is
 * 8-aligned), placed largest first, each at the first free offset of its alignment (declaration order within a size),
 * so the only padding is at the end.
 *
 * Identity. The payload's first u32 holds the shape id: FNV-1a of the shape's name and of every field's name, type,
 * length and, for a reference to a shape, that shape's name and id. Pointing an accessor at an object (`at`, and
 * every reference store) compares the object's slot count and id with the shape's, so a handle of another shape, of
 * a string, of an object made without a shape, or of a shape declared differently in another thread is a BrcError
 * that names both, never a misread. The id costs 4 bytes, and usually none: an 8-aligned payload with any field of
 * 4 bytes or less fills the rest of its first 8 bytes. (The header belongs to the core and has no spare bits; a slot
 * holds an address.)
 *
 * Threads. Shapes live in each thread: declare them in every thread that uses them (typically one module that
 * declares them all, imported by the main thread and the workers), or send one along: `Node.describe()` is plain
 * data for postMessage, and `heap.shape(description)` declares the same shape (same id) on the other side.
 *
 * Speed. Each shape's accessor class is generated once (new Function; closures where a Content-Security-Policy
 * forbids it): a getter and a setter per field, each its own function with its offset as a constant, reading the
 * typed arrays the accessor keeps itself ($f64, $u32, ...). Pointing an accessor at an object validates the handle
 * (checked mode: views.check, with the generation tag) and the shape id once; after that a field read is one
 * typed-array load at payload + offset, and a write one store (plus, in checked mode, a check of the value's type
 * and range). Nothing is allocated per access (i64/u64 fields give BigInts, which V8 allocates; a string field
 * decodes to a new JS string). Reuse an accessor with `accessor.at(handle)` (or `Shape.at(handle, into)`,
 * `Shape.create(init, into)`): no allocation per object either. A reference store re-checks the accessor's own object
 * cheaply (its LIVE bit and generation) before it changes counts. The accessor is valid while you hold a reference
 * to its object, exactly as a borrowed handle is.
 */

import { BrcError, handleName } from './errors.js';
import { LAYOUT } from './layout.js';
import { tagOf } from './views.js';
import { contextOf, describeValue, hex, STRING_ID, type Context, type HeapCore, type TypedMemory } from './context.js';
import { decodeAt, fnv1a, makeString, stringPayload, type ShapeHandle, type StringHandle } from './strings.js';
import type { Handle } from './ref.js';

export type { ShapeHandle, StringHandle } from './strings.js';

// ---- types ----------------------------------------------------------------------------------------------------------

/** Numeric field types: stored in the payload at natural alignment. `bool` is one byte (0 or 1). */
export type NumericType = 'i8' | 'u8' | 'i16' | 'u16' | 'i32' | 'u32' | 'i64' | 'u64' | 'f32' | 'f64' | 'bool';
/**
 * Reference field types: stored in a slot. `'string'` a string object (strings.ts), `'ref'` any object, `'self'` an
 * object of the shape being declared, a Shape an object of that shape, `() => Shape` the same resolved at first use
 * (for shapes that reference each other).
 */
export type RefType = 'string' | 'ref' | 'self' | AnyShape | (() => AnyShape);
export type ElementType = NumericType | RefType;
/** A field: one element, or a fixed-length array `[element, length]`. */
export type FieldType = ElementType | readonly [ElementType, number];
export type ShapeFields = { readonly [field: string]: FieldType };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
/**
 * Any shape, whatever its fields: the members of Shape that do not depend on them (Shape is invariant in its fields,
 * so Shape<ShapeFields> would not take a Shape<{ x: 'f64' }>).
 */
type AnyShape = Pick<Shape, 'name' | 'id' | 'bytes' | 'slots' | 'fields' | 'is'>;

type NumberValue<T> = T extends 'i64' | 'u64' ? bigint : T extends 'bool' ? boolean : number;
type TargetFields<T, F extends ShapeFields> =
  T extends 'self' ? F : T extends Shape<infer G> ? G : T extends () => Shape<infer G> ? G : never;
/** What reading a field of element type T gives. */
export type ElementValue<T, F extends ShapeFields> =
  T extends NumericType ? NumberValue<T>
  : T extends 'string' ? string | null
  : T extends 'ref' ? Handle
  : T extends 'self' | AnyShape | (() => AnyShape) ? ShapeHandle<Shape<TargetFields<T, F>>>
  : never;
/** What `create`'s init and the arrays' `set` take for element type T. */
export type ElementInit<T, F extends ShapeFields> =
  T extends NumericType ? NumberValue<T>
  : T extends 'string' ? string | StringHandle | null
  : T extends 'ref' | 'self' | AnyShape | (() => AnyShape) ? ElementValue<T, F> | null
  : never;

/** A fixed-length array of numbers. Indexes are checked (a BrcError naming shape and field). */
export interface NumberArray<V> {
  readonly length: number;
  get(index: number): V;
  set(index: number, value: V): void;
  fill(value: V): void;
  toArray(): V[];
}

/** A fixed-length array of references (slots): `get` borrows, `load` takes a new reference, `set` stores. */
export interface RefArray<V, I> {
  readonly length: number;
  /** The element: a borrowed handle (0 if empty), or for strings the decoded string (null if empty). */
  get(index: number): V;
  /** The element's handle, borrowed (for strings too). */
  ref(index: number): Handle;
  /** The element's handle with a new reference for you (safe against a concurrent store). */
  load(index: number): Handle;
  /** Stores a new reference to `value` (a string field also takes a JS string) and releases the old one. */
  set(index: number, value: I): void;
  toArray(): V[];
}

type ArrayValue<T, F extends ShapeFields> = T extends readonly [infer E, number]
  ? E extends NumericType ? NumberArray<NumberValue<E>> : RefArray<ElementValue<E, F>, ElementInit<E, F>>
  : never;

type ArrayKeys<F> = { [K in keyof F]: F[K] extends readonly [unknown, number] ? K : never }[keyof F];
type RefKeys<F> = { [K in keyof F]: F[K] extends RefType ? K : never }[keyof F];
type ShapeRefKeys<F> = { [K in keyof F]: F[K] extends 'self' | AnyShape | (() => AnyShape) ? K : never }[keyof F];
type NumericKeys<F> = { [K in keyof F]: F[K] extends NumericType | readonly [NumericType, number] ? K : never }[keyof F];
type SlotKeys<F> = { [K in keyof F]: F[K] extends RefType | readonly [RefType, number] ? K : never }[keyof F];

/** The methods every accessor has (besides its fields). These names cannot be field names. */
export interface ShapeObjectMethods<F extends ShapeFields> {
  /** The handle this accessor points at (borrowed: the accessor holds no reference). */
  readonly handle: ShapeHandle<Shape<F>>;
  readonly shape: Shape<F>;
  /** Points this accessor at another object of its shape (validated); returns it. */
  at(handle: Handle): this;
  /** The handle in a reference field, borrowed (0 if empty); for a string field, the string object's handle. */
  ref(field: RefKeys<F> & string): Handle;
  /** The handle in a reference field with a new reference for you (release it), safe against concurrent stores. */
  load(field: RefKeys<F> & string): Handle;
  /** Stores a handle (or 0) in a reference field: a new reference to it, the old one released. */
  store(field: RefKeys<F> & string, handle: Handle | null): void;
  /** An accessor of the object a shape reference field names (`into` reused if given), or null if it is empty. */
  follow<K extends ShapeRefKeys<F> & string>(field: K, into?: ShapeObject<TargetFields<F[K], F>>): ShapeObject<TargetFields<F[K], F>> | null;
  /** The fields as a plain object (strings decoded, references as handles, arrays as arrays). */
  toObject(): { [K in keyof F]: F[K] extends readonly [infer E, number] ? ElementValue<E, F>[] : ElementValue<F[K], F> };
}

/** An accessor: the shape's fields as properties, over the object it points at. */
export type ShapeObject<F extends ShapeFields> =
  { -readonly [K in Exclude<keyof F, ArrayKeys<F>>]: ElementValue<F[K], F> }
  & { readonly [K in ArrayKeys<F>]: ArrayValue<F[K], F> }
  & ShapeObjectMethods<F>;

/** What `create` takes: any subset of the fields (arrays as array-likes, at most their length). */
export type ShapeInit<F extends ShapeFields> = {
  [K in keyof F]?: F[K] extends readonly [infer E, number] ? ArrayLike<ElementInit<E, F>> : ElementInit<F[K], F>;
};

/** A field as the layout placed it. */
export interface FieldInfo {
  readonly name: string;
  /** 'f64', 'string', 'ref', 'self', or the referenced shape's name. */
  readonly type: string;
  /** Elements: 1 for a single value (and for an array of 1: see `array`). */
  readonly length: number;
  /** Declared as [type, length]: an array accessor (get, set, ...) rather than a property. */
  readonly array: boolean;
  /** Numeric fields: byte offset in the payload. */
  readonly offset?: number;
  /** Reference fields: the (first) slot index. */
  readonly slot?: number;
}

/** A shape as plain data (for postMessage): `heap.shape(description)` declares the same shape in another thread. */
export interface ShapeDescription<F extends ShapeFields = ShapeFields> {
  readonly name: string;
  readonly fields: { readonly [field: string]: DescribedType };
  /** Only carries the field types for TypeScript. */
  readonly __fields?: F;
}
export type DescribedElement = NumericType | 'string' | 'ref' | 'self' | { readonly shape: ShapeDescription | string; readonly lazy?: boolean };
export type DescribedType = DescribedElement | readonly [DescribedElement, number];

export interface Shape<F extends ShapeFields = ShapeFields> {
  readonly name: string;
  /** The shape id kept in each object's first payload u32. */
  readonly id: number;
  /** Payload bytes an object of this shape needs (the id included). */
  readonly bytes: number;
  readonly slots: number;
  readonly fields: readonly FieldInfo[];
  /**
   * A new object of this shape, fields zero/empty except those in `init`; you hold its one reference. `into`, an
   * accessor of this shape, is pointed at it (no validation needed: it is new): fill it there without allocating.
   */
  create(init?: ShapeInit<F> | null, into?: ShapeObject<F>): ShapeHandle<Shape<F>>;
  /** An accessor pointing at `handle` (validated: a live object of this shape). `into` is reused if given. */
  at(handle: Handle, into?: ShapeObject<F>): ShapeObject<F>;
  /** Whether `handle` names a live object of this shape. */
  is(handle: Handle): boolean;
  /** The payload byte offset of a numeric field (for hand-written code: `heap.view(h).getFloat64(offset, true)`). */
  offsetOf(field: NumericKeys<F> & string): number;
  /** The slot index of a reference field (for `heap.getRef(h, slot)` and the raw ABI). */
  slotOf(field: SlotKeys<F> & string): number;
  /** This shape as plain data, to send to another thread. */
  describe(): ShapeDescription<F>;
}

// ---- numeric element access -----------------------------------------------------------------------------------------

const SIZE: Record<NumericType, number> = { i8: 1, u8: 1, bool: 1, i16: 2, u16: 2, i32: 4, u32: 4, f32: 4, i64: 8, u64: 8, f64: 8 };

type Read = (m: TypedMemory, address: number) => unknown;
type Write = (m: TypedMemory, address: number, value: any) => void;

const READ: Record<NumericType, Read> = {
  i8: (m, a) => m.i8[a],
  u8: (m, a) => m.u8[a],
  bool: (m, a) => m.u8[a] !== 0,
  i16: (m, a) => m.i16[a >>> 1],
  u16: (m, a) => m.u16[a >>> 1],
  i32: (m, a) => m.i32[a >>> 2],
  u32: (m, a) => m.u32[a >>> 2],
  f32: (m, a) => m.f32[a >>> 2],
  i64: (m, a) => m.i64[a >>> 3],
  u64: (m, a) => m.u64[a >>> 3],
  f64: (m, a) => m.f64[a >>> 3],
};

const WRITE: Record<NumericType, Write> = {
  i8: (m, a, v) => { m.i8[a] = v; },
  u8: (m, a, v) => { m.u8[a] = v; },
  bool: (m, a, v) => { m.u8[a] = v ? 1 : 0; },
  i16: (m, a, v) => { m.i16[a >>> 1] = v; },
  u16: (m, a, v) => { m.u16[a >>> 1] = v; },
  i32: (m, a, v) => { m.i32[a >>> 2] = v; },
  u32: (m, a, v) => { m.u32[a >>> 2] = v; },
  f32: (m, a, v) => { m.f32[a >>> 2] = v; },
  i64: (m, a, v) => { m.i64[a >>> 3] = v; },
  u64: (m, a, v) => { m.u64[a >>> 3] = v; },
  f64: (m, a, v) => { m.f64[a >>> 3] = v; },
};

const F32_MAX = 3.4028234663852886e38;
/** Checked mode: what a numeric field accepts (anything else is a BrcError and nothing is written). */
const VALID: Record<NumericType, (v: unknown) => boolean> = {
  // (typeof first: a bigint in a shift or an | would throw a TypeError)
  i8: (v) => typeof v === 'number' && ((v << 24) >> 24) === v,
  u8: (v) => typeof v === 'number' && (v & 0xff) === v,
  i16: (v) => typeof v === 'number' && ((v << 16) >> 16) === v,
  u16: (v) => typeof v === 'number' && (v & 0xffff) === v,
  i32: (v) => typeof v === 'number' && (v | 0) === v,
  u32: (v) => typeof v === 'number' && v >>> 0 === v,
  // a finite number that f32 cannot hold (it would become Infinity) is refused; NaN and the infinities are not
  f32: (v) => typeof v === 'number' && !(Math.abs(v) > F32_MAX && Math.abs(Math.fround(v)) === Infinity && Math.abs(v) !== Infinity),
  f64: (v) => typeof v === 'number',
  i64: (v) => typeof v === 'bigint' && BigInt.asIntN(64, v) === v,
  u64: (v) => typeof v === 'bigint' && BigInt.asUintN(64, v) === v,
  bool: (v) => typeof v === 'boolean',
};

const EXPECTED: Record<NumericType, string> = {
  i8: 'an integer from -128 to 127', u8: 'an integer from 0 to 255', i16: 'an integer from -32768 to 32767',
  u16: 'an integer from 0 to 65535', i32: 'an integer from -2147483648 to 2147483647', u32: 'an integer from 0 to 4294967295',
  f32: 'a number within the f32 range (or NaN, or an infinity)', f64: 'a number',
  i64: 'a bigint from -(2n ** 63n) to 2n ** 63n - 1n', u64: 'a bigint from 0n to 2n ** 64n - 1n', bool: 'true or false',
};

const NUMERIC = new Set<string>(Object.keys(SIZE));

// ---- fields and layout ------------------------------------------------------------------------------------------------

const RESERVED = new Set(['handle', 'shape', 'at', 'ref', 'load', 'store', 'follow', 'toObject', 'toJSON', 'toString',
  'valueOf', 'constructor', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', 'then', '__proto__']);
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

type Kind = NumericType | 'string' | 'ref' | 'shape';

interface Field {
  readonly name: string;
  readonly kind: Kind;
  /** For kind 'shape': the target (this shape for 'self'), or a thunk resolved at first use. */
  readonly target: ShapeImpl | (() => unknown) | null;
  readonly length: number;
  readonly array: boolean;
  /** Numeric: element bytes and the payload offset. References: the first slot. */
  readonly size: number;
  offset: number;
  slot: number;
  /** The type as FieldInfo and the id hash show it. */
  readonly typeName: string;
  readonly signature: string;
  /** 'Shape.field', for messages. */
  readonly what: string;
  /** For kind 'shape': the target once known ('self' at once, a lazy one at first use). */
  resolved: ShapeImpl | null;
}

/** 'Shape.field' or 'Shape.field[i]', for messages. */
function whereOf(f: Field, slot: number): string {
  return f.array ? `${f.what}[${slot - f.slot}]` : f.what;
}

/** Places the numeric fields: the id at 0, then largest first, each at the first free offset of its alignment. */
function layout(fields: Field[]): number {
  const used: boolean[] = [true, true, true, true]; // the id
  const numeric = fields.filter((f) => NUMERIC.has(f.kind)).sort((a, b) => b.size - a.size); // stable: declaration order within a size
  let end = 4;
  for (const f of numeric) {
    const bytes = f.size * f.length;
    for (let at = 0; ; at += f.size) {
      let free = true;
      for (let i = at; i < at + bytes; i++) if (used[i]) { free = false; break; }
      if (!free) continue;
      for (let i = at; i < at + bytes; i++) used[i] = true;
      f.offset = at;
      end = Math.max(end, at + bytes);
      break;
    }
  }
  return end;
}

function shapeError(what: string, message: string, handle?: number): BrcError {
  return new BrcError('EINVAL', `${what}: ${message}`, handle === undefined ? {} : { handle });
}

// ---- accessors --------------------------------------------------------------------------------------------------------

/**
 * The accessor base class. Its state is four plain (not #private: V8 reads those slower in hot code) properties,
 * named with a `$` so that no field can take their names.
 */
class ObjectBase {
  $h: number;
  $a: number;
  $p: number;
  $m: TypedMemory;
  $s: ShapeImpl;
  $x: unknown[];
  /** The buffer the views of a generated accessor ($f64, $u32, ...) are over. */
  $buf: ArrayBufferLike;

  constructor(shape: ShapeImpl) {
    this.$h = 0;
    this.$a = 0;
    this.$p = 0;
    this.$m = shape.context.mem;
    this.$s = shape;
    this.$x = shape.arrays.length === 0 ? NO_ARRAYS : shape.arrays.map((f) => shape.arrayFor(this, f));
    this.$buf = this.$m.buffer;
  }

  /** Takes the memory's current views (after a refresh); a generated accessor also copies the ones it reads. */
  $sync(): void {
    this.$buf = this.$m.buffer;
  }

  get handle(): number {
    return this.$h;
  }

  get shape(): ShapeImpl {
    return this.$s;
  }

  at(handle: Handle): this {
    this.$s.point(this, handle, this.$s.atWhat);
    return this;
  }

  ref(field: string): Handle {
    const f = this.$s.refField(field, 'ref');
    return this.$m.slot(this.$a, f.slot);
  }

  load(field: string): Handle {
    const f = this.$s.refField(field, 'load');
    return loadSlot(this, f, f.slot);
  }

  store(field: string, handle: Handle | null): void {
    const f = this.$s.refField(field, 'store');
    if (typeof handle === 'string') throw shapeError(`${this.$s.name}.store('${field}')`, `${describeValue(handle)} where a handle goes (make a string object with heap.string() first)`);
    storeRef(this, f, f.slot, handle);
  }

  follow(field: string, into?: ObjectBase): ObjectBase | null {
    const f = this.$s.refField(field, 'follow');
    if (f.kind !== 'shape') throw shapeError(`${this.$s.name}.follow('${field}')`, `'${field}' is not a reference to a shape`);
    const h = this.$m.slot(this.$a, f.slot);
    return h === 0 ? null : this.$s.targetOf(f).at(h, into as never) as unknown as ObjectBase;
  }

  toObject(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const self = this as unknown as Record<string, unknown>;
    for (const f of this.$s.fieldList) {
      const value = self[f.name];
      out[f.name] = f.array ? (value as { toArray(): unknown[] }).toArray() : value;
    }
    return out;
  }
}

const NO_ARRAYS: unknown[] = [];

/** Checked mode, before a reference store: the accessor's own object is still the live object it was pointed at. */
function checkAlive(o: ObjectBase, f: Field, slot: number): void {
  const m = o.$m, a = o.$a;
  const live = (m.u32[(a + LAYOUT.H_LINK) >>> 2] & LAYOUT.LINK_LIVE) !== 0;
  const tag = tagOf(o.$h);
  if (!live || (tag !== 0 && tag !== (m.u16[(a + LAYOUT.H_SLOTS) >>> 1] >>> LAYOUT.GEN_SHIFT) + 1)) {
    throw new BrcError('EFREED', `${whereOf(f, slot)}: the ${o.$s.name} this accessor points at (${handleName(o.$h)}) was freed (EFREED); nothing was stored`, { handle: o.$h });
  }
}

/** A store of `value` into slot `slot` of the accessor's object, for field `f` (its element type). */
function storeRef(o: ObjectBase, f: Field, slot: number, value: unknown): void {
  const s = o.$s, context = s.context;
  if (o.$m.u8.length === 0) o.$m.refresh(); // a non-shared memory grew: its old views are detached
  if (s.checked) checkAlive(o, f, slot);
  let child: number;
  let made = 0;
  if (value === 0 || value === null) {
    // storing null into an empty slot changes nothing: skip the call (a concurrent store would win the race anyway)
    if ((o.$m.u32[(o.$a + LAYOUT.HEADER_SIZE + slot * LAYOUT.SLOT_SIZE) >>> 2] & ~LAYOUT.SLOT_BUSY) === 0) return;
    child = 0;
  } else if (typeof value === 'string') {
    if (f.kind !== 'string') throw shapeError(whereOf(f, slot), `${describeValue(value)} where a reference goes (${s.expects(f)}); nothing was stored`);
    made = makeString(context, value, f.what);
    child = made >>> 0;
  } else if (s.checked) {
    if (typeof value !== 'number') throw shapeError(whereOf(f, slot), `${describeValue(value)} is not a handle (${s.expects(f)}); nothing was stored`);
    child = context.address(value, f.what);
    s.checkTarget(f, child, value, slot);
  } else {
    child = (value as number) >>> 0;
  }
  try {
    context.raw.brc_set_ref(o.$a, slot, child);
  } catch (error) {
    if (made !== 0) context.heap.decref(made);
    throw context.trap(error, whereOf(f, slot), o.$h);
  }
  if (made !== 0) context.heap.decref(made); // the slot holds the string's only reference now
}

function loadSlot(o: ObjectBase, f: Field, slot: number): Handle {
  const context = o.$s.context;
  if (o.$m.u8.length === 0) o.$m.refresh();
  if (o.$s.checked) checkAlive(o, f, slot);
  try {
    return o.$m.tag(context.raw.brc_load_ref(o.$a, slot) >>> 0);
  } catch (error) {
    throw context.trap(error, whereOf(f, slot), o.$h);
  }
}

/** A string field's value: the decoded string, or null when the slot is empty. */
function readStringSlot(o: ObjectBase, f: Field, slot: number): string | null {
  const m = o.$m;
  if (m.u8.length === 0) m.refresh();
  const child = (m.u32[(o.$a + LAYOUT.HEADER_SIZE + slot * LAYOUT.SLOT_SIZE) >>> 2] & ~LAYOUT.SLOT_BUSY) >>> 0;
  if (child === 0) return null;
  const p = stringPayload(o.$s.context, child);
  if (p < 0) {
    throw shapeError(whereOf(f, slot), `the slot holds ${o.$s.context.describeObject(child)}, not a string (stored through the raw API?)`);
  }
  return decodeAt(o.$s.context, p);
}

function indexError(s: ShapeImpl, f: Field, index: unknown): BrcError {
  return shapeError(`${s.name}.${f.name}`, `index ${describeValue(index)} out of range (the array has ${f.length} elements); nothing was changed`);
}

/** Per numeric kind, an array class of its own (so that each one's element access stays monomorphic). */
const numberArrayClasses = new Map<NumericType, new (o: ObjectBase, f: Field, checked: boolean) => NumberArray<unknown>>();

function numberArrayClass(kind: NumericType) {
  let cls = numberArrayClasses.get(kind);
  if (cls !== undefined) return cls;
  const read = READ[kind], write = WRITE[kind], valid = VALID[kind], shift = Math.log2(SIZE[kind]);
  cls = class NumberArrayImpl implements NumberArray<unknown> {
    readonly length: number;
    private readonly o: ObjectBase;
    private readonly f: Field;
    private readonly checked: boolean;
    constructor(o: ObjectBase, f: Field, checked: boolean) {
      this.o = o;
      this.f = f;
      this.length = f.length;
      this.checked = checked;
    }
    get(index: number): unknown {
      if (!((index >>> 0) === index && index < this.length)) throw indexError(this.o.$s, this.f, index);
      const o = this.o;
      const m = o.$m;
      if (m.u8.length === 0) m.refresh();
      return read(m, o.$p + this.f.offset + (index << shift));
    }
    set(index: number, value: unknown): void {
      if (!((index >>> 0) === index && index < this.length)) throw indexError(this.o.$s, this.f, index);
      if (this.checked && !valid(value)) throw valueError(this.o.$s, this.f, value, index);
      const o = this.o;
      const m = o.$m;
      if (m.u8.length === 0) m.refresh();
      write(m, o.$p + this.f.offset + (index << shift), value);
    }
    fill(value: unknown): void {
      if (this.checked && !valid(value)) throw valueError(this.o.$s, this.f, value);
      for (let i = 0; i < this.length; i++) this.set(i, value);
    }
    toArray(): unknown[] {
      const out = new Array<unknown>(this.length);
      for (let i = 0; i < this.length; i++) out[i] = this.get(i);
      return out;
    }
  };
  numberArrayClasses.set(kind, cls);
  return cls;
}

class RefArrayImpl implements RefArray<unknown, unknown> {
  readonly length: number;
  private readonly o: ObjectBase;
  private readonly f: Field;
  constructor(o: ObjectBase, f: Field) {
    this.o = o;
    this.f = f;
    this.length = f.length;
  }
  private slotAt(index: number): number {
    if (!((index >>> 0) === index && index < this.length)) throw indexError(this.o.$s, this.f, index);
    return this.f.slot + index;
  }
  get(index: number): unknown {
    const slot = this.slotAt(index);
    return this.f.kind === 'string' ? readStringSlot(this.o, this.f, slot) : this.o.$m.slot(this.o.$a, slot);
  }
  ref(index: number): Handle {
    return this.o.$m.slot(this.o.$a, this.slotAt(index));
  }
  load(index: number): Handle {
    return loadSlot(this.o, this.f, this.slotAt(index));
  }
  set(index: number, value: unknown): void {
    storeRef(this.o, this.f, this.slotAt(index), value);
  }
  toArray(): unknown[] {
    const out = new Array<unknown>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.get(i);
    return out;
  }
}

function valueError(s: ShapeImpl, f: Field, value: unknown, index?: number): BrcError {
  const where = index === undefined ? `${s.name}.${f.name}` : `${s.name}.${f.name}[${index}]`;
  const kind = f.kind as NumericType;
  return shapeError(where, `${describeValue(value)} is not a valid ${kind} (${EXPECTED[kind]}); nothing was written`);
}

/** The getter and setter of a single (non-array) field. */
function accessors(s: ShapeImpl, f: Field): PropertyDescriptor {
  const guard = !s.context.shared; // a non-shared memory's views are detached when it grows: refresh before use
  if (NUMERIC.has(f.kind)) {
    const kind = f.kind as NumericType, off = f.offset, read = READ[kind], write = WRITE[kind], valid = VALID[kind];
    let get: (this: ObjectBase) => unknown = function (this: ObjectBase) { return read(this.$m, this.$p + off); };
    let set: (this: ObjectBase, v: unknown) => void = s.checked
      ? function (this: ObjectBase, v: unknown) {
        if (!valid(v)) throw valueError(this.$s, f, v);
        write(this.$m, this.$p + off, v);
      }
      : function (this: ObjectBase, v: unknown) { write(this.$m, this.$p + off, v); };
    if (guard) {
      const rawGet = get, rawSet = set;
      get = function (this: ObjectBase) { if (this.$m.u8.length === 0) this.$m.refresh(); return rawGet.call(this); };
      set = function (this: ObjectBase, v: unknown) { if (this.$m.u8.length === 0) this.$m.refresh(); rawSet.call(this, v); };
    }
    return { get, set, enumerable: true, configurable: false };
  }
  const slot = f.slot;
  const get = f.kind === 'string'
    ? function (this: ObjectBase) { return readStringSlot(this, f, slot); }
    : function (this: ObjectBase) {
      const m = this.$m;
      if (guard && m.u8.length === 0) m.refresh();
      return m.slot(this.$a, slot);
    };
  const set = function (this: ObjectBase, v: unknown) { storeRef(this, f, slot, v); };
  return { get, set, enumerable: true, configurable: false };
}

/** The accessor class with a closure per field: where generated code is not allowed (a CSP without 'unsafe-eval'). */
function closureClass(s: ShapeImpl, fields: readonly Field[]): new (shape: ShapeImpl) => ObjectBase {
  const Accessor = class extends ObjectBase {};
  Object.defineProperty(Accessor, 'name', { value: s.name });
  let arrayIndex = 0;
  for (const f of fields) {
    if (f.array) {
      const k = arrayIndex++;
      Object.defineProperty(Accessor.prototype, f.name, {
        get(this: ObjectBase) { return this.$x[k]; },
        enumerable: true,
        configurable: false,
      });
    } else {
      Object.defineProperty(Accessor.prototype, f.name, accessors(s, f));
    }
  }
  return Accessor;
}

/** The element expression of a numeric field at payload offset `off` (the payload is 8-aligned). */
function elementSource(kind: NumericType, off: number): string {
  const shift = Math.log2(SIZE[kind]);
  return `this.$${viewOf(kind)}[${shift === 0 ? `this.$p + ${off}` : `(this.$p + ${off}) >>> ${shift}`}]`;
}

function viewOf(kind: NumericType): keyof TypedMemory & string {
  return kind === 'bool' ? 'u8' : kind;
}

/**
 * The common case of a store into a reference field whose target is known when the class is made ('self', a Shape,
 * 'ref'), as source: a live handle of the right shape into a live object, checked inline and stored with one call.
 * Everything else (0, strings, lazy targets, a non-shared memory's detached views, every error) falls through to
 * storeRef, which checks it all again and says what is wrong.
 */
function fastStore(s: ShapeImpl, f: Field, i: number): string {
  const store = `try { ctx.raw.brc_set_ref(a, ${f.slot}, c); } catch (e) { throw ctx.trap(e, F[${i}].what, this.$h); } return;`;
  if (!s.checked) return f.kind === 'string' ? '' : `if (typeof v === 'number' && v > 0) { const a = this.$a, c = v >>> 0; ${store} } `;
  if (f.kind !== 'ref' && !(f.kind === 'shape' && f.resolved !== null)) return '';
  const target = f.kind === 'ref' ? '' : ` const T = F[${i}].resolved, p = c + T.delta; if (p + 4 <= m.u8.length && u32[p >>> 2] === T.id && (m.u16[(c + ${LAYOUT.H_SLOTS}) >>> 1] & ${LAYOUT.SLOTS_MASK}) === T.slots)`;
  return `if (typeof v === 'number' && v > 0) { const m = this.$m, u32 = m.u32, a = this.$a, t = Math.floor(this.$h / 4294967296); `
    + `if ((u32[(a + ${LAYOUT.H_LINK}) >>> 2] & ${LAYOUT.LINK_LIVE}) !== 0 && (t === 0 || t === (m.u16[(a + ${LAYOUT.H_SLOTS}) >>> 1] >>> ${LAYOUT.GEN_SHIFT}) + 1)) { `
    + `const c = ctx.address(v, F[${i}].what);${target} { ${store} } } } `;
}

/** Checked mode: the test a numeric field's setter makes of its value `v`, as source. */
const VALID_SOURCE: Record<NumericType, string> = {
  i8: "typeof v === 'number' && ((v << 24) >> 24) === v", u8: "typeof v === 'number' && (v & 255) === v",
  i16: "typeof v === 'number' && ((v << 16) >> 16) === v", u16: "typeof v === 'number' && (v & 65535) === v",
  i32: "typeof v === 'number' && (v | 0) === v", u32: "typeof v === 'number' && v >>> 0 === v", f32: 'validF32(v)', f64: "typeof v === 'number'",
  i64: "typeof v === 'bigint' && BigInt.asIntN(64, v) === v", u64: "typeof v === 'bigint' && BigInt.asUintN(64, v) === v",
  bool: "typeof v === 'boolean'",
};

let generationAllowed = true;

/**
 * The accessor class as generated source: every getter and setter is its own function, with its offset as a
 * constant, so each field access site in user code stays monomorphic and V8 inlines it to one typed-array access.
 * (Closures made from one function literal share their feedback in V8: with a closure per field, every getter of
 * every shape would share one, and go polymorphic.) Names are safe to embed: shape and field names are checked to
 * be identifiers. Returns undefined where the platform refuses to compile code at run time.
 */
function generatedClass(s: ShapeImpl, fields: readonly Field[]): Generated | undefined {
  if (!generationAllowed) return undefined;
  // the views this class reads, as its own properties (one load less per access than this.$m.f64)
  const views = [...new Set(fields.filter((f) => NUMERIC.has(f.kind) && !f.array).map((f) => viewOf(f.kind as NumericType)))];
  const guard = s.context.shared || views.length === 0 ? '' : `if (this.$${views[0]}.length === 0) this.$sync(); `;
  const sync = views.map((v) => `this.$${v} = m.${v};`).join(' ');
  const lines: string[] = [];
  let arrayIndex = 0;
  fields.forEach((f, i) => {
    if (f.array) {
      lines.push(`get ${f.name}() { return this.$x[${arrayIndex++}]; }`);
      return;
    }
    if (NUMERIC.has(f.kind)) {
      const kind = f.kind as NumericType, element = elementSource(kind, f.offset);
      const read = kind === 'bool' ? `${element} !== 0` : element;
      const value = kind === 'bool' ? '(v ? 1 : 0)' : 'v';
      const check = s.checked ? `if (!(${VALID_SOURCE[kind]})) throw valueError(this.$s, F[${i}], v); ` : '';
      lines.push(`get ${f.name}() { ${guard}return ${read}; }`);
      lines.push(`set ${f.name}(v) { ${check}${guard}${element} = ${value}; }`);
      return;
    }
    lines.push(f.kind === 'string'
      ? `get ${f.name}() { return readStringSlot(this, F[${i}], ${f.slot}); }`
      : `get ${f.name}() { ${guard}return this.$m.slot(this.$a, ${f.slot}); }`);
    lines.push(`set ${f.name}(v) { ${fastStore(s, f, i)}storeRef(this, F[${i}], ${f.slot}, v); }`);
  });
  // create's init: one monomorphic load per field from the init object; returns how many of its keys are fields
  const init = fields.map((f, i) => f.array
    ? `if ((x = v.${f.name}) !== undefined) { writeArray(o, F[${i}], x); n++; } else if ('${f.name}' in v) n++;`
    : `if ((x = v.${f.name}) !== undefined) { o.${f.name} = x; n++; } else if ('${f.name}' in v) n++;`);
  lines.unshift(`constructor(s) { super(s); const m = this.$m; ${sync} }`,
    `$sync() { const m = this.$m; m.refresh(); this.$buf = m.buffer; ${sync} }`);
  const source = `return [class ${s.name} extends Base {\n  ${lines.join('\n  ')}\n}, function init(o, v) {\n  let n = 0, x;\n  ${init.join('\n  ')}\n  return n;\n}];`;
  let make: (...args: unknown[]) => [new (shape: ShapeImpl) => ObjectBase, Init];
  try {
    make = new Function('Base', 'F', 'valueError', 'storeRef', 'readStringSlot', 'validF32', 'writeArray', 'ctx', source) as typeof make;
  } catch {
    generationAllowed = false; // e.g. EvalError under a Content-Security-Policy
    return undefined;
  }
  const [Accessor, initFields] = make(ObjectBase, fields, valueError, storeRef, readStringSlot, VALID.f32, writeArray, s.context);
  for (const f of fields) {
    const d = Object.getOwnPropertyDescriptor(Accessor.prototype, f.name)!;
    Object.defineProperty(Accessor.prototype, f.name, { ...d, enumerable: true, configurable: false });
  }
  return { Accessor, init: initFields };
}

/** Writes init's fields into the object `o` points at; returns how many of init's keys are fields. */
type Init = (o: ObjectBase, init: Record<string, unknown>) => number;
interface Generated {
  Accessor: new (shape: ShapeImpl) => ObjectBase;
  init: Init;
}

/** An array field's value in create's init: an array-like of at most the field's length. */
function writeArray(o: ObjectBase, f: Field, values: ArrayLike<unknown>): void {
  if (values === null || typeof values !== 'object' || typeof values.length !== 'number' || values.length > f.length) {
    throw shapeError(`${o.$s.name}.${f.name}`, `${describeValue(values)} is not an array of at most ${f.length} elements`);
  }
  const array = o.$x[o.$s.arrays.indexOf(f)] as { set(i: number, v: unknown): void };
  for (let i = 0; i < values.length; i++) array.set(i, values[i]);
}

/** create's init where code is not generated. */
function initFields(fields: readonly Field[]): Init {
  return (o, init) => {
    const target = o as unknown as Record<string, unknown>;
    let n = 0;
    for (const f of fields) {
      const value = init[f.name];
      if (value === undefined) {
        if (f.name in init) n++;
        continue;
      }
      n++;
      if (f.array) writeArray(o, f, value as ArrayLike<unknown>);
      else target[f.name] = value;
    }
    return n;
  };
}

// ---- shapes ----------------------------------------------------------------------------------------------------------

class ShapeImpl implements Shape<ShapeFields> {
  readonly name: string;
  id = 0;
  readonly bytes: number;
  readonly slots: number;
  readonly fields: readonly FieldInfo[];
  readonly context: Context;
  readonly checked: boolean;
  /** Payload address - object address: the header, then the slots rounded up to 8 bytes. */
  readonly delta: number;
  readonly fieldList: readonly Field[];
  readonly arrays: readonly Field[];
  readonly atWhat: string;
  readonly #byName = new Map<string, Field>();
  // TypeScript-private, not #private: create and at are hot, and V8 reads #fields slower
  private readonly Accessor: new (shape: ShapeImpl) => ObjectBase;
  private readonly initFields: Init;
  /** create's accessor, reused (undefined while in use, so that a re-entrant create makes its own). */
  private scratch: ObjectBase | undefined = undefined;

  constructor(context: Context, name: string, fields: Field[]) {
    this.context = context;
    this.checked = context.checked;
    this.name = name;
    this.atWhat = `${name}.at`;
    let slot = 0;
    for (const f of fields) {
      this.#byName.set(f.name, f);
      if (f.kind === 'shape' && f.signature.startsWith('@self')) f.resolved = this;
      else if (f.target instanceof ShapeImpl) f.resolved = f.target;
      if (!NUMERIC.has(f.kind)) {
        f.slot = slot;
        slot += f.length;
      }
    }
    if (slot > LAYOUT.MAX_SLOTS) throw shapeError(`shape ${name}`, `${slot} reference slots, more than an object has (${LAYOUT.MAX_SLOTS})`);
    this.slots = slot;
    this.bytes = layout(fields);
    this.delta = LAYOUT.HEADER_SIZE + ((slot * LAYOUT.SLOT_SIZE + LAYOUT.PAYLOAD_ALIGN - 1) & ~(LAYOUT.PAYLOAD_ALIGN - 1));
    this.fieldList = fields;
    this.arrays = fields.filter((f) => f.array);
    this.fields = fields.map((f) => Object.freeze(NUMERIC.has(f.kind)
      ? { name: f.name, type: f.typeName, length: f.length, array: f.array, offset: f.offset }
      : { name: f.name, type: f.typeName, length: f.length, array: f.array, slot: f.slot }));

    const generated = generatedClass(this, fields);
    this.Accessor = generated?.Accessor ?? closureClass(this, fields);
    this.initFields = generated?.init ?? initFields(fields);
  }

  /** The id: FNV-1a of the name and every field's name and signature (0 and the string id are never given). */
  computeId(): number {
    let text = `biasrc.shape/1 ${this.name} {${this.fieldList.map((f) => `${f.name}:${f.signature}`).join(',')}}`;
    for (;;) {
      const bytes = new TextEncoder().encode(text);
      const id = fnv1a(bytes, 0, bytes.length);
      if (id !== 0 && id !== STRING_ID) return id;
      text += '+';
    }
  }

  arrayFor(o: ObjectBase, f: Field): unknown {
    if (NUMERIC.has(f.kind)) return new (numberArrayClass(f.kind as NumericType))(o, f, this.checked);
    return new RefArrayImpl(o, f);
  }

  create(init?: ShapeInit<ShapeFields> | null, into?: ShapeObject<ShapeFields>): ShapeHandle<Shape<ShapeFields>> {
    const context = this.context;
    if (init !== undefined && init !== null && typeof init !== 'object') {
      throw shapeError(`${this.name}.create`, `${describeValue(init)} is not an object of field values`);
    }
    const target = into as unknown as ObjectBase | undefined;
    if (target !== undefined && (!(target instanceof ObjectBase) || target.$s !== this)) {
      throw shapeError(`${this.name}.create`, `'into' is not a ${this.name} accessor`);
    }
    const handle = context.heap.alloc(this.bytes, this.slots);
    const a = handle >>> 0;
    const p = a + this.delta;
    const m = context.mem;
    if (p + this.bytes > m.u8.length) m.refresh();
    m.u32[p >>> 2] = this.id;
    if (init !== undefined && init !== null) {
      const o = this.scratch ?? new this.Accessor(this);
      this.scratch = undefined;
      o.$h = handle;
      o.$a = a;
      o.$p = p;
      if (o.$buf !== m.buffer) o.$sync();
      try {
        const found = this.initFields(o, init as Record<string, unknown>);
        if (this.checked && found !== countKeys(init)) this.#checkKeys(init);
      } catch (error) {
        context.heap.decref(handle); // nothing is left behind: the new object and whatever it took a reference to
        throw error;
      } finally {
        this.scratch = o;
      }
    }
    if (target !== undefined) {
      target.$h = handle;
      target.$a = a;
      target.$p = p;
      if (target.$buf !== m.buffer) target.$sync();
    }
    return handle;
  }

  /** Checked mode: every key of create's init is a field. */
  #checkKeys(init: object): void {
    for (const key of Object.keys(init)) {
      if (!this.#byName.has(key)) throw shapeError(`${this.name}.create`, `${this.name} has no field '${key}' (its fields: ${[...this.#byName.keys()].join(', ')}); nothing was made`);
    }
  }

  at(handle: Handle, into?: ShapeObject<ShapeFields>): ShapeObject<ShapeFields> {
    let o = into as unknown as ObjectBase | undefined;
    if (o === undefined || o === null) o = new this.Accessor(this);
    else if (!(o instanceof ObjectBase) || o.$s !== this) throw shapeError(this.atWhat, `'into' is not a ${this.name} accessor`);
    this.point(o, handle, this.atWhat);
    return o as unknown as ShapeObject<ShapeFields>;
  }

  /** Points `o` at `handle` after checking it names a live object (checked mode) of this shape (always). */
  point(o: ObjectBase, handle: Handle, what: string): void {
    const context = this.context;
    const a = this.checked ? context.address(handle, what) : handle >>> 0;
    const p = a + this.delta;
    const m = context.mem;
    if (p + this.bytes > m.u8.length) m.refresh();
    if (m.u32[p >>> 2] !== this.id || (m.u16[(a + LAYOUT.H_SLOTS) >>> 1] & LAYOUT.SLOTS_MASK) !== this.slots) {
      throw this.#notMine(a, handle, what);
    }
    o.$h = handle;
    o.$a = a;
    o.$p = p;
    if (o.$buf !== m.buffer) o.$sync();
  }

  #notMine(address: number, handle: Handle, what: string): BrcError {
    return shapeError(what, `${handleName(handle)} is ${this.context.describeObject(address, this.name)}, not a ${this.name} (shape id 0x${hex(this.id)})`, handle);
  }

  is(handle: Handle): boolean {
    const context = this.context;
    if (context.views.check(handle) !== 0) return false;
    const a = handle >>> 0;
    const m = context.mem;
    if (a + this.delta + 4 > m.u8.length) m.refresh();
    return m.u32[(a + this.delta) >>> 2] === this.id && (m.u16[(a + LAYOUT.H_SLOTS) >>> 1] & LAYOUT.SLOTS_MASK) === this.slots;
  }

  offsetOf(field: string): number {
    const f = this.#byName.get(field);
    if (f === undefined || !NUMERIC.has(f.kind)) throw shapeError(`${this.name}.offsetOf('${field}')`, `${this.name} has no numeric field '${field}'`);
    return f.offset;
  }

  slotOf(field: string): number {
    const f = this.#byName.get(field);
    if (f === undefined || NUMERIC.has(f.kind)) throw shapeError(`${this.name}.slotOf('${field}')`, `${this.name} has no reference field '${field}'`);
    return f.slot;
  }

  /** A single (non-array) reference field by name, for ref / load / store / follow. */
  refField(field: string, what: string): Field {
    const f = this.#byName.get(field);
    if (f === undefined || NUMERIC.has(f.kind) || f.array) {
      throw shapeError(`${this.name}.${what}('${String(field)}')`, `${this.name} has no single reference field '${String(field)}'`);
    }
    return f;
  }

  /** The shape a 'shape' field names (a lazy one is resolved now). */
  targetOf(f: Field): ShapeImpl {
    if (f.resolved !== null) return f.resolved;
    const t = f.target;
    if (t instanceof ShapeImpl) return (f.resolved = t);
    const resolved = (t as () => unknown)();
    if (!(resolved instanceof ShapeImpl)) throw shapeError(`${this.name}.${f.name}`, `its lazy target returned ${describeValue(resolved)}, not a shape`);
    if (resolved.context !== this.context) throw shapeError(`${this.name}.${f.name}`, `its target ${resolved.name} belongs to another heap`);
    return (f.resolved = resolved);
  }

  /** What a reference field takes, for messages. */
  expects(f: Field): string {
    switch (f.kind) {
      case 'string': return 'a string, a string handle, or 0';
      case 'ref': return 'a handle, or 0';
      default: return `a ${this.targetOf(f).name} handle, or 0`;
    }
  }

  /** Checked mode: the child at `child` is of the type field `f` holds. */
  checkTarget(f: Field, child: number, handle: Handle, slot: number): void {
    if (f.kind === 'ref') return;
    const context = this.context;
    if (f.kind === 'string') {
      if (stringPayload(context, child) < 0) throw shapeError(whereOf(f, slot), `${handleName(handle)} is ${context.describeObject(child)}, not a string; nothing was stored`, handle);
      return;
    }
    const target = this.targetOf(f);
    const m = context.mem;
    const p = child + target.delta;
    if (p + 4 > m.u8.length) m.refresh();
    if (m.u32[p >>> 2] !== target.id || (m.u16[(child + LAYOUT.H_SLOTS) >>> 1] & LAYOUT.SLOTS_MASK) !== target.slots) {
      throw shapeError(whereOf(f, slot), `${handleName(handle)} is ${context.describeObject(child, target.name)}, not a ${target.name}; nothing was stored`, handle);
    }
  }

  describe(): ShapeDescription<ShapeFields> {
    return this.#describe(new Set());
  }

  #describe(open: Set<ShapeImpl>): ShapeDescription<ShapeFields> {
    open.add(this);
    const fields: Record<string, DescribedType> = {};
    for (const f of this.fieldList) {
      let element: DescribedElement;
      if (f.kind !== 'shape') element = f.kind;
      else if (f.target === this) element = 'self';
      else {
        const target = this.targetOf(f);
        const lazy = !(f.target instanceof ShapeImpl);
        element = { shape: open.has(target) ? target.name : target.#describe(open), ...(lazy ? { lazy } : {}) };
      }
      fields[f.name] = f.array ? [element, f.length] : element;
    }
    open.delete(this);
    return { name: this.name, fields };
  }
}

function countKeys(object: object): number {
  let n = 0;
  // eslint-disable-next-line guard-for-in
  for (const _ in object) n++;
  return n;
}

// ---- declaring -------------------------------------------------------------------------------------------------------

function parseField(context: Context, shapeName: string, name: string, spec: unknown, self: () => ShapeImpl): Field {
  const what = `shape ${shapeName}, field '${name}'`;
  if (!FIELD_NAME.test(name) || RESERVED.has(name)) {
    throw shapeError(`shape ${shapeName}`, `'${name}' cannot be a field name (${RESERVED.has(name) ? 'accessors have a method of that name' : 'letters, digits and _ only, not starting with a digit'})`);
  }
  let element = spec;
  let length = 1;
  let array = false;
  if (Array.isArray(spec)) {
    if (spec.length !== 2 || !Number.isInteger(spec[1]) || spec[1] < 1) throw shapeError(what, `an array field is [type, length] with an integer length of at least 1, not ${JSON.stringify(spec)}`);
    [element, length] = spec as [unknown, number];
    array = true;
  }
  const base = { name, length, array, offset: -1, slot: -1, what: `${shapeName}.${name}`, resolved: null };
  if (typeof element === 'string' && NUMERIC.has(element)) {
    const kind = element as NumericType;
    return { ...base, kind, target: null, size: SIZE[kind], typeName: kind, signature: array ? `${kind}[${length}]` : kind };
  }
  const sig = (s: string) => (array ? `${s}[${length}]` : s);
  if (element === 'string' || element === 'ref') {
    return { ...base, kind: element, target: null, size: 4, typeName: element, signature: sig(element) };
  }
  if (element === 'self') {
    return { ...base, kind: 'shape', get target() { return self(); }, size: 4, typeName: shapeName, signature: sig('@self') } as Field;
  }
  if (element instanceof ShapeImpl) {
    if (element.context !== context) throw shapeError(what, `shape ${element.name} was declared on another heap (or in another thread): declare it here, or send Shape.describe()`);
    return { ...base, kind: 'shape', target: element, size: 4, typeName: element.name, signature: sig(`@${element.name}#${hex(element.id)}`) };
  }
  if (typeof element === 'function') {
    return { ...base, kind: 'shape', target: element as () => unknown, size: 4, typeName: 'lazy', signature: sig('@lazy') };
  }
  throw shapeError(what, `${describeValue(element)} is not a field type (${[...NUMERIC].join(', ')}, 'string', 'ref', 'self', a shape, () => shape, or [type, length])`);
}

function isDescription(value: unknown): value is ShapeDescription {
  return typeof value === 'object' && value !== null && typeof (value as ShapeDescription).name === 'string' && typeof (value as ShapeDescription).fields === 'object';
}

/** Turns a description's fields back into declaration fields, declaring the shapes it names on the way. */
function fromDescription(heap: HeapCore, context: Context, description: ShapeDescription): ShapeFields {
  const fields: Record<string, FieldType> = {};
  const element = (e: DescribedElement): ElementType => {
    if (typeof e === 'string') return e;
    if (typeof e !== 'object' || e === null || !('shape' in e)) throw shapeError(`shape ${description.name}`, `bad description element ${describeValue(e)}`);
    const byName = (name: string) => () => {
      const known = context.byName.get(name);
      if (known === undefined || known.length === 0) throw shapeError(`shape ${description.name}`, `no shape ${name} is declared in this thread`);
      return known[known.length - 1];
    };
    if (typeof e.shape === 'string') return byName(e.shape) as () => AnyShape;
    const target = declareShape(heap, e.shape);
    return e.lazy ? () => target : target;
  };
  for (const [name, spec] of Object.entries(description.fields)) {
    fields[name] = Array.isArray(spec) ? [element(spec[0]), spec[1]] : element(spec as DescribedElement);
  }
  return fields;
}

/**
 * heap.shape(name, fields) or heap.shape(description). Declaring the same shape again in a thread gives the same
 * Shape object.
 */
export function declareShape<F extends ShapeFields>(heap: HeapCore, nameOrDescription: string | ShapeDescription<F>, fieldsArgument?: F): Shape<F> {
  const context = contextOf(heap);
  context.open('shape');
  let name: string;
  let fields: ShapeFields;
  if (typeof nameOrDescription === 'string') {
    name = nameOrDescription;
    if (typeof fieldsArgument !== 'object' || fieldsArgument === null) throw shapeError(`shape ${name}`, `the fields must be an object of name: type, not ${describeValue(fieldsArgument)}`);
    fields = fieldsArgument;
  } else if (isDescription(nameOrDescription)) {
    name = nameOrDescription.name;
    fields = fromDescription(heap, context, nameOrDescription);
  } else {
    throw new BrcError('EINVAL', `shape: give a name and fields, or a description from Shape.describe(), not ${describeValue(nameOrDescription)}`);
  }
  if (!FIELD_NAME.test(name)) throw new BrcError('EINVAL', `shape: '${name}' cannot be a shape name (letters, digits and _ only, not starting with a digit)`);
  let impl: ShapeImpl | undefined;
  const parsed = Object.entries(fields).map(([field, spec]) => parseField(context, name, field, spec, () => impl!));
  const shape = new ShapeImpl(context, name, parsed);
  shape.id = shape.computeId();
  const existing = context.shapes.get(shape.id);
  if (existing !== undefined) {
    if (existing.name === name && existing instanceof ShapeImpl) return existing as unknown as Shape<F>;
    throw new BrcError('EINVAL', `shape ${name}: its id 0x${hex(shape.id)} is the id of shape ${existing.name} (a hash collision): rename one of them`);
  }
  impl = shape;
  context.shapes.set(shape.id, shape);
  const sameName = context.byName.get(name) ?? [];
  sameName.push(shape);
  context.byName.set(name, sameName);
  return shape as unknown as Shape<F>;
}
