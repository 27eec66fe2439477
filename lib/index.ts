/** mmnpy: NumPy-grade memory-mapped arrays for Node.js. The public surface is typed in ../index.d.ts. */
export { NdArray } from './ndarray';
export type { MmapMode, Index, NestedArray, Flags, ChunkOptions } from './ndarray';
export { loadNpy, openNpy, memmap, fromFile, saveNpy, array } from './io';
export type { PathLike, LoadOptions, OpenOptions, MemmapOptions, FromFileOptions, SaveOptions, ArrayOptions, Order } from './io';
export { MmnpyError } from './errors';
export type { DType, ByteOrder, TypedArray } from './dtype';
export type { Scalar, Complex } from './storage';
