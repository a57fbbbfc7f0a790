// Every failure is a BrcError (issue 11.7): random calls of the public API with random arguments, wrong types
// included; whatever a call throws (or a promise it returns rejects with) must be a BrcError with a known code and a
// message that names the call. Seeded: BIASRC_SEED=<n> replays a run.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Heap, BrcError, type Handle } from 'biasrc';

const seed = Number(process.env.BIASRC_SEED ?? 20261130);
const CODES = ['EINVAL', 'EFREED', 'ENOMEM', 'ETHREADS', 'EINIT', 'ELAYOUT', 'ENOTATTACHED', 'EATTACHED', 'ENOTLOCKED',
  'EBUSY', 'ELOCKS', 'EDEADLK', 'ETIMEDOUT', 'ECLOSED', 'ENOTSHARED', 'ELOAD', 'ENESTED', 'EINVARIANT'];

interface World {
  heap: Heap;
  handles: Handle[];
}

/** A value for any parameter: a live or stale handle, a near miss, a number of any kind, or any other type. */
const value = (pool: fc.Arbitrary<number>): fc.Arbitrary<unknown> => fc.oneof(
  { weight: 4, arbitrary: pool },
  { weight: 1, arbitrary: pool.map((h) => h + 16) },
  { weight: 1, arbitrary: pool.map((h) => h >>> 0) },
  { weight: 2, arbitrary: fc.integer({ min: -5, max: 200 }) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, -0, 2 ** 31, 2 ** 32, 2 ** 32 + 16, 2 ** 53, Number.MAX_VALUE) },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
  { weight: 1, arbitrary: fc.constantFrom(undefined, null, true, false, 16n, Symbol('s'), [], {}, [64], { valueOf: () => 64 }) },
  { weight: 1, arbitrary: fc.constantFrom(() => 1, async () => 2, () => Promise.resolve(3), function named() { return 4; }) },
  { weight: 1, arbitrary: fc.object({ maxDepth: 1 }) },
);

type Call = { name: string; args: unknown[] };

/** The public API, each method with the arguments it takes (any of them may be wrong). */
const call = (pool: fc.Arbitrary<number>): fc.Arbitrary<Call> => {
  const v = value(pool);
  const options = fc.oneof(v, fc.record({ exact: v, timeoutMs: v }, { requiredKeys: [] }));
  const methods: [string, fc.Arbitrary<unknown[]>][] = [
    ['alloc', fc.tuple(v, v)], ['alloc', fc.tuple(v)], ['incref', fc.tuple(v)], ['decref', fc.tuple(v)],
    ['setRef', fc.tuple(v, v, v)], ['getRef', fc.tuple(v, v)], ['loadRef', fc.tuple(v, v)], ['bytes', fc.tuple(v)],
    ['view', fc.tuple(v)], ['lock', fc.tuple(v)], ['tryLock', fc.tuple(v)], ['unlock', fc.tuple(v)],
    ['withLock', fc.tuple(v, v)], ['withLockAsync', fc.tuple(v, v)], ['weak', fc.tuple(v)], ['upgrade', fc.tuple(v)],
    ['immortalize', fc.tuple(v)], ['info', fc.tuple(v)], ['ref', fc.tuple(v)], ['collect', fc.tuple()],
    ['collectCycles', fc.tuple(options)], ['stats', fc.tuple(options)], ['verify', fc.tuple()],
    ['spawn', fc.tuple(fc.oneof(v, fc.constantFrom('x', '', 'nope.mjs', 'data:,', () => 5, () => ({}))), fc.oneof(v, fc.record({ timeoutMs: v, workerData: v }, { requiredKeys: [] })))],
  ];
  return fc.oneof(...methods.map(([name, args]) => args.map((a) => ({ name, args: a }))));
};

/** Runs one call: undefined if it succeeded, else what it threw or its promise rejected with. */
async function attempt(world: World, c: Call): Promise<{ thrown: unknown } | undefined> {
  try {
    const result = (world.heap as unknown as Record<string, (...a: unknown[]) => unknown>)[c.name](...c.args);
    if (result instanceof Promise) await result;
    return undefined;
  } catch (thrown) {
    return { thrown };
  }
}

function describeCall(c: Call): string {
  const show = (a: unknown) => {
    const text = typeof a === 'symbol' ? String(a) : typeof a === 'bigint' ? `${a}n` : typeof a === 'function' ? `[function ${a.name}]` : JSON.stringify(a) ?? String(a);
    return text.length > 40 ? `${text.slice(0, 37)}...` : text;
  };
  return `${c.name}(${c.args.map(show).join(', ')})`;
}

/** What kind of problem, to keep one example of each: the call, the class thrown and its message without values. */
function kind(c: Call, thrown: unknown): string {
  const message = String((thrown as Error)?.message ?? thrown).replace(/0x[0-9a-f]+|-?\d[\d.e+-]*|"[^"]*"|\[object \w+\]/g, '_');
  return `${c.name} ${(thrown as Error)?.constructor?.name} ${message.slice(0, 40)}`;
}

/** The problems with what a call threw: not a BrcError, no known code, or a message that does not name the call. */
function problems(c: Call, thrown: unknown): string[] {
  const what = describeCall(c);
  if (!(thrown instanceof BrcError)) return [`${what} threw ${Object.prototype.toString.call(thrown)} ${String((thrown as Error)?.message ?? thrown)}`];
  const out: string[] = [];
  if (!CODES.includes(thrown.code)) out.push(`${what}: unknown code ${String(thrown.code)}`);
  if (!thrown.message.startsWith(c.name)) out.push(`${what}: the message does not name the call: "${thrown.message}"`);
  return out;
}

