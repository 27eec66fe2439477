/** Opening, creating and saving arrays: `loadNpy`, `openNpy`, `memmap`, `saveNpy`, `fromFile`, `array`. */
import { fileURLToPath } from 'node:url';
import * as binding from '../binding';
import { DType, NATIVE_ORDER, TypedArray, dtypeInfo, dtypeOfTypedArray } from './dtype';
import { closedError, invalidArg, MmnpyError, native, typeError } from './errors';
import { MmapMode, NdArray, NestedArray } from './ndarray';
import { Storage } from './storage';
import { encode, flatten } from './nested';
import { Descr, dtypeLiteral } from './records';

/** A dtype spec that is not one of the numeric dtypes (datetime, string, record), as the addon's literal; else undefined. */
export function extendedDtype(spec: unknown): string | undefined {
  if (spec === undefined) return undefined;
  const lit = dtypeLiteral(spec);
  const d = JSON.parse(native(() => binding.describeDtype(lit))) as Descr;
  return d.kind === 'num' ? undefined : lit;
}

/** An in-memory array of an extended dtype holding nested values (each checked like `set`). */
function fromValues(data: unknown, lit: string, shapeOpt: number | readonly number[] | undefined, copy: boolean): NdArray {
  const [flat, inferred] = Array.isArray(data) ? flatten(data) : [[data], []];
  const shape = toShape(shapeOpt) ?? inferred;
  if (shape.reduce((a, b) => a * b, 1) !== flat.length) throw invalidArg(`shape [${shape.join(', ')}] does not match ${flat.length} values`);
  const a = wrap(native(() => binding.fromBytesDescr(undefined, lit, shape, false, copy)), copy);
  const s = a._s;
  const isz = s.dt.itemsize;
  flat.forEach((v, i) => s.write(i * isz, s.check(v, ` at flat index ${i}`)));
  return a;
}

export type { PathLike, LoadOptions, OpenOptions, MemmapOptions, FromFileOptions, SaveOptions, ArrayOptions, Order } from '../index';
import type { PathLike, LoadOptions, OpenOptions, MemmapOptions, FromFileOptions, SaveOptions, ArrayOptions, Order } from '../index';

export function toPath(p: PathLike): string {
  if (typeof p === 'string') {
    if (p.length === 0) throw typeError('path must be a non-empty string');
    return p;
  }
  if (p instanceof URL) return fileURLToPath(p);
  if (Buffer.isBuffer(p)) return p.toString();
  throw typeError(`path must be a string, URL or Buffer, got ${p === null ? 'null' : typeof p}`);
}

export function opts<T extends object>(o: T | undefined, what: string): Partial<T> {
  if (o === undefined || o === null) return {};
  if (typeof o !== 'object') throw typeError(`${what} options must be an object`);
  return o;
}

export function toShape(s: number | readonly number[] | undefined, what = 'shape'): number[] | undefined {
  if (s === undefined || s === null) return undefined;
  const list = typeof s === 'number' || typeof s === 'bigint' ? [s] : s;
  if (!Array.isArray(list)) throw typeError(`${what} must be a number or an array of numbers`);
  return list.map((d) => {
    const n = typeof d === 'bigint' ? Number(d) : d;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw invalidArg(`${what} must hold non-negative integers, got ${String(d)}`);
    return n;
  });
}

function toOffset(o: number | bigint | undefined): number {
  if (o === undefined) return 0;
  const n = typeof o === 'bigint' ? Number(o) : o;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || (typeof o === 'bigint' && BigInt(n) !== o)) {
    throw invalidArg(`offset must be a non-negative integer below 2^53, got ${String(o)}`);
  }
  return n;
}

export function toOrder(order: Order | undefined): boolean {
  switch (order ?? 'C') {
    case 'C': case 'row-major': return false;
    case 'F': case 'column-major': return true;
    default: throw invalidArg(`order must be 'C', 'F', 'row-major' or 'column-major', got '${String(order)}'`);
  }
}

/** A `.npy` version as the addon takes it; the addon checks which versions exist. */
export function toVersion(v: unknown): number[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x) && x >= 0 && x <= 255)) {
    throw invalidArg(`version must be [1, 0], [2, 0] or [3, 0], got ${JSON.stringify(v) ?? String(v)}`);
  }
  return v as number[];
}

