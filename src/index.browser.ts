/**
 * biasrc for browsers (package.json `exports` "browser" and "default" conditions): module Web Workers, and the wasm
 * builds inline (nothing for a bundler to copy). No `node:` import anywhere in this module graph.
 */
import { registerThreads, registerWasm } from './platform.js';
import { browserThreads, browserWasm } from './platform/browser.js';
import { compileInline } from './platform/browser-wasm.js';

registerThreads(browserThreads);
registerWasm(browserWasm(compileInline));

export * from './api.js';
