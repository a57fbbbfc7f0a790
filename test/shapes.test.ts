// Shapes and strings (src/shape.ts, src/strings.ts), through the package's entry points only. Every test ends with
// live objects back to zero and verify() clean. The types are checked too: `npx tsc -p tsconfig.test.json`.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { execFile } from 'node:child_process';
import { BrcError, Heap, type Handle, type HeapThread, type ShapeHandle, type ShapeObject, type Shape } from 'biasrc';
import { heapsClosedAfterEach } from './helpers/heaps.js';

const workerUrl = new URL('./fixtures/shapes-worker.mjs', import.meta.url);
const heapFor = heapsClosedAfterEach({ memory: { initialMiB: 1, maximumMiB: 256 } });

function clean(heap: Heap) {
  expect(heap.stats({ exact: true }).liveObjects).toBe(0);
  heap.verify();
}

/** The BrcError `fn` throws; its code and that its message matches every pattern. */
function expectError(fn: () => unknown, code: string, ...parts: RegExp[]): BrcError {
  let caught: unknown;
  try { fn(); } catch (error) { caught = error; }
  expect(caught, 'expected a BrcError').toBeInstanceOf(BrcError);
  const error = caught as BrcError;
  expect(error.code).toBe(code);
  for (const part of parts) expect(error.message).toMatch(part);
  return error;
}

const LIMITS = {
  i8: [-128, 127, 0, -1], u8: [0, 255, 1], i16: [-32768, 32767, -1], u16: [0, 65535],
  i32: [-2147483648, 2147483647, -1], u32: [0, 4294967295, 2147483648],
  f32: [3.4028234663852886e38, -3.4028234663852886e38, 1.401298464324817e-45, -0, Infinity, -Infinity, NaN, 0.5],
  f64: [Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, -0, Infinity, -Infinity, NaN, 0.1],
  i64: [-(2n ** 63n), 2n ** 63n - 1n, -1n, 0n], u64: [0n, 2n ** 64n - 1n, 2n ** 63n],
  bool: [true, false],
} as const;

const BAD = {
  i8: [-129, 128, 1.5, '1', null, 1n], u8: [-1, 256, 0.5, true], i16: [-32769, 32768, NaN], u16: [-1, 65536, Infinity],
  i32: [-2147483649, 2147483648, 2.5, '0'], u32: [-1, 4294967296, 1e-9, undefined],
  f32: [1e39, -1e39, '1', 1n], f64: ['1', 1n, null, {}],
  i64: [2n ** 63n, -(2n ** 63n) - 1n, 1, '1'], u64: [-1n, 2n ** 64n, 1],
  bool: [0, 1, 'true', null],
} as const;

type Kind = keyof typeof LIMITS;
const KINDS = Object.keys(LIMITS) as Kind[];