/** Checked before `'w+'` creates or replaces a file: the mapping could not be handed to JavaScript afterwards. */
function requireExternalBuffers(p: string, allowCopy: boolean): void {
  if (!allowCopy && !binding.externalBuffersAllowed()) {
    throw new MmnpyError('ERR_MMNPY_NO_EXTERNAL_BUFFERS', `${p}: this runtime refuses external ArrayBuffers (e.g. Electron), so mapped memory cannot be shared with JavaScript without copying; pass { allowCopy: true } to work on copies`);
  }
}

export function wrap(n: binding.NativeArray, allowCopy: boolean | undefined): NdArray {
  return NdArray._whole(new Storage(n, !binding.externalBuffersAllowed() && allowCopy === true));
}

/** Like `np.load(path, mmap_mode=...)`: maps a `.npy` file (`mmapMode` given) or reads it into memory. */
export function loadNpy(path: PathLike, options?: LoadOptions): NdArray {
  const o = opts(options, 'loadNpy');
  const p = toPath(path);
  const copy = o.allowCopy === true;
  if (o.mmapMode === undefined || o.mmapMode === null) return wrap(native(() => binding.loadNpy(p, copy)), copy);
  const mode = o.mmapMode;
  return wrap(native(() => binding.openNpy(p, mode, copy)), copy);
}

/** Like `np.lib.format.open_memmap`: maps a `.npy` file; `'w+'` creates it (sparse, O(1) in its size). */
export function openNpy(path: PathLike, options?: OpenOptions): NdArray {
  const o = opts(options, 'openNpy');
  const p = toPath(path);
  const mode = o.mode ?? 'r+';
  const copy = o.allowCopy === true;
  if (mode === 'w+' || mode === 'write') {
    const shape = toShape(o.shape);
    if (shape === undefined) throw invalidArg(`${p}: shape must be given if mode == 'w+'`);
    requireExternalBuffers(p, copy);
    const version = toVersion(o.version);
    const dtype = extendedDtype(o.dtype) ?? (o.dtype as string | undefined) ?? 'float64';
    return wrap(native(() => binding.createNpy(p, dtype, shape, o.fortranOrder === true, version, copy, o.durable === true)), copy);
  }
  return wrap(native(() => binding.openNpy(p, mode, copy)), copy);
}

/** Like `np.memmap`: maps a raw binary file. Without `shape`, the whole file after `offset`. */
export function memmap(path: PathLike, options?: MemmapOptions): NdArray {
  const o = opts(options, 'memmap');
  const p = toPath(path);
  const copy = o.allowCopy === true;
  const shape = toShape(o.shape);
  const fortran = toOrder(o.order);
  const offset = toOffset(o.offset);
  if (o.mode === 'w+' || o.mode === 'write') requireExternalBuffers(p, copy);
  const dtype = extendedDtype(o.dtype) ?? (o.dtype as string | undefined) ?? 'uint8';
  return wrap(native(() => binding.memmapRaw(p, dtype, o.mode ?? 'r+', offset, shape, fortran, copy, o.durable === true)), copy);
}

/** Like `np.fromfile`: reads `count` elements (all when -1) from `offset` into memory. */
export function fromFile(path: PathLike, options?: FromFileOptions): NdArray {
  const o = opts(options, 'fromFile');
  const p = toPath(path);
  if (o.dtype === undefined) throw invalidArg('fromFile needs a dtype');
  const count = o.count ?? -1;
  if (!Number.isSafeInteger(count) || count < -1) throw invalidArg(`count must be -1 or a non-negative integer, got ${count}`);
  const offset = toOffset(o.offset);
  const copy = o.allowCopy === true;
  const dtype = extendedDtype(o.dtype) ?? (o.dtype as string);
  return wrap(native(() => binding.fromFile(p, dtype, count, offset, copy)), copy);
}

/** Canonical dtype name and byte order of a spelling (`'>f8'` -> float64, '>'). */
function parseDType(spec: string): [DType, string] {
  const r = native(() => binding.parseDtype(spec));
  return [r.dtype as DType, r.byteOrder];
}

function inferDType(flat: unknown[]): DType {
  if (flat.length > 0 && flat.every((v) => typeof v === 'boolean')) return 'bool';
  if (flat.some((v) => v !== null && typeof v === 'object')) return 'complex128';
  if (flat.length > 0 && flat.every((v) => typeof v === 'bigint')) return 'int64';
  if (flat.length > 0 && flat.every((v) => typeof v === 'bigint' || typeof v === 'boolean' || (typeof v === 'number' && Number.isInteger(v)))) return 'int64';
  return 'float64';
}

