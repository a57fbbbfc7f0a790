/**
 * Checked mode: every argument is validated before it reaches wasm, so a bad call throws a BrcError that names the
 * call, the handle and the problem, and never changes the heap. Handles are validated in JavaScript, from the
 * headers and the page map (views.ts check), without a call into wasm. A trap of the debug build (an invariant
 * broken inside the core) becomes a BrcError too.
 */

import { BrcError, coreError, handleName } from './errors.js';
import type { HeapViews } from './views.js';
import type { BrcExports } from './generated/abi.js';

export class Checker {
  readonly #raw: BrcExports;
  readonly #views: HeapViews;
  readonly #isClosed: () => boolean;

  constructor(raw: BrcExports, views: HeapViews, isClosed: () => boolean) {
    this.#raw = raw;
    this.#views = views;
    this.#isClosed = isClosed;
  }

  /** ECLOSED once the heap was closed in this thread. */
  open(what: string): void {
    if (this.#isClosed()) throw closedError(what);
  }

  /** The address of the live object `handle` names; throws EINVAL, EFREED or ECLOSED. */
  handle(handle: unknown, what: string): number {
    const address = this.#views.liveAddress(handle);
    return address !== 0 && !this.#isClosed() ? address : this.#handleSlow(handle, what);
  }

  /** `handle` beyond the inlined case: large objects, stale views, and every refusal with its reason. */
  #handleSlow(handle: unknown, what: string): number {
    const rc = this.#views.check(handle as number);
    if (rc === 0 && !this.#isClosed()) return (handle as number) >>> 0;
    this.open(what);
    if (typeof handle !== 'number' || !Number.isInteger(handle) || handle <= 0) {
      throw new BrcError('EINVAL', `${what}(${handleName(handle as number)}): not a handle (handles are positive integers)`, { handle: handle as number });
    }
    throw coreError(rc, `${what}(${handleName(handle)})`, handle);
  }

  /** The address of the live object `handle` names, whose slot `index` exists. */
  slot(handle: number, index: unknown, what: string): number {
    const address = this.handle(handle, what);
    const slots = this.#views.slots(address);
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= slots) {
      throw new BrcError('EINVAL', `${what}(${handleName(handle)}, ${String(index)}): slot index out of range (the object has ${slots} slots)`, { handle });
    }
    return address;
  }

  /** Runs a wasm call, turning a debug-build trap into a BrcError that says which invariant broke. */
  trap<T>(what: string, handle: number, call: () => T): T {
    try {
      return call();
    } catch (error) {
      if (!(error instanceof WebAssembly.RuntimeError)) throw error;
      const at = this.#raw.brc_last_error_address() >>> 0;
      throw coreError(this.#raw.brc_last_error(), `${what}(${handleName(handle)}) trapped at address 0x${at.toString(16)}`, handle, error);
    }
  }
}

export function closedError(what: string): BrcError {
  return new BrcError('ECLOSED', `${what}: the heap is closed in this thread`);
}