describe('numeric fields', () => {
  it('every type round-trips at its limits, as a field and in an array', async () => {
    const heap = await heapFor();
    const fields: Record<string, unknown> = {};
    for (const k of KINDS) {
      fields[k] = k;
      fields[`${k}s`] = [k, LIMITS[k].length];
    }
    const All = heap.shape('All', fields as Record<string, 'f64'>);
    const o = All.at(All.create()) as unknown as Record<string, any>;
    for (const k of KINDS) {
      for (const v of LIMITS[k]) {
        o[k] = v;
        const back = o[k];
        if (k === 'f32' && typeof v === 'number') expect(Object.is(back, Math.fround(v))).toBe(true);
        else expect(Object.is(back, v), `${k} ${String(v)} read back ${String(back)}`).toBe(true);
      }
      LIMITS[k].forEach((v, i) => o[`${k}s`].set(i, v));
      const expected = LIMITS[k].map((v) => (k === 'f32' && typeof v === 'number' ? Math.fround(v) : v));
      expect(o[`${k}s`].toArray()).toEqual(expected);
    }
    // zero before anything is written, and writes land where offsetOf says (read back through a DataView)
    const fresh = All.at(All.create()) as unknown as Record<string, any>;
    for (const k of KINDS) expect(fresh[k]).toBe(k === 'bool' ? false : k === 'i64' || k === 'u64' ? 0n : 0);
    fresh.f64 = 1.25;
    fresh.i64 = -3n;
    fresh.u16 = 65535;
    const view = heap.view(fresh.handle);
    expect(view.getFloat64(All.offsetOf('f64' as never), true)).toBe(1.25);
    expect(view.getBigInt64(All.offsetOf('i64' as never), true)).toBe(-3n);
    expect(view.getUint16(All.offsetOf('u16' as never), true)).toBe(65535);
    heap.decref(o.handle);
    heap.decref(fresh.handle);
    clean(heap);
  });

  it('a value out of range or of the wrong type is a BrcError naming shape and field; nothing is written', async () => {
    const heap = await heapFor();
    const fields: Record<string, unknown> = {};
    for (const k of KINDS) {
      fields[k] = k;
      fields[`${k}s`] = [k, 2];
    }
    const Bad = heap.shape('Bad', fields as Record<string, 'f64'>);
    const o = Bad.at(Bad.create()) as unknown as Record<string, any>;
    for (const k of KINDS) {
      o[k] = LIMITS[k][1];
      o[`${k}s`].set(1, LIMITS[k][1]);
      for (const v of BAD[k]) {
        expectError(() => { o[k] = v; }, 'EINVAL', new RegExp(`^Bad\\.${k}: .* is not a valid ${k} \\(`), /nothing was written/);
        expect(Object.is(o[k], k === 'f32' ? Math.fround(LIMITS[k][1] as number) : LIMITS[k][1])).toBe(true);
        expectError(() => o[`${k}s`].set(1, v), 'EINVAL', new RegExp(`^Bad\\.${k}s\\[1\\]: `));
        expect(o[`${k}s`].get(1)).toEqual(k === 'f32' ? Math.fround(LIMITS[k][1] as number) : LIMITS[k][1]);
      }
      for (const i of [-1, 2, 1.5, '0', NaN]) {
        expectError(() => o[`${k}s`].set(i, LIMITS[k][0]), 'EINVAL', new RegExp(`^Bad\\.${k}s: index .* out of range \\(the array has 2 elements\\)`));
        expectError(() => o[`${k}s`].get(i), 'EINVAL', new RegExp(`^Bad\\.${k}s: index`));
      }
    }
    heap.decref(o.handle);
    clean(heap);
  });

  it('alignment: every field of every shape sits at a multiple of its size, apart, in the payload', async () => {
    const heap = await heapFor();
    const SIZE: Record<Kind, number> = { i8: 1, u8: 1, bool: 1, i16: 2, u16: 2, i32: 4, u32: 4, f32: 4, i64: 8, u64: 8, f64: 8 };
    let seed = 12345;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    for (let s = 0; s < 200; s++) {
      const fields: Record<string, unknown> = {};
      const count = 1 + random(9);
      for (let i = 0; i < count; i++) {
        const k = KINDS[random(KINDS.length)];
        fields[`f${i}`] = random(4) === 0 ? [k, 1 + random(5)] : k;
      }
      const refs = random(6); // 0..5 slots: the payload must be 8-aligned after any number of them
      for (let i = 0; i < refs; i++) fields[`r${i}`] = 'ref';
      const S = heap.shape(`S${s}`, fields as Record<string, 'f64'>);
      expect(S.slots).toBe(refs);
      const used = new Array<boolean>(S.bytes).fill(false);
      for (let i = 0; i < 4; i++) used[i] = true; // the id
      for (const f of S.fields) {
        if (f.offset === undefined) continue;
        const size = SIZE[f.type as Kind];
        expect(f.offset % size, `${S.name}.${f.name} (${f.type}) at ${f.offset}`).toBe(0);
        for (let b = f.offset; b < f.offset + size * f.length; b++) {
          expect(used[b], `${S.name}: byte ${b} used twice`).toBe(false);
          used[b] = true;
        }
      }
      const h = S.create();
      const view = heap.view(h);
      expect(view.byteOffset % 8).toBe(0);
      expect(view.byteLength).toBeGreaterThanOrEqual(S.bytes);
      // every field writable and readable at its place (a pattern through the accessor, read by hand)
      const o = S.at(h) as unknown as Record<string, any>;
      for (const f of S.fields) {
        if (f.offset === undefined || f.type !== 'u8') continue;
        if (!f.array) o[f.name] = 200; else o[f.name].set(f.length - 1, 200);
        expect(view.getUint8(f.offset + f.length - 1)).toBe(200);
      }
      heap.decref(h);
    }
    clean(heap);
  });

  it('the layout fills the id word first: { a: u32, b: f64 } takes 16 bytes, { x: f64 } 16, { c: u8 } 5', async () => {
    const heap = await heapFor();
    const A = heap.shape('A', { b: 'f64', a: 'u32' });
    expect([A.bytes, A.offsetOf('a'), A.offsetOf('b')]).toEqual([16, 4, 8]);
    expect(heap.shape('X', { x: 'f64' }).bytes).toBe(16);
    expect(heap.shape('C', { c: 'u8' }).bytes).toBe(5);
    const R = heap.shape('R', { next: 'self', v: 'f64' });
    expect([R.slots, R.slotOf('next'), R.offsetOf('v')]).toEqual([1, 0, 8]);
    clean(heap);
  });
});