describe('issue 11.7: every failure of the public API is a BrcError', () => {
  /** A fresh heap with the same few objects every time (so the same handles): two live, one freed, a weak one. */
  async function world() {
    const heap = await Heap.create({ debug: true, memory: { initialMiB: 1, maximumMiB: 16 } });
    const a = heap.alloc(16, 2), b = heap.alloc(8, 1), freed = heap.alloc(0);
    heap.decref(freed);
    return { heap, handles: [a, b, freed, heap.weak(b)] };
  }

  it('random calls with random arguments (fast-check, seeded): every error is a BrcError with a code, naming the call', async () => {
    const probe = await world();
    await probe.heap.close();
    const found = new Map<string, string>(); // one example per kind of problem
    await fc.assert(fc.asyncProperty(fc.array(call(fc.constantFrom(...probe.handles)), { minLength: 1, maxLength: 12 }), async (calls) => {
      const { heap, handles } = await world();
      expect(handles).toEqual(probe.handles);
      try {
        for (const c of calls) {
          const outcome = await attempt({ heap, handles }, c);
          if (outcome) for (const p of problems(c, outcome.thrown)) found.set(kind(c, outcome.thrown), p);
          if (c.name === 'spawn' && outcome === undefined) throw new Error(`${describeCall(c)} spawned a worker`);
        }
        heap.verify();
      } finally {
        await heap.close();
      }
    }), { numRuns: 300, seed });
    expect([...found.values()]).toEqual([]);
  }, 120_000);

  it('the kinds of failure the property found once (each was a TypeError), one by one', async () => {
    const heap = await Heap.create({ debug: true, memory: { initialMiB: 1, maximumMiB: 16 } });
    const a = heap.alloc(8, 1);
    const expectBrc = async (name: string, fn: () => unknown, code = 'EINVAL') => {
      const thrown = await (async () => fn())().then(() => undefined, (e: unknown) => e);
      expect(thrown, name).toBeInstanceOf(BrcError);
      expect((thrown as BrcError).code, name).toBe(code);
      expect((thrown as BrcError).message, name).toMatch(new RegExp(`^${name}[(:]`));
    };
    const byHandle: [string, (h: unknown) => unknown][] = [
      ['incref', (h) => heap.incref(h as Handle)], ['decref', (h) => heap.decref(h as Handle)], ['getRef', (h) => heap.getRef(h as Handle, 0)],
      ['loadRef', (h) => heap.loadRef(h as Handle, 0)], ['setRef', (h) => heap.setRef(h as Handle, 0, 0)], ['bytes', (h) => heap.bytes(h as Handle)],
      ['view', (h) => heap.view(h as Handle)], ['lock', (h) => heap.lock(h as Handle)], ['tryLock', (h) => heap.tryLock(h as Handle)],
      ['unlock', (h) => heap.unlock(h as Handle)], ['withLock', (h) => heap.withLock(h as Handle, () => 0)],
      ['withLockAsync', (h) => heap.withLockAsync(h as Handle, () => 0)], ['weak', (h) => heap.weak(h as Handle)],
      ['immortalize', (h) => heap.immortalize(h as Handle)], ['info', (h) => heap.info(h as Handle)], ['ref', (h) => heap.ref(h as Handle)],
    ];
    for (const bad of [BigInt(a >>> 0), Symbol('h'), { valueOf: () => a }, [a]]) {
      for (const [name, fn] of byHandle) await expectBrc(name, () => fn(bad));
    }
    await expectBrc('setRef', () => heap.setRef(a, 0, BigInt(a >>> 0) as unknown as Handle));
    await expectBrc('withLock', () => heap.withLock(a, 5 as unknown as () => number));
    await expectBrc('withLockAsync', () => heap.withLockAsync(a, 'x' as unknown as () => number));
    expect(heap.info(a).locked).toBe(false);
    await expectBrc('spawn', () => heap.spawn(new URL('./fixtures/lifecycle/worker.mjs', import.meta.url), null as never));
    await expectBrc('spawn', () => heap.spawn('nope.mjs'));
    expect(heap.stats().threads).toBe(1);
    heap.decref(a);
    expect(heap.stats({ exact: true }).liveObjects).toBe(0);
    heap.verify();
    await heap.close();
  });

  it('Heap.create with random options: a heap or a BrcError', async () => {
    const found: string[] = [];
    const v = value(fc.constant(1));
    const options = fc.oneof(v, fc.record({
      maxThreads: v, debug: v, checked: v, shared: v, wasm: v, cycles: fc.oneof(v, fc.record({ threshold: v, timeoutMs: v }, { requiredKeys: [] })),
      memory: fc.oneof(v, fc.record({ initialMiB: fc.oneof(v, fc.constantFrom(1, 2, 16)), maximumMiB: fc.oneof(v, fc.constantFrom(8, 16, 32)) }, { requiredKeys: [] })),
    }, { requiredKeys: [] }));
    await fc.assert(fc.asyncProperty(options, async (o) => {
      try {
        const heap = await Heap.create(o as never);
        await heap.close();
      } catch (thrown) {
        if (!(thrown instanceof BrcError)) found.push(`Heap.create(${JSON.stringify(o, (_, x) => (typeof x === 'bigint' || typeof x === 'symbol' || typeof x === 'function' ? String(x) : x))}) threw ${String((thrown as Error)?.message ?? thrown)}`);
        else if (!thrown.message.startsWith('Heap.create')) found.push(`Heap.create: the message does not name the call: "${thrown.message}"`);
      }
    }), { numRuns: 150, seed });
    expect(found.slice(0, 10)).toEqual([]);
  }, 120_000);
});
