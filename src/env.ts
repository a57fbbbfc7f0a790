/** Where we run: Node or a browser, main thread or worker, with or without shared memory. */

export const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** True where atomic.wait may block this thread: not on a browser's main (window) thread. */
export function canBlock(): boolean {
  if (isNode) return true;
  return typeof (globalThis as { document?: unknown }).document === 'undefined';
}

/** Shared memory needs SharedArrayBuffer, which browsers give only to cross-origin isolated pages. */
export function sharedMemoryAvailable(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  if (isNode) return true;
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
}

export const NOT_SHARED_MESSAGE =
  'this page is not cross-origin isolated, so it has no SharedArrayBuffer and biasrc runs single-threaded: ' +
  'serve it with the headers "Cross-Origin-Opener-Policy: same-origin" and ' +
  '"Cross-Origin-Embedder-Policy: require-corp" to use threads';