describe('strings', () => {
  const classes = {
    empty: '',
    ascii: 'hello, world',
    twoBytes: 'ñéüß',
    threeBytes: '€漢字',
    fourBytes: '😀🎉𝄞',
    mixed: 'a ñ € 😀 z',
    atShortLimit: 'x'.repeat(48),
    pastShortLimit: 'x'.repeat(49),
    multiPastLimit: 'ñ'.repeat(30), // 30 code units, 60 bytes
    long: '漢😀ab'.repeat(25_000),
    control: '\0\u0001\u007f\u0080\u07ff\u0800\uffff',
  };

  it('every UTF-8 length class, empty and long: same bytes as TextEncoder, read back exactly', async () => {
    const heap = await heapFor();
    for (const [name, text] of Object.entries(classes)) {
      const s = heap.string(text);
      expect(heap.readString(s), name).toBe(text);
      const bytes = new TextEncoder().encode(text);
      expect(heap.strings.byteLength(s), name).toBe(bytes.length);
      expect(heap.strings.length(s), name).toBe(text.length);
      expect([...heap.bytes(s).subarray(16, 16 + bytes.length)], name).toEqual([...bytes]);
      expect(heap.strings.hash(s), name).toBe(heap.strings.hashOf(text));
      expect(heap.strings.equals(s, text), name).toBe(true);
      expect(heap.strings.equals(s, `${text}!`), name).toBe(false);
      heap.decref(s);
    }
    clean(heap);
  });

  it('lone surrogates are stored as U+FFFD (as TextEncoder does): reading back gives toWellFormed()', async () => {
    const heap = await heapFor();
    const cases = ['\ud800', '\udc00', 'a\ud800b', 'a\udc00\ud800b', '\ud83d', 'end\ud83d', 'x'.repeat(60) + '\udfff', '\ud83d\ude00\ud83d'];
    for (const text of cases) {
      const s = heap.string(text);
      const wellFormed = (text as string & { toWellFormed(): string }).toWellFormed();
      expect(heap.readString(s)).toBe(wellFormed);
      expect(heap.readString(s).length).toBe(text.length);
      expect([...heap.bytes(s).subarray(16, 16 + heap.strings.byteLength(s))]).toEqual([...new TextEncoder().encode(text)]);
      expect(heap.strings.equals(s, wellFormed)).toBe(true);
      heap.decref(s);
    }
    clean(heap);
  });

  it('compare orders by code point and equals/hash agree, without decoding', async () => {
    const heap = await heapFor();
    const texts = ['', 'a', 'ab', 'b', 'ñ', '\uffff', '😀', '\ue000', 'a😀', 'a\uffff', 'zz', 'x'.repeat(100), 'x'.repeat(100) + 'y'];
    const handles = texts.map((t) => heap.string(t));
    const codePoints = (s: string) => [...s].map((c) => c.codePointAt(0)!);
    const byCodePoint = (x: string, y: string) => {
      const a = codePoints(x), b = codePoints(y);
      for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
      return Math.sign(a.length - b.length);
    };
    for (let i = 0; i < texts.length; i++) {
      for (let j = 0; j < texts.length; j++) {
        expect(heap.strings.compare(handles[i], handles[j]), `${texts[i]} vs ${texts[j]}`).toBe(byCodePoint(texts[i], texts[j]));
        expect(heap.strings.equals(handles[i], handles[j])).toBe(i === j);
      }
    }
    const again = heap.string('a😀');
    expect(heap.strings.equals(again, handles[8])).toBe(true);
    expect(heap.strings.hash(again)).toBe(heap.strings.hash(handles[8]));
    for (const h of [...handles, again]) heap.decref(h);
    clean(heap);
  });

  it('bad input: not a string, not a string object', async () => {
    const heap = await heapFor();
    expectError(() => heap.string(5 as unknown as string), 'EINVAL', /^string: 5 is not a string/);
    const P = heap.shape('P', { x: 'f64' });
    const p = P.create();
    expectError(() => heap.readString(p), 'EINVAL', /^readString: handle 0x[0-9a-f]+ is a P, not a string/);
    const raw = heap.alloc(8);
    expectError(() => heap.strings.hash(raw), 'EINVAL', /is an object made without a shape, not a string/);
    expect(heap.strings.is(p)).toBe(false);
    heap.decref(p);
    heap.decref(raw);
    expectError(() => heap.readString(p), 'EFREED');
    clean(heap);
  });
});

