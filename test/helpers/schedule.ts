// Deterministic interleavings through the core's schedule points (assembly/schedule.ts, debug build).
//
// A test makes a heap (the main thread is attached, and only inspects: it must never park), starts actors (worker
// threads running test/workers/actor.mjs, one raw ABI call per message), arms an actor at a named point, starts a
// call that parks there, lets other actors run chosen calls, looks at the heap, then resumes the parked one.
// Waiting counts events, not time: every wait is for a word in memory or a reply; the deadline (BIASRC_SCHEDULE_MS,
// 20 s) only turns a hang (a broken build) into a failure with a diagnosis.
import { Worker } from 'node:worker_threads';
import { LAYOUT, errorName } from '../../dist/index.js';
import { freshHeap, stat, verify, type TestHeap } from './core.js';

const L = LAYOUT as unknown as Record<string, number>;
export const DEADLINE_MS = Number(process.env.BIASRC_SCHEDULE_MS ?? 20_000);
const actorUrl = new URL('../workers/actor.mjs', import.meta.url);

/** The point's number, by its name in assembly/schedule.ts ('SP_MERGE_PUBLISHED'). */
export function point(name: string): number {
  const value = L[name];
  if (value === undefined) throw new Error(`no schedule point ${name}`);
  return value;
}

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

/** A call in flight on an actor. */
export interface Run {
  what: string;
  done: Promise<number>;
  settled: boolean;
  result?: number;
  error?: string;
}

export class Actor {
  readonly tid: number;
  readonly name: string;
  #nextId = 0;
  #pending = new Map<number, (reply: { result?: number; error?: string }) => void>();

  constructor(private readonly s: Schedule, readonly worker: Worker, tid: number, name: string, readonly sleeping: Int32Array) {
    this.tid = tid;
    this.name = name;
    worker.on('message', (m: { id?: number; result?: number; error?: string }) => {
      if (m.id === undefined) return;
      const resolve = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      resolve?.(m);
    });
  }

  /** Starts a raw call (`brc_` may be left out) without waiting for it. */
  start(name: string, ...args: number[]): Run {
    const fn = name.startsWith('brc_') ? name : `brc_${name}`;
    const id = this.#nextId++;
    const run: Run = { what: `${this.name}.${fn}(${args.join(', ')})`, settled: false, done: undefined as never };
    run.done = new Promise<number>((resolve, reject) => {
      this.#pending.set(id, (reply) => {
        run.settled = true;
        if (reply.error !== undefined) { run.error = reply.error; reject(new Error(`${this.name}: ${reply.error}`)); }
        else { run.result = reply.result; resolve(reply.result!); }
      });
    });
    run.done.catch(() => {}); // reported where it is awaited
    this.worker.postMessage({ id, name: fn, args });
    return run;
  }

  /** A raw call, waited for: it must not park. */
  async call(name: string, ...args: number[]): Promise<number> {
    const run = this.start(name, ...args);
    await this.s.until(() => run.settled, `${run.what} to return`);
    return run.done;
  }

  #entry(): number {
    return (this.s.table + L.SCHEDULE_ENTRIES + this.tid * L.SCHEDULE_ENTRY_SIZE) >> 2;
  }

  /** Parks this thread the next time it passes `point` (with `obj`, unless 0), after letting `skip` such passes go. */
  arm(pointName: string, obj = 0, skip = 0): void {
    const i = this.#entry(), m = this.s.i32();
    Atomics.store(m, i + L.SE_OBJECT / 4, obj);
    Atomics.store(m, i + L.SE_SKIP / 4, skip);
    Atomics.store(m, i + L.SE_ARM / 4, point(pointName));
  }

  /** The point this thread is parked at, or 0. */
  parkedAt(): number {
    return Atomics.load(this.s.i32(), this.#entry() + L.SE_PARKED / 4);
  }

  /** Waits until this thread is parked at `point`; fails if `run` returns first (the point was never reached). */
  async until(pointName: string, run: Run): Promise<void> {
    const p = point(pointName);
    await this.s.until(() => {
      if (this.parkedAt() === p) return true;
      if (run.settled) throw new Error(`${run.what} ${run.error ? `failed (${run.error})` : `returned ${run.result}`} without parking at ${pointName}`);
      return false;
    }, `${this.name} to park at ${pointName}`);
  }

  /** Lets the parked thread go on. */
  resume(): void {
    const i = this.#entry() + L.SE_PARKED / 4, m = this.s.i32();
    if (Atomics.load(m, i) === 0) throw new Error(`${this.name} is not parked`);
    Atomics.store(m, i, 0);
    Atomics.notify(m, i);
  }

  /** Waits until this thread sleeps in the host's wait on `address`. */
  async sleepsOn(address: number, run: Run): Promise<void> {
    await this.s.until(() => {
      if (run.settled) throw new Error(`${run.what} returned without sleeping on 0x${address.toString(16)}`);
      return Atomics.load(this.sleeping, 0) === address;
    }, `${this.name} to sleep on 0x${address.toString(16)}`);
  }
}

