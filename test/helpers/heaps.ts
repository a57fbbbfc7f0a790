// Helpers for the tests of the public API: heaps closed after each test, request/answer exchanges with workers
// (test/fixtures/lifecycle/worker.mjs, and any worker that greets with { ready: true }), BrcError expectations,
// and child processes.
import { afterEach, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { Heap, BrcError, LAYOUT, type HeapOptions, type HeapThread } from 'biasrc';

export const lifecycleWorker = new URL('../fixtures/lifecycle/worker.mjs', import.meta.url);
export const fixture = (name: string) => new URL(`../fixtures/lifecycle/${name}`, import.meta.url);

/**
 * Heap.create for tests (the debug build and a small memory unless `defaults` or the call say otherwise); every
 * heap made is closed after each test.
 */
export function heapsClosedAfterEach(defaults: HeapOptions = {}): (options?: HeapOptions) => Promise<Heap> {
  const heaps: Heap[] = [];
  afterEach(async () => {
    for (const heap of heaps.splice(0)) await heap.close();
  });
  return async (options = {}) => {
    const memory = { initialMiB: 1, maximumMiB: 64, ...defaults.memory, ...options.memory };
    const heap = await Heap.create({ debug: true, ...defaults, ...options, memory });
    heaps.push(heap);
    return heap;
  };
}

/** The first message from `thread` that has the property `key` (posting `message` first, if given). */
export function answer<T = any>(thread: HeapThread, key: string, message?: unknown): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: any) => {
      if (m === null || typeof m !== 'object' || !(key in m)) return;
      thread.off('message', on);
      resolve(m as T);
    };
    thread.on('message', on);
    if (message !== undefined) thread.postMessage(message);
  });
}

/** The next message from `thread` that is not its `{ ready: true }` greeting (or other `noise`), after posting `message`. */
export function reply<T = any>(thread: HeapThread, message: unknown, noise = (m: any) => Boolean(m?.ready)): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (m: any) => {
      if (noise(m)) return;
      thread.off('message', onMessage);
      resolve(m as T);
    };
    thread.on('message', onMessage);
    thread.postMessage(message);
  });
}

/** A worker of `heap`, once it greeted with `{ ready: true }` (its handlers are installed then). */
export async function spawnReady(heap: Heap, url: URL): Promise<HeapThread> {
  const thread = await heap.spawn(url);
  await new Promise<void>((resolve) => {
    const onMessage = (m: any) => {
      if (!m?.ready) return;
      thread.off('message', onMessage);
      resolve();
    };
    thread.on('message', onMessage);
  });
  return thread;
}

/** Runs `fn`, expects a BrcError with `code` (and a message matching `message`); returns it. */
export function expectCode(fn: () => unknown, code: string, message?: RegExp): BrcError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected BrcError ${code}`).toBeInstanceOf(BrcError);
  expect((caught as BrcError).code, (caught as BrcError).message).toBe(code);
  if (message) expect((caught as BrcError).message).toMatch(message);
  return caught as BrcError;
}

export async function expectRejection(promise: Promise<unknown>, code: string, message?: RegExp): Promise<BrcError> {
  const caught = await promise.then(() => undefined, (error: unknown) => error);
  expect(caught, `expected a rejection with BrcError ${code}`).toBeInstanceOf(BrcError);
  expect((caught as BrcError).code, (caught as BrcError).message).toBe(code);
  if (message) expect((caught as BrcError).message).toMatch(message);
  return caught as BrcError;
}

export interface NodeRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node <script> ...args` and collects its output. `hangGuardMs` only keeps a hang of the script from hanging
 * the test run: it kills the child, and the test then fails on its exit (no result depends on how long it took).
 */
export function runNode(script: URL, args: string[] = [], hangGuardMs = 90_000): Promise<NodeRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script.pathname, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const guard = setTimeout(() => child.kill('SIGKILL'), hangGuardMs);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The JSON lines a child script printed. */
export function jsonLines<T = any>(run: NodeRun): T[] {
  return run.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as T);
}

/** The locks thread `tid`'s record lists as held (its lock table: layout offsets, as test/stress/records.mjs reads it). */
export function lockTable(heap: Heap, tid: number): number[] {
  const L = heap.layout;
  const u32 = new Uint32Array(heap.memory.buffer);
  const record = (heap.raw.brc_queue_address(tid) >>> 0) - L.R_QUEUE;
  const held = u32[(record + L.R_LOCKS_HELD) >>> 2];
  return Array.from(u32.subarray((record + L.R_LOCK_TABLE) >>> 2, ((record + L.R_LOCK_TABLE) >>> 2) + held));
}

/** Live objects counted exactly (every queue merged first), and verify() clean: how every test here ends. */
export function expectClean(heap: Heap, liveObjects = 0): void {
  expect(heap.stats({ exact: true }).liveObjects).toBe(liveObjects);
  heap.verify();
}

/**
 * A schedule table (assembly/schedule.ts, debug build) in `heap`'s memory, for holding one worker of the high-level
 * API inside an operation: arm its entry with a point, post it a command that passes the point (the worker calls
 * brc_debug_schedule(table) first), wait until it parks there, let it go.
 */
export function scheduleTable(heap: Heap) {
  const size = LAYOUT.SCHEDULE_ENTRIES + (LAYOUT.DEFAULT_MAX_THREADS + 1) * LAYOUT.SCHEDULE_ENTRY_SIZE;
  const table = heap.raw.brc_malloc(size) >>> 0;
  new Uint8Array(heap.memory.buffer, table, size).fill(0);
  const words = () => new Int32Array(heap.memory.buffer);
  const word = (tid: number, field: number) => (table + LAYOUT.SCHEDULE_ENTRIES + tid * LAYOUT.SCHEDULE_ENTRY_SIZE + field) >>> 2;
  return {
    table,
    arm(tid: number, point: number): void { Atomics.store(words(), word(tid, LAYOUT.SE_ARM), point); },
    async parked(tid: number, point: number): Promise<void> {
      while (Atomics.load(words(), word(tid, LAYOUT.SE_PARKED)) !== point) await new Promise((r) => setTimeout(r, 1));
    },
    release(tid: number): void {
      Atomics.store(words(), word(tid, LAYOUT.SE_PARKED), 0);
      Atomics.notify(words(), word(tid, LAYOUT.SE_PARKED));
    },
    free(): void { heap.raw.brc_free(table); },
  };
}
