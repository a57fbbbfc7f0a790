/**
 * biasrc's public API, the same in every environment. The entry points (index.ts for Node, index.browser.ts for
 * browsers) register what differs, then re-export this.
 *
 *   import { Heap, BrcError } from 'biasrc';
 *   import { joinHeap } from 'biasrc/worker';         // in workers started with heap.spawn
 */
export {
  Heap, type Handle, type HeapOptions, type ObjectInfo, type HeapShare, type WeakHandle, type CycleOptions,
} from './heap.js';
export { Ref } from './ref.js';
export type {
  Shape, ShapeObject, ShapeObjectMethods, ShapeFields, ShapeInit, ShapeHandle, StringHandle, ShapeDescription, FieldType,
  FieldInfo, NumericType, RefType, ElementType, ElementValue, ElementInit, NumberArray, RefArray, DescribedType,
  DescribedElement,
} from './shape.js';
export type { Strings } from './strings.js';
export {
  LinkedModule, prepareModule, type LinkOptions, type LinkShare, type LinkSource, type ForeignExports, type ForeignFunction,
} from './link.js';
export { HeapThread, type SpawnOptions, type TerminateOptions } from './thread.js';
export { BrcError, errorName, type BrcErrorCode } from './errors.js';
export { LAYOUT, STAT_NAMES, type Layout, type Stats, type StatName } from './layout.js';
export {
  compileCore, createSharedMemory, instantiateCore, coreImports, defaultWasmUrl, type BrcExports, type CoreInstance,
  type CompileOptions, type MemoryOptions, type WasmSource, type WasmLocations,
} from './wasm.js';
export type { BuildName } from './locate.js';
export type {
  WasmMemory, WasmModule, WasmExports, WasmImports, MemoryLike, ModuleLike, BinaryData, WorkerLike, WorkerSource,
} from './host.js';