describe('references in shapes', () => {
  it('stores take a reference, the old one is released, loads borrow or take one: exact counts', async () => {
    const heap = await heapFor();
    const Leaf = heap.shape('Leaf', { v: 'i32' });
    const Tree = heap.shape('Tree', { left: 'self', right: 'self', leaf: Leaf, name: 'string', any: 'ref', kids: [Leaf, 3], tags: ['string', 2] });
    const a = Leaf.create({ v: 1 }), b = Leaf.create({ v: 2 });
    const root = Tree.create({ leaf: a, name: 'root', kids: [a, b] });
    const t = Tree.at(root);
    const local = (h: Handle) => heap.info(h).local;
    expect([local(a), local(b)]).toEqual([3, 2]); // ours + leaf + kids[0]; ours + kids[1]
    t.leaf = b; // a loses one, b gains one
    expect([local(a), local(b)]).toEqual([2, 3]);
    t.kids.set(0, 0);
    expect(local(a)).toBe(1);
    t.any = a;
    expect(local(a)).toBe(2);
    expect(t.any).toBe(a); // a borrowed handle, with the same generation tag
    const loaded = t.load('any');
    expect(loaded).toBe(a);
    expect(local(a)).toBe(3);
    heap.decref(loaded);
    expect(t.kids.load(1)).toBe(b);
    heap.decref(b);
    // strings: a JS string makes a string object that the slot holds alone; a string handle is stored as any handle
    expect(t.name).toBe('root');
    const nameHandle = t.ref('name');
    expect(local(nameHandle)).toBe(1);
    t.tags.set(1, 'ñ😀');
    expect(t.tags.toArray()).toEqual([null, 'ñ😀']);
    const s = heap.string('shared');
    t.tags.set(0, s);
    t.store('name', s);
    expect(local(s)).toBe(3);
    expect([t.name, t.tags.get(0)]).toEqual(['shared', 'shared']);
    heap.decref(s);
    // a subtree, followed through typed accessors
    const child = Tree.create({ name: 'child' });
    t.left = child;
    heap.decref(child);
    expect(t.follow('left')!.name).toBe('child');
    expect(t.follow('right')).toBeNull();
    expect(Leaf.at(t.leaf).v).toBe(2);
    expect(t.toObject()).toMatchObject({ name: 'shared', left: child, right: 0, leaf: b, any: a, kids: [0, b, 0], tags: ['shared', 'ñ😀'] });
    heap.decref(a);
    heap.decref(b);
    expect(heap.stats().liveObjects).toBeGreaterThan(0);
    heap.decref(root); // frees the tree, its strings, its leaves
    clean(heap);
  });

  it('cycles through shape fields are collected', async () => {
    const heap = await heapFor();
    const Node = heap.shape('Node', { next: 'self', v: 'u32' });
    const a = Node.create({ v: 1 }), b = Node.create({ v: 2, next: a });
    Node.at(a).next = b;
    heap.decref(a);
    heap.decref(b);
    expect(heap.stats().liveObjects).toBe(2);
    expect(heap.collectCycles()).toBe(2);
    clean(heap);
  });

  it('shapes that reference each other (a lazy target), and a shape sent along as a description', async () => {
    const heap = await heapFor();
    const Person: Shape<{ readonly name: 'string'; readonly pet: () => Shape<any> }> = heap.shape('Person', { name: 'string', pet: () => Pet });
    const Pet = heap.shape('Pet', { name: 'string', owner: Person });
    const p = Person.create({ name: 'Ann' }), d = Pet.create({ name: 'Rex', owner: p });
    Person.at(p).pet = d;
    expectError(() => { Person.at(p).pet = p; }, 'EINVAL', /^Person\.pet: handle 0x[0-9a-f]+ is a Person, not a Pet; nothing was stored/);
    expect(Pet.at(Person.at(p).pet).name).toBe('Rex');
    // the description declares the same shapes again: same ids, the same Shape objects in this thread
    const description = JSON.parse(JSON.stringify(Pet.describe()));
    expect(heap.shape(description)).toBe(Pet);
    Person.at(p).pet = 0;
    heap.decref(d);
    heap.decref(p);
    clean(heap);
  });

  it('bad input is a BrcError naming shape and field, and the object is unchanged', async () => {
    const heap = await heapFor();
    const Point = heap.shape('Point', { x: 'f64', y: 'f64' });
    const Node = heap.shape('Node', { value: 'f64', left: 'self', name: 'string', kids: ['self', 2] });
    const other = heap.shape('Node', { value: 'f32', left: 'self', name: 'string', kids: ['self', 2] }); // declared differently
    const p = Point.create({ x: 1, y: 2 });
    const child = Node.create({ value: 2 });
    const h = Node.create({ value: 1.5, left: child, name: 'n', kids: [child] });
    const n = Node.at(h);
    const before = () => JSON.stringify({ ...n.toObject(), info: heap.info(h), child: heap.info(child), p: heap.info(p) });
    const snapshot = before();
    expectError(() => { (n as any).value = 'one'; }, 'EINVAL', /^Node\.value: the string "one" is not a valid f64/);
    expectError(() => { (n as any).left = 'x'; }, 'EINVAL', /^Node\.left: the string "x" where a reference goes \(a Node handle, or 0\); nothing was stored/);
    expectError(() => n.store('left', 'x' as never), 'EINVAL', /^Node\.store\('left'\): the string "x" where a handle goes/);
    expectError(() => { n.left = p as number; }, 'EINVAL', /^Node\.left: handle 0x[0-9a-f]+ is a Point, not a Node; nothing was stored/);
    expectError(() => n.kids.set(1, p as number), 'EINVAL', /^Node\.kids\[1\]: handle 0x[0-9a-f]+ is a Point, not a Node/);
    expectError(() => n.kids.set(2, child), 'EINVAL', /^Node\.kids: index 2 out of range \(the array has 2 elements\)/);
    expectError(() => { (n as any).name = p; }, 'EINVAL', /^Node\.name: handle 0x[0-9a-f]+ is a Point, not a string/);
    expectError(() => { (n as any).left = 12345; }, 'EINVAL', /^Node\.left: handle 0x3039: invalid argument \(EINVAL\)/);
    expectError(() => { (n as any).left = {}; }, 'EINVAL', /^Node\.left: an object is not a handle/);
    expectError(() => Node.at(p), 'EINVAL', /^Node\.at: handle 0x[0-9a-f]+ is a Point, not a Node \(shape id 0x[0-9a-f]{8}\)/);
    expectError(() => other.at(h), 'EINVAL', /^Node\.at: handle 0x[0-9a-f]+ is a Node of another declaration \(shape id 0x[0-9a-f]{8}\), not a Node \(shape id 0x[0-9a-f]{8}\)/);
    const s = heap.string('s');
    expectError(() => Node.at(s), 'EINVAL', /is a string, not a Node/);
    heap.decref(s);
    expectError(() => Node.create({ valeu: 1 } as never), 'EINVAL', /^Node\.create: Node has no field 'valeu' .*nothing was made/);
    expectError(() => Node.create({ value: 'x' } as never), 'EINVAL', /^Node\.value: /);
    expectError(() => Node.create({ kids: [child, child, child] }), 'EINVAL', /^Node\.kids: an array is not an array of at most 2 elements/);
    expectError(() => Node.at(0), 'EINVAL', /^Node\.at: 0 is not a handle/);
    expect(before()).toBe(snapshot);
    // a handle freed meanwhile
    const gone = Node.create();
    heap.decref(gone);
    expectError(() => Node.at(gone), 'EFREED', /^Node\.at: handle/);
    const stale = Node.at(child);
    heap.decref(h); // frees h; child still held by us
    expect(heap.info(child).local).toBe(1);
    heap.decref(child);
    expectError(() => { stale.left = 0; stale.left = p as number; }, 'EFREED', /^Node\.left: the Node this accessor points at .* was freed/);
    heap.decref(p);
    clean(heap);
  });

  it('declaring: names and reserved words, the same declaration twice, a field type that is none', async () => {
    const heap = await heapFor();
    expectError(() => heap.shape('S', { handle: 'f64' }), 'EINVAL', /'handle' cannot be a field name \(accessors have a method of that name\)/);
    expectError(() => heap.shape('S', { 'a-b': 'f64' }), 'EINVAL', /'a-b' cannot be a field name/);
    expectError(() => heap.shape('S', { a: 'f65' as never }), 'EINVAL', /^shape S, field 'a': the string "f65" is not a field type/);
    expectError(() => heap.shape('S', { a: ['f64', 0] }), 'EINVAL', /an array field is \[type, length\]/);
    expectError(() => heap.shape('1S', { a: 'f64' }), 'EINVAL', /cannot be a shape name/);
    const A = heap.shape('A', { x: 'f64' });
    expect(heap.shape('A', { x: 'f64' })).toBe(A);
    expect(heap.shape('A', { x: 'f32' }).id).not.toBe(A.id);
    expect(heap.shape('B', { x: 'f64' }).id).not.toBe(A.id);
    clean(heap);
  });
});

