/**
 * The per-object mutex, as the public API offers it: lock, tryLock, unlock, withLock and withLockAsync. The mutex
 * itself is two bits of the object's header (assembly/lock.ts); each thread keeps a table of the locks it holds, so
 * that a dead thread's locks are released when it is detached, and so that locking one it already holds is EDEADLK
 * at once instead of a wait that would never end (Rust's Mutex and glibc's error-checking mutexes do the same).
 *
 * Async critical sections (withLockAsync) hold the lock across `await`, so they never block the event loop while
 * waiting: sections of this thread on the same object queue behind each other in JavaScript, and waiting for
 * another thread's hold sleeps in Atomics.waitAsync on the header word (polling with timers where there is none).
 */

import { BrcError, coreError, handleName } from './errors.js';
import { LAYOUT } from './layout.js';
import type { Checker } from './check.js';
import type { HeapViews } from './views.js';
import type { BrcExports } from './generated/abi.js';

const POLL_MS = 1; // where Atomics.waitAsync is missing: how often an async section looks at a busy lock again

export class Locks {
  readonly #raw: BrcExports;
  readonly #check: Checker;
  readonly #views: HeapViews;
  /** Per object address: the tail of this thread's queue of async sections (each resolves when its section ends). */
  readonly #sections = new Map<number, Promise<void>>();
  /** Per object address: a withLock whose function returned a promise holds the lock until this resolves. */
  readonly #promised = new Map<number, Promise<void>>();

  constructor(raw: BrcExports, check: Checker, views: HeapViews) {
    this.#raw = raw;
    this.#check = check;
    this.#views = views;
  }

  /** `what`: the call to name in errors (withLock takes the lock through here). */
  lock(handle: number, what = 'lock'): void {
    const address = this.#check.handle(handle, what);
    const rc = this.#check.trap(what, handle, () => this.#raw.brc_lock(address));
    if (rc !== 0) throw lockError(rc, what, handle);
  }

  tryLock(handle: number): boolean {
    const address = this.#check.handle(handle, 'tryLock');
    const rc = this.#raw.brc_try_lock(address);
    if (rc === 0) return true;
    if (rc === LAYOUT.EBUSY) return false;
    throw lockError(rc, 'tryLock', handle);
  }

