/**
 * Errors. The numeric codes are defined once, in assembly/errors.ts; src/generated/abi.ts carries them from the built
 * module. This file maps them to the string codes users see and to readable messages.
 */

import { ABI_CONSTANTS, ERROR_CODE_NAMES } from './generated/abi.js';

export type BrcErrorCode =
  | 'EINVAL' | 'EFREED' | 'ENOMEM' | 'ETHREADS' | 'EINIT' | 'ELAYOUT' | 'ENOTATTACHED' | 'EATTACHED'
  | 'ENOTLOCKED' | 'EBUSY' | 'ELOCKS' | 'EDEADLK' | 'ETIMEDOUT' | 'ECLOSED' | 'ENOTSHARED' | 'ELOAD' | 'ENESTED'
  | 'EINVARIANT'
  // the loader of foreign modules (link.ts): the module cannot share a heap; its stack overflowed
  | 'ELINK' | 'ESTACK';

/** Error codes the wasm module reports, by name (generated from the module). */
export type WasmErrorName = (typeof ERROR_CODE_NAMES)[number];

const DESCRIPTIONS: Record<WasmErrorName, string> = {
  EINVAL: 'invalid argument',
  EFREED: 'the object was already freed',
  ENOMEM: 'out of memory: the heap reached its maximum size',
  ETHREADS: 'every thread id is taken (raise maxThreads)',
  EINIT: 'the memory already holds an initialised heap',
  ELAYOUT: 'the memory holds no biasrc heap of this layout version',
  ENOTATTACHED: 'this thread is not attached to the heap',
  EATTACHED: 'this thread is already attached',
  ENOTLOCKED: 'this thread does not hold the object\'s lock',
  EBUSY: 'the operation cannot run now',
  ELOCKS: 'this thread already holds 16 object locks (the most one thread may hold at once)',
  EDEADLK: 'this thread already holds this lock: waiting for it would never end (unlock it first, or use withLockAsync to queue async sections)',
  ETIMEDOUT: 'a thread did not reach a safe point in time',
  E_BIASED_NEGATIVE: 'invariant broken: the biased (local) count would go below zero (a decref too many)',
  E_SHARED_NEGATIVE: 'invariant broken: shared count below zero while the object is not queued',
  E_QUEUED_TWICE: 'invariant broken: an object is queued twice, or marked queued but in no queue',
  E_NOT_OWNER: 'invariant broken: ownership dropped by a thread that does not hold the owner\'s rights',
  E_DOUBLE_FREE: 'invariant broken: object freed twice',
  E_MERGED_OWNED: 'invariant broken: MERGED and owner tid disagree',
  E_DEAD_REFERENCE: 'invariant broken: a live object with a zero count, or a slot naming a freed object',
  E_PAGE_CORRUPT: 'invariant broken: a page header or free list is inconsistent',
  E_COUNT_MISMATCH: 'invariant broken: live blocks or objects differ from the allocation counters',
  E_LOCK_HELD: 'reserved: no longer reported',
  E_OWNER_GONE: 'invariant broken: an object or page owned by a thread that is not attached',
};

/** The error every biasrc call throws: `code` says what kind, the message names the handle and the problem. */
export class BrcError extends Error {
  readonly code: BrcErrorCode;
  /** The handle, address or value the error is about, when there is one. */
  readonly handle?: number;
  /** For invariant violations: the wasm-level code name (E_...). */
  readonly detail?: string;

  constructor(code: BrcErrorCode, message: string, options: { handle?: number; detail?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BrcError';
    this.code = code;
    this.handle = options.handle;
    this.detail = options.detail;
  }
}

const NAME_OF_CODE = new Map<number, WasmErrorName>(ERROR_CODE_NAMES.map((name) => [ABI_CONSTANTS[name], name]));

/** The name of one of the module's numeric error codes. */
export function errorName(code: number): WasmErrorName | undefined {
  return NAME_OF_CODE.get(code);
}

/** A BrcError for a numeric code from the module; `what` says which call or handle it concerns. */
export function coreError(code: number, what: string, handle?: number, cause?: unknown): BrcError {
  const name = NAME_OF_CODE.get(code);
  if (name === undefined) return new BrcError('EINVARIANT', `${what}: unknown error code ${code}`, { handle, cause });
  const userCode: BrcErrorCode = name.startsWith('E_') ? 'EINVARIANT' : (name as BrcErrorCode);
  return new BrcError(userCode, `${what}: ${DESCRIPTIONS[name]} (${name})`, { handle, detail: name, cause });
}

/** Formats a handle the way messages name it. */
export function handleName(handle: number): string {
  return Number.isInteger(handle) && handle >= 0 ? `handle 0x${handle.toString(16)}` : `handle ${String(handle)}`;
}