describe('memory', () => {
  it('accessors stay right when the memory grows (shared) and in the single-thread build (views replaced)', async () => {
    for (const shared of [true, false]) {
      const heap = await heapFor({ shared, memory: { initialMiB: 1, maximumMiB: 256 } });
      const P = heap.shape('P', { x: 'f64', n: 'u32', s: 'string', next: 'self', more: ['self', 2], ss: ['string', 1] });
      const p = P.at(P.create({ x: 1.5, n: 7, s: 'before', ss: ['one'] }));
      const grow = () => {
        const before = heap.memory.buffer.byteLength;
        const big = Array.from({ length: 10 }, () => heap.alloc(1 << 20));
        expect(heap.memory.buffer.byteLength).toBeGreaterThan(before);
        return big;
      };
      // after each growth, the first access is of another kind: a string, a reference store, an array, a number
      const big = grow();
      expect([p.s, p.x, p.n]).toEqual(['before', 1.5, 7]);
      big.push(...grow());
      p.next = p.handle; // a reference store (checks the object is alive first)
      expect(p.next).toBe(p.handle);
      big.push(...grow());
      expect([p.more.get(1), p.ss.get(0)]).toEqual([0, 'one']);
      big.push(...grow());
      p.next = 0;
      p.x = 2.5;
      const q = P.at(P.create({ x: 3, s: 'x'.repeat(100) })); // far up in the grown memory
      expect([p.x, q.x, q.s]).toEqual([2.5, 3, 'x'.repeat(100)]);
      for (const h of [p.handle, q.handle, ...big]) heap.decref(h);
      clean(heap);
    }
  });

  it('unchecked heaps: fields and references work, and the shape id is still checked', async () => {
    const heap = await heapFor({ checked: false, debug: false });
    const A = heap.shape('A', { x: 'f64', next: 'self' });
    const B = heap.shape('B', { y: 'f64' });
    const a = A.create({ x: 1 }), b = B.create({ y: 2 });
    A.at(a).next = A.create({ x: 2 });
    heap.decref(A.at(a).next);
    expect(A.at(A.at(a).next).x).toBe(2);
    expectError(() => A.at(b), 'EINVAL', /is a B, not a A/);
    heap.decref(a);
    heap.decref(b);
    clean(heap);
  });
});

