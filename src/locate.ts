/**
 * Which wasm build a heap needs, where it comes from, and what a failed load says.
 *
 * There are four builds (build/*.wasm): threaded (shared memory) and single-thread (pages without cross-origin
 * isolation), each in release and debug. By default each entry point finds them by itself, with nothing for the app
 * or its bundler to configure: the Node entry reads the files next to the package; the browser entry carries them
 * inline (base64 in dist/inline/*.js, one module per build, imported only when that build is needed), because a
 * bundler that does not follow `new URL('x.wasm', import.meta.url)` (esbuild, Rollup) would otherwise leave them
 * behind. An app that serves the files itself names them per build, so that the single-thread fallback keeps working.
 */

import { BrcError } from './errors.js';
import type { BinaryData, WasmModule } from './host.js';

export type BuildName = 'threaded' | 'single' | 'debug' | 'singleDebug';

/** The shipped file of each build, relative to the package root (also the package's `biasrc/wasm*` exports). */
export const BUILD_FILES: Record<BuildName, string> = {
  threaded: 'build/biasrc.wasm',
  single: 'build/biasrc.single.wasm',
  debug: 'build/biasrc.debug.wasm',
  singleDebug: 'build/biasrc.single.debug.wasm',
};

/** A wasm module: its URL (absolute, or relative to the page / the working directory), its bytes, or the compiled module. */
export type WasmSource = URL | string | WasmModule | BinaryData;

/**
 * One location per build, for an app that serves the wasm files itself. A build left out is loaded from the
 * package as usual, so `{ threaded: url }` alone keeps the single-thread fallback working.
 */
export interface WasmLocations {
  /** build/biasrc.wasm (`biasrc/wasm`): shared memory, release. */
  threaded?: WasmSource;
  /** build/biasrc.single.wasm (`biasrc/wasm/single`): the fallback for pages without cross-origin isolation. */
  single?: WasmSource;
  /** build/biasrc.debug.wasm (`biasrc/wasm/debug`). */
  debug?: WasmSource;
  /** build/biasrc.single.debug.wasm (`biasrc/wasm/single-debug`). */
  singleDebug?: WasmSource;
}

export function buildName(shared: boolean, debug: boolean): BuildName {
  return shared ? (debug ? 'debug' : 'threaded') : (debug ? 'singleDebug' : 'single');
}

const LOCATION_KEYS: readonly string[] = ['threaded', 'single', 'debug', 'singleDebug'];

/** Is `wasm` a WasmLocations object (rather than one source)? */
export function isLocations(wasm: unknown): wasm is WasmLocations {
  if (typeof wasm !== 'object' || wasm === null) return false;
  if (wasm instanceof URL || wasm instanceof WebAssembly.Module || wasm instanceof ArrayBuffer || ArrayBuffer.isView(wasm)) return false;
  if (typeof SharedArrayBuffer !== 'undefined' && wasm instanceof SharedArrayBuffer) return false;
  const keys = Object.keys(wasm);
  const unknown = keys.filter((k) => !LOCATION_KEYS.includes(k));
  if (unknown.length > 0) {
    throw new BrcError('EINVAL', `Heap.create: wasm has unknown keys ${unknown.join(', ')}; give a URL, bytes, a WebAssembly.Module, or { ${LOCATION_KEYS.join(', ')} }`);
  }
  return true;
}

/** What the app gave for this build, or undefined for the package's own copy. */
export function chooseSource(wasm: WasmSource | WasmLocations | undefined, build: BuildName): WasmSource | undefined {
  if (wasm === undefined) return undefined;
  return isLocations(wasm) ? wasm[build] : wasm;
}

/** The fix a failed load suggests. */
function fix(build: BuildName): string {
  const file = BUILD_FILES[build];
  return `serve node_modules/biasrc/${file} at that URL, or pass its URL as Heap.create({ wasm: { ${build}: url } }), ` +
    'or leave `wasm` out to use the copy that comes with the package';
}

/** A failed load as a BrcError ELOAD naming the URL, the HTTP status (or other cause) and the fix. */
export function loadError(build: BuildName, url: string, status: string, cause?: unknown): BrcError {
  return new BrcError('ELOAD', `Heap.create: loading the ${build} wasm build from ${url} failed (${status}): ${fix(build)}`, { cause });
}

/** fetch + compile, with every failure a BrcError naming the URL and the status; any MIME type is accepted. */
export async function fetchModule(url: URL, build: BuildName): Promise<WasmModule> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw loadError(build, url.href, `network error: ${String((error as Error)?.message ?? error)}`, error);
  }
  if (!response.ok) throw loadError(build, url.href, `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
  const type = (response.headers.get('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'text/html') {
    // what dev servers and single-page-app hosts answer for a file they do not have
    throw loadError(build, url.href, `HTTP ${response.status} with an HTML page instead of a wasm module: the file is not there`);
  }
  const streaming = typeof WebAssembly.compileStreaming === 'function' && type === 'application/wasm';
  try {
    return streaming ? await WebAssembly.compileStreaming(response) : await WebAssembly.compile(await response.arrayBuffer());
  } catch (error) {
    throw loadError(build, url.href, `HTTP ${response.status}, but not a wasm module: ${String((error as Error)?.message ?? error)}`, error);
  }
}

/** Decodes base64 (the inline builds). */
export function fromBase64(text: string): Uint8Array {
  const native = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array }).fromBase64;
  if (typeof native === 'function') return native(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