/** Bytes, dtype and shape of a TypedArray (which holds native-order values). */
function typedBytes(data: TypedArray, dtypeSpec: string | undefined, shapeOpt: number | readonly number[] | undefined): [Uint8Array, string, number[]] {
  const fromCtor = dtypeOfTypedArray(data);
  if (fromCtor === undefined) throw typeError(`unsupported TypedArray ${data.constructor.name}`);
  let dtype: DType = fromCtor;
  if (dtypeSpec !== undefined) {
    const [d, order] = parseDType(dtypeSpec);
    const compatible = d === fromCtor || (d === 'bool' && fromCtor === 'uint8') || (d === 'float16' && fromCtor === 'uint16')
      || (d === 'complex64' && fromCtor === 'float32') || (d === 'complex128' && fromCtor === 'float64');
    if (!compatible || (order !== '|' && order !== NATIVE_ORDER)) {
      throw invalidArg(`a ${data.constructor.name} holds ${fromCtor} values in this machine's byte order; it cannot be saved as '${dtypeSpec}' without conversion`);
    }
    dtype = d;
  }
  const dt = dtypeInfo(dtype);
  const count = data.length / dt.lanes;
  if (!Number.isInteger(count)) throw invalidArg(`a complex array needs an even number of interleaved values, got ${data.length}`);
  const shape = toShape(shapeOpt) ?? [count];
  return [new Uint8Array(data.buffer, data.byteOffset, data.byteLength), dtype, shape];
}

/** Bytes, dtype spelling and shape for `saveNpy` / `array`, from a TypedArray or nested arrays. */
export function toBytes(data: unknown, dtypeSpec: string | undefined, shapeOpt: number | readonly number[] | undefined): [Uint8Array, string, number[]] {
  if (ArrayBuffer.isView(data) && !(data instanceof DataView)) {
    return typedBytes(data as TypedArray, dtypeSpec, shapeOpt);
  }
  if (!Array.isArray(data)) {
    if (typeof data === 'number' || typeof data === 'bigint' || typeof data === 'boolean') return toBytes([data], dtypeSpec, shapeOpt ?? []);
    throw typeError('saveNpy/array take an NdArray, a TypedArray or nested arrays');
  }
  const [flat, inferredShape] = flatten(data);
  const [dtype, order] = dtypeSpec !== undefined ? parseDType(dtypeSpec) : [inferDType(flat), NATIVE_ORDER];
  const shape = toShape(shapeOpt) ?? inferredShape;
  if (shape.reduce((a, b) => a * b, 1) !== flat.length) throw invalidArg(`shape [${shape.join(', ')}] does not match ${flat.length} values`);
  return [encode(flat, dtype, order), dtypeSpec ?? dtype, shape];
}

/**
 * Like `np.save`: writes a `.npy` file atomically (temporary file, then rename) with NumPy's exact header:
 * a crash of the process at any moment leaves the old file or the complete new one (`{ durable: true }`:
 * after a power loss too).
 * `array` is an `NdArray` (any view: byte order kept, Fortran order when NumPy would use it),
 * a TypedArray, or nested arrays (`{ dtype }` to choose the type).
 */
export function saveNpy(path: PathLike, array: NdArray | ArrayBufferView | NestedArray, options?: SaveOptions): void {
  const o = opts(options, 'saveNpy');
  const p = toPath(path);
  const version = toVersion(o.version);
  if (array instanceof NdArray) {
    if (array.closed) throw closedError();
    const a = array;
    native(() => a._s.native.save(p, [...a.shape], [...a.strides], a._offset, version, o.durable === true));
    return;
  }
  const ext = extendedDtype(o.dtype);
  if (ext !== undefined) {
    const a = fromValues(array, ext, o.shape, false);
    native(() => a._s.native.save(p, [...a.shape], [...a.strides], a._offset, version, o.durable === true));
    a.close();
    return;
  }
  const [bytes, dtype, shape] = toBytes(array, o.dtype as string | undefined, o.shape);
  native(() => binding.saveBytes(p, bytes, dtype, shape, false, version, o.durable === true));
}

/** An in-memory `NdArray` from a TypedArray or nested arrays (like `np.array`). */
export function array(data: ArrayBufferView | NestedArray, options?: ArrayOptions): NdArray {
  const o = opts(options, 'array');
  const copy = o.allowCopy === true;
  const ext = extendedDtype(o.dtype);
  if (ext !== undefined) return fromValues(data, ext, o.shape, copy);
  const [bytes, dtype, shape] = toBytes(data, o.dtype as string | undefined, o.shape);
  return wrap(native(() => binding.fromBytes(bytes, dtype, shape, false, copy)), copy);
}
