/**
 * Checked mode: every argument is validated before it reaches wasm, so a bad call throws a BrcError that names the
 * call, the handle and the problem, and never changes the heap. A trap of the debug build (an invariant broken
 * inside the core) becomes a BrcError too.
 */

import { BrcError, coreError, handleName } from './errors.js';
import type { BrcExports } from './generated/abi.js';

export class Checker {
  readonly #raw: BrcExports;
  readonly #isClosed: () => boolean;

  constructor(raw: BrcExports, isClosed: () => boolean) {
    this.#raw = raw;
    this.#isClosed = isClosed;
  }

  /** ECLOSED once the heap was closed in this thread. */
  open(what: string): void {
    if (this.#isClosed()) throw closedError(what);
  }

  /** The handle names a live object. */
  handle(handle: unknown, what: string): void {
    this.open(what);
    if (typeof handle !== 'number' || !Number.isInteger(handle) || handle <= 0 || handle > 0xffff_ffff) {
      throw new BrcError('EINVAL', `${what}(${handleName(handle as number)}): not a handle (handles are positive integers)`, { handle: handle as number });
    }
    const rc = this.#raw.brc_validate(handle);
    if (rc !== 0) throw coreError(rc, `${what}(${handleName(handle)})`, handle);
  }

  /** The handle names a live object and `index` is one of its slots. */
  slot(handle: number, index: unknown, what: string): void {
    this.handle(handle, what);
    const slots = this.#raw.brc_info_slots(handle);
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= slots) {
      throw new BrcError('EINVAL', `${what}(${handleName(handle)}, ${String(index)}): slot index out of range (the object has ${slots} slots)`, { handle });
    }
  }

  /** Runs a wasm call, turning a debug-build trap into a BrcError that says which invariant broke. */
  trap<T>(what: string, handle: number, call: () => T): T {
    try {
      return call();
    } catch (error) {
      if (!(error instanceof WebAssembly.RuntimeError)) throw error;
      const at = this.#raw.brc_last_error_address();
      throw coreError(this.#raw.brc_last_error(), `${what}(${handleName(handle)}) trapped at address 0x${at.toString(16)}`, handle, error);
    }
  }
}

export function closedError(what: string): BrcError {
  return new BrcError('ECLOSED', `${what}: the heap is closed in this thread`);
}
