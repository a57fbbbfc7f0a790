/**
 * Errors. The numeric codes are defined once, in assembly/errors.ts, and exported by the wasm module as globals;
 * this file maps them to the string codes users see and to readable messages.
 */
export type BrcErrorCode = 'EINVAL' | 'EFREED' | 'ENOMEM' | 'ETHREADS' | 'EINIT' | 'ELAYOUT' | 'ENOTATTACHED' | 'EATTACHED' | 'ENOTLOCKED' | 'EBUSY' | 'ECLOSED' | 'ENOTSHARED' | 'EINVARIANT';
/** Error codes the wasm module reports, by name; the numbers come from the module's exports. */
export declare const WASM_ERROR_NAMES: readonly ['EINVAL', 'EFREED', 'ENOMEM', 'ETHREADS', 'EINIT', 'ELAYOUT', 'ENOTATTACHED', 'EATTACHED', 'ENOTLOCKED', 'EBUSY', 'E_BIASED_NEGATIVE', 'E_SHARED_NEGATIVE', 'E_QUEUED_TWICE', 'E_NOT_OWNER', 'E_DOUBLE_FREE', 'E_MERGED_OWNED', 'E_DEAD_REFERENCE', 'E_PAGE_CORRUPT', 'E_COUNT_MISMATCH', 'E_LOCK_HELD', 'E_OWNER_GONE'];
export type WasmErrorName = (typeof WASM_ERROR_NAMES)[number];
/** The error every biasrc call throws: `code` says what kind, the message names the handle and the problem. */
export declare class BrcError extends Error {
    readonly code: BrcErrorCode;
    /** The handle, address or value the error is about, when there is one. */
    readonly handle?: number;
    /** For invariant violations: the wasm-level code name (E_...). */
    readonly detail?: string;
    constructor(code: BrcErrorCode, message: string, options?: {
        handle?: number;
        detail?: string;
        cause?: unknown;
    });
}
/** Maps the module's numeric codes to names; built from the module's exported globals. */
export declare class ErrorTable {
    private readonly byNumber;
    constructor(exports: WebAssembly.Exports);
    name(code: number): WasmErrorName | undefined;
    /** A BrcError for a numeric code from the module; `what` says which call or handle it concerns. */
    error(code: number, what: string, handle?: number, cause?: unknown): BrcError;
}
/** Formats a handle the way messages name it. */
export declare function handleName(handle: number): string;