export class Schedule {
  readonly actors: Actor[] = [];
  readonly table: number;
  readonly blocksAtStart: number;

  private constructor(readonly heap: TestHeap) {
    const x = heap.core.exports;
    const size = L.SCHEDULE_ENTRIES + (64 + 1) * L.SCHEDULE_ENTRY_SIZE;
    this.table = x.brc_malloc(size) >>> 0;
    new Uint8Array(heap.memory.buffer, this.table, size).fill(0);
    this.blocksAtStart = stat(heap.core, 'STAT_LIVE_BLOCKS');
  }

  static async create(): Promise<Schedule> {
    return new Schedule(await freshHeap({ debug: true, maxThreads: 64 }));
  }

  get x() { return this.heap.core.exports; }
  get tid() { return this.heap.tid; }

  i32(): Int32Array {
    return new Int32Array(this.heap.memory.buffer); // re-fetched: the memory may have grown
  }

  word(address: number): number {
    return Atomics.load(this.i32(), address >>> 2);
  }

  /** A new actor thread, attached, its instance told where the table is. */
  async actor(name = `T${this.actors.length + 1}`): Promise<Actor> {
    const sleeping = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(actorUrl, {
      workerData: { module: this.heap.module, memory: this.heap.memory, table: this.table, seed: this.actors.length + 1, sleeping },
    });
    const tid = await new Promise<number>((resolve, reject) => {
      worker.once('message', (m: { ready?: boolean; tid: number }) => resolve(m.tid));
      worker.once('error', reject);
    });
    const a = new Actor(this, worker, tid, name, sleeping);
    this.actors.push(a);
    return a;
  }

  async actors3(): Promise<[Actor, Actor, Actor]> {
    return [await this.actor('A'), await this.actor('B'), await this.actor('C')];
  }

  /** The result of a call, once it returns (within the deadline: a call that never returns fails the test). */
  async done(run: Run): Promise<number> {
    await this.until(() => run.settled, `${run.what} to return`);
    return run.done;
  }

  /** The head of `tid`'s merge queue, now. */
  queueWord(tid: number): number {
    return this.word(this.x.brc_queue_address(tid));
  }

  record(tid: number): number {
    return this.word(256 + L.G_RECORDS) + tid * L.RECORD_SIZE;
  }

  state(tid: number): number {
    return this.x.brc_thread_state(tid);
  }

  /** Polls `cond` (which may throw) until true; fails with every actor's state after the deadline. */
  async until(cond: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + DEADLINE_MS;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`schedule: still waiting for ${what} after ${DEADLINE_MS} ms; ${this.describe()}`);
      await tick();
    }
  }

  describe(): string {
    return this.actors.map((a) => `${a.name} (tid ${a.tid}): parked at ${a.parkedAt()}, state ${this.state(a.tid)}, ` +
      `queue 0x${(this.queueWord(a.tid) >>> 0).toString(16)}, sleeping on 0x${(Atomics.load(a.sleeping, 0) >>> 0).toString(16)}`).join('; ');
  }

  /** Detaches every actor, checks the heap is back to `liveObjects` and verifies it, and ends the threads. */
  async finish(liveObjects = 0): Promise<{ liveObjects: number; liveBlocks: number; verify: string }> {
    for (const a of this.actors) {
      const rc = await a.call('thread_detach');
      if (rc !== 0) throw new Error(`${a.name}: detach returned ${errorName(rc)}`);
    }
    const result = {
      liveObjects: stat(this.heap.core, 'STAT_LIVE_OBJECTS'),
      liveBlocks: stat(this.heap.core, 'STAT_LIVE_BLOCKS') - this.blocksAtStart - liveObjects,
      verify: verify(this.heap.core),
    };
    await this.close();
    return result;
  }

  async close(): Promise<void> {
    await Promise.all(this.actors.map((a) => a.worker.terminate()));
    this.actors.length = 0;
  }
}

/** Runs `body` with a fresh schedule, and always ends its threads (a failed test leaves nothing running). */
export async function withSchedule(body: (s: Schedule) => Promise<void>): Promise<void> {
  const s = await Schedule.create();
  try {
    await body(s);
  } finally {
    await s.close();
  }
}