describe('threads', () => {
  function reply<T = any>(thread: HeapThread, message: unknown): Promise<T> {
    return new Promise((resolve, reject) => {
      const onMessage = (m: any) => { if (m?.ready) return; thread.off('message', onMessage); resolve(m); };
      thread.on('message', onMessage);
      thread.on('error', reject);
      thread.postMessage(message);
    });
  }

  it('three workers at once (started on a barrier) update one shaped object under its lock and build lists of shaped objects', async () => {
    const heap = await heapFor({ maxThreads: 8, memory: { initialMiB: 4, maximumMiB: 256 } });
    const Counter = heap.shape('Counter', { hits: 'u32', total: 'f64', big: 'u64', last: 'string' });
    const Item = heap.shape('Item', { worker: 'u8', seq: 'i32', label: 'string', next: 'self' });
    const Board = heap.shape('Board', { lists: [Item, 3], count: 'u32' });
    // workers 0 and 1 declare the shapes themselves; worker 2 gets them sent along
    const descriptions = { Counter: Counter.describe(), Item: Item.describe(), Board: Board.describe() };
    const threads = await Promise.all([0, 1, 2].map((index) => heap.spawn(workerUrl, { workerData: { index, descriptions: index === 2 ? descriptions : undefined } })));
    for (const t of threads) expect((await reply(t, { op: 'ids' })).ids).toEqual([Counter.id, Item.id, Board.id]);

    const counter = Counter.create({ last: 'none' });
    const board = Board.create();
    const iterations = 2000;
    const b = new Int32Array(new SharedArrayBuffer(8));
    const done = await Promise.all(threads.map((t) => reply(t, { op: 'run', counter, board, iterations, barrier: b })));
    expect(done.map((d) => d.tid).sort()).toEqual(threads.map((t) => t.tid).sort());

    const c = Counter.at(counter);
    expect([c.hits, c.total, c.big]).toEqual([3 * iterations, 1.5 * iterations, BigInt(3 * iterations)]);
    expect(c.last).toMatch(/^w[012]:\d+$/);
    const board$ = Board.at(board);
    expect(board$.count).toBe(3);
    const item = Item.at(board$.lists.get(0));
    for (let w = 0; w < 3; w++) {
      let seq = iterations - 1;
      for (let h = board$.lists.get(w); h !== 0; h = item.next, seq--) {
        item.at(h);
        expect([item.worker, item.seq]).toEqual([w, seq]);
        if (seq % 500 === 0) expect(item.label).toBe(`ñ😀${w}.${seq}`);
      }
      expect(seq).toBe(-1);
    }
    const mismatch = await reply(threads[0], { op: 'mismatch', counter });
    expect(mismatch.error.code).toBe('EINVAL');
    expect(mismatch.error.message).toMatch(/^Counter\.at: handle 0x[0-9a-f]+ is a Counter of another declaration \(shape id 0x[0-9a-f]{8}\), not a Counter/);
    for (const t of threads) await t.terminate(); // their objects go to the shared counts
    heap.decref(counter);
    heap.decref(board);
    clean(heap);
  });
});

