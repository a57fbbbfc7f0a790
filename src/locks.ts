/**
 * The per-object mutex, as the public API offers it: lock, tryLock, unlock and withLock. The mutex itself is two
 * bits of the object's header (assembly/lock.ts); each thread keeps a table of the locks it holds, so that a dead
 * thread's locks are released when it is detached.
 */

import { coreError, handleName } from './errors.js';
import { LAYOUT } from './layout.js';
import type { Checker } from './check.js';
import type { BrcExports } from './generated/abi.js';

export class Locks {
  readonly #raw: BrcExports;
  readonly #check: Checker;

  constructor(raw: BrcExports, check: Checker) {
    this.#raw = raw;
    this.#check = check;
  }

  lock(handle: number): void {
    this.#check.handle(handle, 'lock');
    const rc = this.#check.trap('lock', handle, () => this.#raw.brc_lock(handle));
    if (rc !== 0) throw coreError(rc, `lock(${handleName(handle)})`, handle);
  }

  tryLock(handle: number): boolean {
    this.#check.handle(handle, 'tryLock');
    const rc = this.#raw.brc_try_lock(handle);
    if (rc === 0) return true;
    if (rc === LAYOUT.EBUSY) return false;
    throw coreError(rc, `tryLock(${handleName(handle)})`, handle);
  }

  unlock(handle: number): void {
    this.#check.handle(handle, 'unlock');
    const rc = this.#raw.brc_unlock(handle);
    if (rc !== 0) throw coreError(rc, `unlock(${handleName(handle)})`, handle);
  }

  withLock<T>(handle: number, fn: () => T): T {
    this.lock(handle);
    let result: T;
    try {
      result = fn();
    } catch (error) {
      this.unlock(handle);
      throw error;
    }
    if (result instanceof Promise) {
      return result.finally(() => this.unlock(handle)) as T;
    }
    this.unlock(handle);
    return result;
  }
}