  unlock(handle: number): void {
    let address: number;
    try {
      address = this.#check.handle(handle, 'unlock');
    } catch (error) {
      // The object was freed while we held its lock: we released our last reference inside the critical section and
      // another thread's release freed it. Its block waits, locked, for this unlock (docs/ABI.md "Reference rules").
      if (!(error instanceof BrcError) || error.code !== 'EFREED' || this.#raw.brc_holds_lock(handle >>> 0) !== 1) throw error;
      address = handle >>> 0;
    }
    const rc = this.#raw.brc_unlock(address);
    if (rc !== 0) throw lockError(rc, 'unlock', handle);
  }

  /**
   * Runs `fn` holding the lock. An async `fn` (or one that returns a promise) gets what withLockAsync gives: the lock
   * is held until the promise settles, and the result is that promise.
   */
  withLock<T>(handle: number, fn: () => T): T {
    checkFunction(fn, 'withLock', handle);
    if (isAsyncFunction(fn)) return this.withLockAsync(handle, fn as () => Promise<unknown>) as T;
    this.lock(handle, 'withLock');
    let result: T;
    try {
      result = fn();
    } catch (error) {
      this.unlock(handle);
      throw error;
    }
    if (isThenable(result)) {
      // held across the await, like an async section: later async sections of this thread queue behind it
      const settled = Promise.resolve(result).finally(() => this.unlock(handle));
      const released = settled.then(() => undefined, () => undefined);
      this.#enqueue(handle >>> 0, released);
      // async sections of this thread queued before it find the lock held by this thread: they wait for this
      // hold to end (#acquire), not EDEADLK
      this.#promised.set(handle >>> 0, released);
      void released.then(() => { if (this.#promised.get(handle >>> 0) === released) this.#promised.delete(handle >>> 0); });
      return settled as T;
    }
    this.unlock(handle);
    return result;
  }

  /** Runs `fn` holding the lock across its awaits, without ever blocking this thread's event loop. */
  async withLockAsync<T>(handle: number, fn: () => T | Promise<T>): Promise<Awaited<T>> {
    const address = this.#check.handle(handle, 'withLockAsync');
    checkFunction(fn, 'withLockAsync', handle);
    let done!: () => void;
    const previous = this.#enqueue(address, new Promise<void>((resolve) => { done = resolve; }));
    try {
      await previous;
      await this.#acquire(address, handle);
      try {
        return await fn();
      } finally {
        this.unlock(handle);
      }
    } finally {
      done();
    }
  }

  /** Appends a section to this thread's queue for `address`; returns the one it must wait for. */
  #enqueue(address: number, section: Promise<void>): Promise<void> {
    const previous = this.#sections.get(address) ?? Promise.resolve();
    const tail = previous.then(() => section);
    this.#sections.set(address, tail);
    void tail.then(() => { if (this.#sections.get(address) === tail) this.#sections.delete(address); });
    return previous;
  }

  /** Takes the lock without blocking: try, and while another thread holds it, sleep asynchronously on its word. */
  async #acquire(address: number, handle: number): Promise<void> {
    for (let slept = false; ; slept = true) {
      this.#check.handle(handle, 'withLockAsync'); // the object may have been freed meanwhile (by a bug elsewhere)
      const rc = this.#raw.brc_try_lock(address);
      if (rc === 0) {
        // Taken after a sleep: other threads may still sleep on the word (an unlock wakes one waiter and clears
        // LINK_WAITERS), so set the mark again, as the core's objectLock does when it takes the lock after
        // sleeping; else our unlock would wake nobody and they would sleep forever. (While we hold the lock,
        // brc_lock_wait_word only sets LINK_WAITERS.)
        if (slept) this.#raw.brc_lock_wait_word(address);
        return;
      }
      if (rc !== LAYOUT.EBUSY) throw lockError(rc, 'withLockAsync', handle);
      if (this.#raw.brc_holds_lock(address) === 1) {
        const promised = this.#promised.get(address);
        if (promised === undefined) throw lockError(LAYOUT.EDEADLK, 'withLockAsync', handle);
        await promised; // held by this thread's withLock of a promise-returning function: wait for its end
        continue;
      }
      const word = this.#raw.brc_lock_wait_word(address) >>> 0;
      if (word === 0) continue; // released meanwhile
      await sleepOnWord(this.#views, (address + LAYOUT.H_LINK) >>> 2, word);
    }
  }
}

function lockError(rc: number, what: string, handle: number): BrcError {
  return coreError(rc, `${what}(${handleName(handle)})`, handle);
}

function checkFunction(fn: unknown, what: string, handle: number): void {
  if (typeof fn !== 'function') {
    throw new BrcError('EINVAL', `${what}(${handleName(handle)}, ${typeof fn}): the second argument must be the function to run holding the lock`, { handle });
  }
}

function isAsyncFunction(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as { constructor?: { name?: string } }).constructor?.name === 'AsyncFunction';
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}

/** Resolves once the u32 at word index `index` may differ from `value` (Atomics.waitAsync, or a timer). */
async function sleepOnWord(views: HeapViews, index: number, value: number): Promise<void> {
  const memory = views.memory.buffer;
  const waitAsync = (Atomics as { waitAsync?: typeof Atomics.waitAsync }).waitAsync;
  if (typeof waitAsync === 'function' && memory instanceof SharedArrayBuffer) {
    const result = waitAsync(new Int32Array(memory), index, value | 0);
    if (result.async) await result.value;
    return;
  }
  await new Promise((resolve) => setTimeout(resolve, POLL_MS));
}