describe('README: the shapes example', () => {
  it('the example runs and prints what the README says (test/fixtures/readme-shapes/)', async () => {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [new URL('./fixtures/readme-shapes/main.mjs', import.meta.url).pathname], (error, out) => (error ? reject(error) : resolve(out)));
    });
    expect(stdout).toBe('3 workers walked the list: visits 9, sum 18, last three\nobjects still live: 0\n');
  });
});

describe('types', () => {
  it('field types are inferred from the shape', async () => {
    const heap = await heapFor();
    const Point = heap.shape('Point', { x: 'f64', y: 'f64' });
    const Node = heap.shape('Node', {
      value: 'f64', count: 'u32', big: 'i64', ok: 'bool', name: 'string', any: 'ref', left: 'self', at0: Point,
      flags: ['u8', 4], wide: ['u64', 2], kids: ['self', 2], labels: ['string', 2],
    });
    const n = Node.at(Node.create({ at0: Point.create() }));
    heap.decref(n.at0);
    expectTypeOf(n.value).toEqualTypeOf<number>();
    expectTypeOf(n.count).toEqualTypeOf<number>();
    expectTypeOf(n.big).toEqualTypeOf<bigint>();
    expectTypeOf(n.ok).toEqualTypeOf<boolean>();
    expectTypeOf(n.name).toEqualTypeOf<string | null>();
    expectTypeOf(n.any).toEqualTypeOf<Handle>();
    expectTypeOf(n.left).toEqualTypeOf<ShapeHandle<Shape<typeof Node extends Shape<infer F> ? F : never>>>();
    expectTypeOf(n.at0).toEqualTypeOf<ShapeHandle<typeof Point>>();
    expectTypeOf(n.flags.get(0)).toEqualTypeOf<number>();
    expectTypeOf(n.wide.get(0)).toEqualTypeOf<bigint>();
    expectTypeOf(n.labels.get(0)).toEqualTypeOf<string | null>();
    expectTypeOf(Point.at(n.at0)).toEqualTypeOf<ShapeObject<{ readonly x: 'f64'; readonly y: 'f64' }>>();
    expectTypeOf(n.follow('at0')).toEqualTypeOf<ShapeObject<{ readonly x: 'f64'; readonly y: 'f64' }> | null>();
    const compileOnly = () => {
      // @ts-expect-error: a string is not a number
      n.value = 'x' as string;
      // @ts-expect-error: a bigint field takes bigints
      n.big = 1;
      // @ts-expect-error: arrays are not assignable
      n.flags = n.flags;
      // @ts-expect-error: no such field
      Node.create({ valeu: 1 });
    };
    expect(typeof compileOnly).toBe('function');
    heap.decref(n.handle);
    clean(heap);
  });
});

