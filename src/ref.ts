/// <reference lib="esnext.disposable" preserve="true" />
/** Ref: one reference held in a JS variable, released by `using`, `release()` or never twice. */

/** An object's handle: a plain number (its address, with its generation above 2^32: views.ts), so it travels in postMessage. */
export type Handle = number;

/** What a Ref needs of its heap: counting. */
export interface Counting {
  incref(handle: Handle): void;
  decref(handle: Handle): void;
}

// TypeScript's downlevel `using` looks Symbol.dispose up at run time; Node 20 has it, older engines may not.
(Symbol as { dispose?: symbol }).dispose ??= Symbol.for('Symbol.dispose');

export class Ref implements Disposable {
  #heap: Counting;
  #handle: Handle;

  /** Takes over one reference the caller holds (it does not add one). */
  constructor(heap: Counting, handle: Handle) {
    this.#heap = heap;
    this.#handle = handle;
  }

  /** The handle, while this Ref holds its reference; 0 after release. */
  get handle(): Handle {
    return this.#handle;
  }

  get released(): boolean {
    return this.#handle === 0;
  }

  /** A second Ref with a reference of its own. */
  clone(): Ref {
    this.#heap.incref(this.#handle);
    return new Ref(this.#heap, this.#handle);
  }

  /** Releases the reference; a second call does nothing. */
  release(): void {
    const handle = this.#handle;
    if (handle === 0) return;
    this.#handle = 0;
    this.#heap.decref(handle);
  }

  /** Gives up the reference without releasing it (to move it elsewhere, e.g. into a message); returns the handle. */
  take(): Handle {
    const handle = this.#handle;
    this.#handle = 0;
    return handle;
  }

  [Symbol.dispose](): void {
    this.release();
  }
}
