/**
 * biasrc: biased reference counting for JavaScript threads.
 *
 *   import { Heap, BrcError } from 'biasrc';          // this file
 *   import { joinHeap } from 'biasrc/worker';         // in workers started with heap.spawn
 */
export { Heap, type Handle, type HeapOptions, type ObjectInfo, type HeapShare, type WeakHandle, type CycleOptions } from './heap.js';
export { Ref } from './ref.js';
export type {
  Shape, ShapeObject, ShapeObjectMethods, ShapeFields, ShapeInit, ShapeHandle, StringHandle, ShapeDescription, FieldType,
  FieldInfo, NumericType, RefType, ElementType, ElementValue, ElementInit, NumberArray, RefArray, DescribedType,
  DescribedElement,
} from './shape.js';
export type { Strings } from './strings.js';
export { HeapThread, type SpawnOptions } from './thread.js';
export { BrcError, type BrcErrorCode } from './errors.js';
export { LAYOUT, STAT_NAMES, type Layout, type Stats, type StatName } from './layout.js';
export { errorName } from './errors.js';
export {
  compileCore, createSharedMemory, instantiateCore, coreImports, defaultWasmUrl, type BrcExports, type CoreInstance,
  type CompileOptions, type MemoryOptions, type WasmSource,
} from './wasm.js';