describe('without run-time code generation', () => {
  it("where new Function throws (a Content-Security-Policy without 'unsafe-eval'), closures do the same work", async () => {
    const heap = await heapFor();
    const global = globalThis as { Function: FunctionConstructor };
    const original = global.Function;
    global.Function = function () { throw new EvalError('refused by the page\'s Content-Security-Policy'); } as unknown as FunctionConstructor;
    let Node;
    try {
      Node = heap.shape('CspNode', { value: 'f64', count: 'u8', big: 'i64', name: 'string', next: 'self', flags: ['u16', 2] });
    } finally {
      global.Function = original;
    }
    const n = Node.at(Node.create({ value: 1.5, count: 255, big: -(2n ** 63n), name: 'ñ😀', flags: [65535] }));
    expect(Object.getOwnPropertyNames(Object.getPrototypeOf(n))).not.toContain('$sync'); // the closure class indeed
    expect([n.value, n.count, n.big, n.name, n.flags.toArray()]).toEqual([1.5, 255, -(2n ** 63n), 'ñ😀', [65535, 0]]);
    expectError(() => { n.count = 256; }, 'EINVAL', /^CspNode\.count: 256 is not a valid u8/);
    expectError(() => { n.count = 1n as never; }, 'EINVAL', /^CspNode\.count: 1n is not a valid u8/);
    expect(n.count).toBe(255);
    const next = Node.create({ value: 2 });
    n.next = next;
    heap.decref(next);
    expect(n.follow('next')!.value).toBe(2);
    heap.decref(n.handle);
    clean(heap);
  });
});
