/** `NdArray`: a typed, strided view over a `Storage` (a mapping or in-memory memory). */
import { inspect } from 'node:util';
import { ByteOrder, DType, DTYPES, DTYPE_INFOS, NATIVE_ORDER, TypedArray, dtypeInfo, dtypeOfTypedArray } from './dtype';
import { closedError, fromNative, invalidArg, MmnpyError, native, nativeAsync, rangeError, typeError } from './errors';
import type { BinaryArgs, ReduceMean, ScalarIn, NativeArray, ViewArg } from '../binding';
import * as binding from '../binding';
import { broadcastShapes, broadcastStrides } from './broadcast';
import { applySlices, cStrides, isContiguous, parseSliceString, reshapeStrides, SliceSpec } from './slicing';
import { checkValue, MAX_BUFFER_BYTES, READ_ONLY_DATA_LIMIT, Scalar, SMALL_BYTES, Storage } from './storage';
import { encode, flatten } from './nested';
import { setitemStrides, setitemValue, toScalarIn } from './setitem';
import { weakScalar } from './weak';
import { compressOf, nonzeroOf, takeOf } from './select';
import { fieldList, timeUnit } from './records';
import { ticksToDate } from './datetime';

export type { MmapMode, Index, NestedArray, Flags, ChunkOptions, ReduceOptions, VarOptions, Reduced, OutOptions, DotOptions, AssignSource, AssignOptions, AxisOptions, Truth } from '../index';
import type { MmapMode, Index, NestedArray, Flags, ChunkOptions, ReduceOptions, VarOptions, Reduced, OutOptions, Complex, DotOptions, AssignSource, AssignOptions, AxisOptions, Truth, Comparable, CompressOptions, IndexSource, TakeOptions, FieldInfo } from '../index';

const DEFAULT_CHUNK_BYTES = 64 * 2 ** 20;

function toIndex(i: unknown, what: string): number {
  if (typeof i === 'number') return i;
  if (typeof i === 'bigint') return Number(i);
  throw typeError(`${what} must be a number or bigint, got ${typeof i}`);
}

function axisIndex(axis: number, ndim: number): number {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= ndim) {
    throw rangeError(`axis ${axis} is out of bounds for array of dimension ${ndim}`);
  }
  return axis < 0 ? axis + ndim : axis;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A reduction's checked options, as the binding takes them. */
interface ReduceCall {
  axis: number | null;
  dtype: string | undefined;
  ddof: number;
  release: boolean;
  mean: ReduceMean | undefined;
}

/** Codes of the small-call path (`crates/node/src/window.rs`): dtypes by their index in `DTYPES`. */
const DTYPE_CODE: ReadonlyMap<string, number> = new Map(DTYPES.map((d, i) => [d, i]));
const REDUCE_OPS = ['sum', 'prod', 'mean', 'var', 'std', 'min', 'max', 'argmin', 'argmax'];
const BINARY_OPS = ['add', 'sub', 'mul', 'div'] as const;
/** Result dtype codes of reductions without `dtype`, by reduction code * 16 + dtype code. */
const REDUCE_DTYPES = new Map<number, number>();

function reduceDtype(op: number, dtype: number): number {
  const k = op * 16 + dtype;
  let r = REDUCE_DTYPES.get(k);
  if (r === undefined) REDUCE_DTYPES.set(k, (r = native(() => binding.reduceResultDtype(op, dtype))));
  return r;
}

/** Result dtype codes of array-array operations, by (op code * 16 + dtype code) * 16 + dtype code. */
const RESULT_CODES: number[] = [];

function resultCode(op: number, a: number, b: number): number {
  const k = (op * 16 + a) * 16 + b;
  let r = RESULT_CODES[k];
  if (r === undefined) RESULT_CODES[k] = r = DTYPE_CODE.get(resultDtype(BINARY_OPS[op]!, DTYPES[a]!, DTYPES[b]!))!;
  return r;
}

/** Result dtypes of array-array operations, by op, then dtype, then dtype (a pure function of the three). */
const RESULT_DTYPES = new Map<string, Map<string, Map<string, string>>>();

function resultDtype(op: string, a: string, b: string): string {
  let byA = RESULT_DTYPES.get(op);
  if (byA === undefined) RESULT_DTYPES.set(op, (byA = new Map()));
  let byB = byA.get(a);
  if (byB === undefined) byA.set(a, (byB = new Map()));
  let r = byB.get(b);
  if (r === undefined) byB.set(b, (r = native(() => binding.binaryResultDtype(op, a, b, undefined))));
  return r;
}

export class NdArray {
  /** @internal */ readonly _s: Storage;
  /** @internal byte offset of element [0, ...] inside the mapping */ readonly _offset: number;
  /** @internal the shape; frozen when first handed out (`shape`): freezing costs ~30 ns an array, a fifth of a slice */
  readonly _shape: readonly number[];
  /** @internal the strides, frozen like `_shape` */
  readonly _strides: readonly number[];
  private _frozen = false;
  private _data: TypedArray | undefined;
  /** For the `get(i)` fast path: whether it applies (1-D, a single directly indexed window), the length, and the first index and step in window elements. */
  private readonly _fast: boolean;
  private readonly _n0: number;
  private readonly _e0: number;
  private readonly _es0: number;
  /** The view packed for the binding (see `viewArg`), made on first use. */
  private _packed: Float64Array | undefined;

  /** @internal */
  constructor(storage: Storage, shape: readonly number[], strides: readonly number[], offset: number, owned = false) {
    this._s = storage;
    // `owned`: the caller made these arrays for this view alone (no copy needed).
    this._shape = owned ? shape : shape.slice();
    this._strides = owned ? strides : strides.slice();
    this._offset = offset;
    const div = storage.dt.itemsize / storage.dt.lanes;
    this._fast = shape.length === 1 && storage.direct && storage.windowBytes >= storage.byteLength;
    this._n0 = shape.length === 1 ? shape[0]! : 0;
    this._e0 = offset / div;
    this._es0 = shape.length === 1 ? strides[0]! / div : 0;
    this._packed = undefined;
  }

  /** @internal the whole array over a fresh storage */
  static _whole(storage: Storage): NdArray {
    const info = storage.info;
    const isz = storage.dt.itemsize;
    const strides = info.fortranOrder ? [...info.shape.keys()].map((i) => isz * info.shape.slice(0, i).reduce((a, b) => a * Math.max(b, 1), 1)) : cStrides(info.shape, isz);
    // The storage's shape is never changed: shared (frozen) with its whole view; strides are new.
    return new NdArray(storage, info.shape, strides, 0, true);
  }

  /** The length of each axis (frozen). */
  get shape(): readonly number[] {
    if (!this._frozen) this.freeze();
    return this._shape;
  }

  /** Bytes between neighbours along each axis, like NumPy's `strides` (frozen). */
  get strides(): readonly number[] {
    if (!this._frozen) this.freeze();
    return this._strides;
  }

  private freeze(): void {
    Object.freeze(this._shape);
    Object.freeze(this._strides);
    this._frozen = true;
  }

  get dtype(): DType { return this._s.dt.name; }
  get byteOrder(): ByteOrder { return this._s.byteOrder; }
  get ndim(): number { return this._shape.length; }
  get size(): number {
    let n = 1;
    for (let i = 0; i < this._shape.length; i++) n *= this._shape[i]!;
    return n;
  }
  get itemsize(): number { return this._s.dt.itemsize; }
  get nbytes(): number { return this.size * this._s.dt.itemsize; }
  get mode(): MmapMode | null { return (this._s.info.mode ?? null) as MmapMode | null; }
  get filename(): string | null { return this._s.info.filename ?? null; }
  /** Byte offset of the first element in the file (0 for arrays not read from a file). */
  get offset(): number { return this._s.info.fileOffset + this._offset; }
  get closed(): boolean { return this._s.closed; }

  get flags(): Flags {
    const isz = this._s.dt.itemsize;
    const al = this._s.dt.alignment;
    const aligned = (this._s.info.addressMod64 + this._offset) % al === 0 && this._strides.every((s, i) => this._shape[i]! <= 1 || s % al === 0);
    return {
      cContiguous: isContiguous(this._shape, this._strides, isz, false),
      fContiguous: isContiguous(this._shape, this._strides, isz, true),
      writeable: this._s.writeable,
      aligned,
      ownsData: this.mode === null && this._offset === 0 && this.nbytes === this._s.byteLength,
    };
  }

  private check(): void {
    if (this._s.closed) throw closedError();
  }

  private byteOffset(index: Index[], what: string): number {
    const nd = this._shape.length;
    if (index.length !== nd) {
      throw rangeError(`${what} needs ${nd} ${nd === 1 ? 'index' : 'indices'} for a ${nd}-dimensional array, got ${index.length}`);
    }
    let off = this._offset;
    for (let d = 0; d < nd; d++) {
      let i = index[d] as number;
      if (typeof i !== 'number') i = toIndex(i, 'index');
      const n = this._shape[d]!;
      if (i < 0) i += n;
      if (!(i >= 0 && i < n && Math.floor(i) === i)) {
        throw rangeError(`index ${String(index[d])} is out of bounds for axis ${d} with size ${n}`);
      }
      off += i * this._strides[d]!;
    }
    return off;
  }

  /**
   * One element. Negative indices count from the end.
   * int64/uint64 give `bigint`, bool `boolean`, complex `{ re, im }`.
   */
  get(...index: Index[]): Scalar;
  get(i0?: Index): Scalar {
    // Hot path (1-D, one window, native layout): no allocation, no native call.
    // `arguments` instead of a rest array avoids allocating one per call.
    if (arguments.length === 1 && this._fast && typeof i0 === 'number' && i0 >>> 0 === i0 && i0 < this._n0) {
      const s = this._s;
      const w0 = s.w0;
      if (w0 !== undefined) return s.reader(w0, this._e0 + i0 * this._es0);
    }
    return this.getSlow(Array.prototype.slice.call(arguments) as Index[]);
  }

  private getSlow(index: Index[]): Scalar {
    if (this._s.closed) throw closedError();
    const off = this.byteOffset(index, 'get');
    return this._s.descr === undefined ? this._s.read(off) : this.readNamed(off, index);
  }

  /** Reads an element of a string or record array, naming its index when its text is not valid UTF-32. */
  private readNamed(off: number, index: readonly Index[]): Scalar {
    try {
      return this._s.read(off);
    } catch (e) {
      if (e instanceof MmnpyError && e.code === 'ERR_MMNPY_INVALID_STRING') {
        throw new MmnpyError(e.code, `${this.filename ?? 'array'}: element [${index.join(', ')}]: ${e.message}`);
      }
      throw e;
    }
  }

  /** The fields of a record array, in order (`null` for other dtypes). */
  get fields(): FieldInfo[] | null {
    const d = this._s.descr;
    return d?.kind === 'record' ? fieldList(d) : null;
  }

  /**
   * One field of a record array as a zero-copy strided view (`a.field('x').mean()`); a subarray
   * field adds its axes after the array's. Nested records give record views.
   */
  field(name: string): NdArray {
    this.check();
    const { field: f, storage: st } = this._s.field(name);
    const sub = cStrides(f.shape, f.descr.itemsize);
    return new NdArray(st, [...this._shape, ...f.shape], [...this._strides, ...sub], this._offset + f.offset);
  }

  /** A datetime64 element as a `Date` (null for NaT); throws where a Date cannot hold it exactly. */
  dateAt(...index: Index[]): Date | null {
    const d = this._s.descr;
    if (d?.kind !== 'time') throw invalidArg(`dateAt needs a datetime64 array; this one is ${this.dtype}`);
    return ticksToDate(this.getSlow(index) as bigint | null, timeUnit(d));
  }

  /** Every element of a datetime64 array as a `Date` (null for NaT), nested like `toArray()`; throws where a Date cannot hold one exactly. */
  toDates(): NestedArray {
    const d = this._s.descr;
    if (d?.kind !== 'time') throw invalidArg(`toDates needs a datetime64 array; this one is ${this.dtype}`);
    const t = timeUnit(d);
    const conv = (x: unknown): unknown => (Array.isArray(x) ? x.map(conv) : ticksToDate(x as bigint | null, t));
    return conv(this.toArray()) as NestedArray;
  }

  /** Sets one element: `a.set(i, j, value)`. Throws on mode `'r'`, out-of-range values and non-integers for integer dtypes. */
  set(...args: [...index: Index[], value: Scalar | [number, number]]): void {
    this.check();
    if (!this._s.writeable) throw this._s.readOnlyError();
    if (args.length === 0) throw typeError('set(...index, value) needs a value');
    const value = args[args.length - 1];
    const index = args.slice(0, -1) as Index[];
    const off = this.byteOffset(index, 'set');
    this._s.write(off, this._s.descr === undefined ? checkValue(this.dtype, value) : this._s.check(value, ` at [${index.join(', ')}]`));
  }

  /** NumPy basic indexing, as a view: numbers drop an axis, `null` keeps it, `[start, stop, step]` slices; or one string `'1:, ::-2'`. */
  slice(...specs: (SliceSpec | string)[]): NdArray {
    this.check();
    let parsed: (SliceSpec | '...')[];
    if (specs.length === 1 && typeof specs[0] === 'string') parsed = parseSliceString(specs[0]);
    else {
      for (let i = 0; i < specs.length; i++) if (typeof specs[i] === 'string') throw typeError("a slice string must be the only argument: a.slice('1:, ::2')");
      parsed = specs as SliceSpec[];
    }
    const v = applySlices({ shape: this._shape, strides: this._strides, offset: this._offset }, parsed);
    return new NdArray(this._s, v.shape, v.strides, v.offset, true);
  }

  /** Permutes the axes (reverses them when none are given), as a view. */
  transpose(...axes: (number | number[])[]): NdArray {
    this.check();
    const nd = this.ndim;
    const list = axes.length === 1 && Array.isArray(axes[0]) ? axes[0] : (axes as number[]);
    const perm = list.length === 0 ? [...Array(nd).keys()].reverse() : list.map((a) => axisIndex(a, nd));
    if (perm.length !== nd || new Set(perm).size !== nd) throw invalidArg(`axes [${list.join(', ')}] don't match an array of dimension ${nd}`);
    return new NdArray(this._s, perm.map((a) => this._shape[a]!), perm.map((a) => this._strides[a]!), this._offset);
  }

  /** The transpose. */
  get T(): NdArray {
    return this.transpose();
  }

  /** A view with a new shape (one dimension may be -1). Throws rather than copy when the view's memory does not allow it. */
  reshape(...dims: (number | number[])[]): NdArray {
    this.check();
    const list = dims.length === 1 && Array.isArray(dims[0]) ? dims[0] : (dims as number[]);
    const shape = list.map((d) => {
      if (!Number.isInteger(d) || d < -1) throw invalidArg(`invalid dimension ${d} in reshape`);
      return d;
    });
    // NumPy returns a plain view (strides kept) when the requested shape, as given (a -1 never
    // matches), is the current one.
    const same = shape.length === this._shape.length && shape.every((d, i) => d === this._shape[i]);
    const unknown = shape.indexOf(-1);
    if (unknown !== shape.lastIndexOf(-1)) throw invalidArg('can only specify one unknown dimension');
    const known = shape.reduce((a, b) => (b === -1 ? a : a * b), 1);
    if (unknown !== -1) {
      if (known === 0 || this.size % known !== 0) throw invalidArg(`cannot reshape array of size ${this.size} into shape (${shape.join(', ')})`);
      shape[unknown] = this.size / known;
    }
    if (shape.reduce((a, b) => a * b, 1) !== this.size) {
      throw invalidArg(`cannot reshape array of size ${this.size} into shape (${shape.join(', ')})`);
    }
    const isz = this.itemsize;
    const strides = same ? [...this._strides] : this.size === 0 ? cStrides(shape, isz) : reshapeStrides([...this._shape], [...this._strides], shape, isz);
    if (strides === null) {
      throw new MmnpyError('ERR_MMNPY_NOT_CONTIGUOUS', `cannot reshape this non-contiguous view to (${shape.join(', ')}) without copying; use copy().reshape(...)`);
    }
    return new NdArray(this._s, shape, strides, this._offset);
  }

  /**
   * A zero-copy TypedArray over the elements (contiguous arrays only, in memory order).
   * Writes follow the mode. Throws, naming `chunks()`, when one TypedArray cannot hold the array.
   */
  get data(): TypedArray {
    this.check();
    if (this._data !== undefined && this._data.byteLength > 0) return this._data;
    const s = this._s;
    if (s.descr !== undefined && s.descr.kind !== 'time') {
      throw new MmnpyError('ERR_MMNPY_UNSUPPORTED_DTYPE', `data has no TypedArray for dtype ${this.dtype}; use get() or toArray()${s.descr.kind === 'record' ? ', or field(name) for a numeric view of one field' : ''}`);
    }
    const isz = this.itemsize;
    const c = isContiguous(this._shape, this._strides, isz, false);
    if (!c && !isContiguous(this._shape, this._strides, isz, true)) {
      throw new MmnpyError('ERR_MMNPY_NOT_CONTIGUOUS', 'data needs a contiguous array; this view is strided: iterate it with chunks() or copy it with toTypedArray()');
    }
    if (s.byteOrder !== '|' && s.byteOrder !== NATIVE_ORDER) {
      throw new MmnpyError('ERR_MMNPY_BYTE_ORDER', `data would show the raw bytes of this ${this.byteOrder === '>' ? 'big' : 'little'}-endian array in the machine's byte order; use get(), or toTypedArray() for a converted copy (per block with chunks())`);
    }
    if (!s.direct) {
      throw new MmnpyError('ERR_MMNPY_MISALIGNED', `data needs elements aligned to ${s.dt.alignment} bytes and this array starts at an unaligned address; use get(), or toTypedArray() for a copy (per block with chunks())`);
    }
    const nbytes = this.nbytes;
    const lanes = s.dt.lanes;
    if (nbytes > MAX_BUFFER_BYTES) {
      throw new MmnpyError('ERR_MMNPY_TOO_LARGE', `data cannot hold ${nbytes} bytes in one TypedArray (this runtime's limit is ${MAX_BUFFER_BYTES}); iterate with chunks() instead`);
    }
    if (s.info.readOnlyMapping && nbytes > READ_ONLY_DATA_LIMIT) {
      throw new MmnpyError('ERR_MMNPY_TOO_LARGE', `${s.info.filename}: data would copy ${nbytes} bytes: under strict overcommit accounting (vm.overcommit_memory = 2) mode 'r' maps the file read-only and gives JavaScript copies (at most ${READ_ONLY_DATA_LIMIT} bytes), so that a stray write cannot crash the process; iterate with chunks(), or let the kernels (sum, ...) read the mapping directly`);
    }
    if (nbytes === 0) return (this._data = new s.dt.ctor(0));
    const k = Math.floor(this._offset / s.windowBytes);
    const local = this._offset - k * s.windowBytes;
    let ta: TypedArray;
    // With allowCopy the windows are copies that get() reads: `data` must be its own snapshot.
    if (local + nbytes <= s.windowBytes && !s.copied) {
      ta = new s.dt.ctor(s.windowBuffer(k), local, this.size * lanes);
    } else {
      const ab = native(() => s.native.window(this._offset, nbytes));
      ta = new s.dt.ctor(ab, 0, this.size * lanes);
    }
    this._data = ta;
    return ta;
  }

  /** The byte range `[start, end)` of the mapping that this view's elements occupy. */
  private span(): [number, number] {
    if (this.size === 0) return [this._offset, this._offset];
    let lo = this._offset;
    let hi = this._offset;
    this._shape.forEach((n, i) => {
      const e = (n - 1) * this._strides[i]!;
      if (e < 0) lo += e;
      else hi += e;
    });
    return [lo, hi + this.itemsize];
  }

  /**
   * Tells the kernel how this view's memory will be used: `'sequential'` (read ahead, drop behind),
   * `'willneed'` (start reading it in), `'populate'` (fault it all in now), `'release'` (drop its pages
   * from this process; the file keeps the data; ignored in mode `'c'` and in memory, where it would lose changes).
   */
  advise(hint: 'sequential' | 'willneed' | 'populate' | 'release'): void {
    this.check();
    const [lo, hi] = this.span();
    native(() => this._s.native.advise(lo, hi - lo, hint));
  }

  /** Views of consecutive blocks along `axis` (default 0), for arrays of any size. */
  *chunks(options: ChunkOptions = {}): Generator<NdArray, void, undefined> {
    this.check();
    if (this.ndim === 0) {
      yield this;
      return;
    }
    const axis = axisIndex(options.axis ?? 0, this.ndim);
    const n = this._shape[axis]!;
    let rows = options.rows;
    if (rows === undefined) {
      const bytes = options.bytes ?? DEFAULT_CHUNK_BYTES;
      if (!(bytes > 0)) throw invalidArg(`bytes must be positive, got ${bytes}`);
      const per = this._shape.length === 0 || n === 0 ? 1 : this.nbytes / n;
      rows = Math.max(1, Math.floor(bytes / Math.max(per, 1)));
    }
    if (!Number.isInteger(rows) || rows < 1) throw invalidArg(`rows must be a positive integer, got ${rows}`);
    for (let start = 0; start < n; start += rows) {
      const specs: (null | [number, number])[] = this._shape.map(() => null);
      specs[axis] = [start, Math.min(start + rows, n)];
      const chunk = this.slice(...specs);
      yield chunk;
      // Behind the cursor: the caller is done with this block.
      if (options.release === true && !this._s.closed) chunk.advise('release');
    }
  }

  /** Nested JavaScript arrays (a scalar for 0-d arrays), like NumPy's `tolist()`. */
  toArray(): NestedArray {
    this.check();
    const named = this._s.descr !== undefined;
    const at: number[] = [];
    const rec = (axis: number, off: number): NestedArray => {
      if (axis === this._shape.length) return named ? this.readNamed(off, at) : this._s.read(off);
      const out: NestedArray[] = new Array(this._shape[axis]!);
      for (let i = 0; i < out.length; i++) {
        at[axis] = i;
        out[i] = rec(axis + 1, off + i * this._strides[axis]!);
      }
      return out;
    };
    return rec(0, this._offset);
  }

  /** A copy of the elements in C order and this machine's byte order, as a fresh TypedArray. */
  toTypedArray(): TypedArray {
    this.check();
    const s = this._s;
    const out = new s.dt.ctor(this.size * s.dt.lanes);
    if (out.byteLength > 0) {
      native(() => s.native.gatherInto([...this._shape], [...this._strides], this._offset, true, new Uint8Array(out.buffer, out.byteOffset, out.byteLength)));
    }
    return out;
  }

  /** An in-memory C-order copy (same dtype and byte order). */
  copy(): NdArray {
    this.check();
    const s = this._s;
    const n = native(() => s.native.copyView([...this._shape], [...this._strides], this._offset));
    return NdArray._whole(new Storage(n, s.copied));
  }

  /** Sum of the elements (integers and bools in 64 bits, wrapping like NumPy; floats pairwise). */
  sum<O extends ReduceOptions = ReduceOptions>(options?: O): Reduced<O> { return this.reduce('sum', options) as Reduced<O>; }
  prod<O extends ReduceOptions = ReduceOptions>(options?: O): Reduced<O> { return this.reduce('prod', options) as Reduced<O>; }
  mean<O extends ReduceOptions = ReduceOptions>(options?: O): Reduced<O> { return this.reduce('mean', options) as Reduced<O>; }
  var<O extends VarOptions = VarOptions>(options?: O): Reduced<O> { return this.reduce('var', options) as Reduced<O>; }
  std<O extends VarOptions = VarOptions>(options?: O): Reduced<O> { return this.reduce('std', options) as Reduced<O>; }
  min<O extends ReduceOptions = ReduceOptions>(options?: O): Reduced<O> { return this.reduce('min', options) as Reduced<O>; }
  max<O extends ReduceOptions = ReduceOptions>(options?: O): Reduced<O> { return this.reduce('max', options) as Reduced<O>; }
  argmin<O extends ReduceOptions = ReduceOptions>(options?: O): Reduced<O> { return this.reduce('argmin', options) as Reduced<O>; }
  argmax<O extends ReduceOptions = ReduceOptions>(options?: O): Reduced<O> { return this.reduce('argmax', options) as Reduced<O>; }
  sumAsync<O extends ReduceOptions = ReduceOptions>(options?: O): Promise<Reduced<O>> { return this.reduceAsync('sum', options) as Promise<Reduced<O>>; }
  prodAsync<O extends ReduceOptions = ReduceOptions>(options?: O): Promise<Reduced<O>> { return this.reduceAsync('prod', options) as Promise<Reduced<O>>; }
  meanAsync<O extends ReduceOptions = ReduceOptions>(options?: O): Promise<Reduced<O>> { return this.reduceAsync('mean', options) as Promise<Reduced<O>>; }
  varAsync<O extends VarOptions = VarOptions>(options?: O): Promise<Reduced<O>> { return this.reduceAsync('var', options) as Promise<Reduced<O>>; }
  stdAsync<O extends VarOptions = VarOptions>(options?: O): Promise<Reduced<O>> { return this.reduceAsync('std', options) as Promise<Reduced<O>>; }
  minAsync<O extends ReduceOptions = ReduceOptions>(options?: O): Promise<Reduced<O>> { return this.reduceAsync('min', options) as Promise<Reduced<O>>; }
  maxAsync<O extends ReduceOptions = ReduceOptions>(options?: O): Promise<Reduced<O>> { return this.reduceAsync('max', options) as Promise<Reduced<O>>; }
  argminAsync<O extends ReduceOptions = ReduceOptions>(options?: O): Promise<Reduced<O>> { return this.reduceAsync('argmin', options) as Promise<Reduced<O>>; }
  argmaxAsync<O extends ReduceOptions = ReduceOptions>(options?: O): Promise<Reduced<O>> { return this.reduceAsync('argmax', options) as Promise<Reduced<O>>; }

  /** `this + other` elementwise (NumPy broadcasting and type promotion); into `out` when given. */
  add(other: NdArray | Scalar, options?: OutOptions): NdArray { return this.binary('add', other, options, false) as NdArray; }
  /** `this - other` elementwise. `a.sub(a.mean(), { out: a })` centres in place (in mode `'c'` the file is untouched). */
  sub(other: NdArray | Scalar, options?: OutOptions): NdArray { return this.binary('sub', other, options, false) as NdArray; }
  /** `this * other` elementwise. */
  mul(other: NdArray | Scalar, options?: OutOptions): NdArray { return this.binary('mul', other, options, false) as NdArray; }
  /** `this / other` elementwise (true division: integers give float64). */
  div(other: NdArray | Scalar, options?: OutOptions): NdArray { return this.binary('div', other, options, false) as NdArray; }
  addAsync(other: NdArray | Scalar, options?: OutOptions): Promise<NdArray> { return settle(() => this.binary('add', other, options, true) as Promise<NdArray>); }
  subAsync(other: NdArray | Scalar, options?: OutOptions): Promise<NdArray> { return settle(() => this.binary('sub', other, options, true) as Promise<NdArray>); }
  mulAsync(other: NdArray | Scalar, options?: OutOptions): Promise<NdArray> { return settle(() => this.binary('mul', other, options, true) as Promise<NdArray>); }
  divAsync(other: NdArray | Scalar, options?: OutOptions): Promise<NdArray> { return settle(() => this.binary('div', other, options, true) as Promise<NdArray>); }

  /** Matrix/vector product: vector·vector gives a scalar, matrix·vector and matrix·matrix an in-memory array. */
  dot(other: NdArray, options?: DotOptions): Scalar | NdArray {
    const release = this.dotArgs(other, options);
    return this.dotResult(native(() => this._s.native.dot(this.viewArg(), other._s.native, other.viewArg(), release)));
  }
  async dotAsync(other: NdArray, options?: DotOptions): Promise<Scalar | NdArray> {
    const release = this.dotArgs(other, options);
    return this.dotResult(await nativeAsync(() => this._s.native.dotAsync(this.viewArg(), other._s.native, other.viewArg(), release)));
  }
  /** Checked arguments of `dot`: the streaming flag. */
  private dotArgs(other: NdArray, options: DotOptions | undefined): boolean {
    this.check();
    if (!(other instanceof NdArray)) throw typeError('dot takes an NdArray');
    if (other.closed) throw closedError();
    const release = options?.release ?? false;
    if (typeof release !== 'boolean') throw typeError(`release must be a boolean, got ${typeof release}`);
    return release;
  }
  private dotResult(r: NativeScalar | NativeArray): Scalar | NdArray {
    if (r instanceof binding.NativeArray) return NdArray._whole(new Storage(r, this._s.copied));
    return toScalar(r, 'dot', this.dtype, undefined);
  }

  /** Sets every element to `value` (checked like `set`). */
  fill(value: Scalar | [number, number]): void {
    this.check();
    if (this._s.descr !== undefined) {
      // One checked element copied everywhere: works for every dtype (records, strings, datetimes).
      const enc = this._s.check(value, '');
      const isz = this.itemsize;
      const walk = (axis: number, off: number): void => {
        if (axis === this.ndim) return this._s.write(off, enc);
        for (let i = 0; i < this._shape[axis]!; i++) walk(axis + 1, off + i * this._strides[axis]!);
      };
      if (!this._s.writeable) throw this._s.readOnlyError();
      if (isz > 0) walk(0, this._offset);
      return;
    }
    native(() => this._s.native.fill(this.viewArg(), toScalarIn(checkValue(this.dtype, value), this.dtype)));
  }
  fillAsync(value: Scalar | [number, number]): Promise<void> {
    return settle(() => {
      this.check();
      if (this._s.descr !== undefined) return Promise.resolve(this.fill(value));
      return nativeAsync(() => this._s.native.fillAsync(this.viewArg(), toScalarIn(checkValue(this.dtype, value), this.dtype)));
    });
  }

  /** A copy converted to `dtype` (NumPy's unsafe cast, as `astype`), or written into `out` (e.g. an `openNpy('w+')` array). */
  astype(dtype: string, options?: OutOptions): NdArray { return this.cast(dtype, options, false) as NdArray; }
  astypeAsync(dtype: string, options?: OutOptions): Promise<NdArray> { return settle(() => this.cast(dtype, options, true) as Promise<NdArray>); }

  /**
   * `a[...] = src` (NumPy setitem): `src` (an `NdArray`, a scalar, nested arrays or a TypedArray) is
   * broadcast to this view's shape and cast as setitem casts (a float into an integer view truncates
   * toward zero). Correct when `src` overlaps this view. `{ release: true }` streams: pages are
   * released behind the copy, for destinations larger than RAM. Returns this view.
   */
  assign(src: AssignSource, options?: AssignOptions): this {
    const run = this.assignPlan(src, options);
    native(() => run(false));
    return this;
  }
  assignAsync(src: AssignSource, options?: AssignOptions): Promise<this> {
    return settle(() => {
      const run = this.assignPlan(src, options);
      return nativeAsync(() => run(true) as Promise<void>).then(() => this);
    });
  }

  /** Checked arguments of `assign`: a call of the native kernel, sync or async. */
  private assignPlan(src: unknown, options: AssignOptions | undefined): (async: boolean) => void | Promise<void> {
    this.check();
    if (!this._s.writeable) throw this._s.readOnlyError();
    if (options !== undefined && (options === null || typeof options !== 'object')) throw typeError('assign options must be an object');
    const release = options?.release ?? false;
    if (typeof release !== 'boolean') throw typeError(`release must be a boolean, got ${typeof release}`);
    const n = this._s.native;
    const view = this.viewArg();
    let from: NdArray | undefined;
    if (src instanceof NdArray) from = src;
    else if (ArrayBuffer.isView(src) && !(src instanceof DataView)) {
      const dtype = dtypeOfTypedArray(src);
      if (dtype === undefined) throw typeError(`unsupported TypedArray ${src.constructor.name}`);
      const bytes = new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
      from = NdArray._whole(new Storage(native(() => binding.fromBytes(bytes, dtype, [src.byteLength / dtypeInfo(dtype).itemsize], false, false)), false));
    } else if (Array.isArray(src)) {
      // A list: each element converts as a Python scalar into this dtype (np.asarray(src, dtype=a.dtype)).
      const [flat, shape] = flatten(src);
      const bytes = encode(flat.map((v) => setitemValue(this.dtype, v)), this.dtype, NATIVE_ORDER);
      from = NdArray._whole(new Storage(native(() => binding.fromBytes(bytes, this.dtype, shape, false, false)), false));
    }
    if (from !== undefined) {
      const a = from;
      if (a.closed) throw closedError();
      const s = a.viewArg(setitemStrides(a.shape, a.strides, this._shape), this._shape);
      return (async) => (async ? n.assignAsync(view, a._s.native, s, release) : n.assign(view, a._s.native, s, release));
    }
    const v = toScalarIn(checkValue(this.dtype, setitemValue(this.dtype, src)), this.dtype);
    return (async) => (async ? n.assignValueAsync(view, v, release) : n.assignValue(view, v, release));
  }

  /** Elementwise `this == other` as a bool array (NumPy broadcasting; integers compare exactly, floats as NumPy promotes); into `out` when given. */
  equal(other: NdArray | Scalar, options?: OutOptions): NdArray { return this.compare('equal', other, options, false) as NdArray; }
  /** Elementwise `this != other` (NaN is not equal to anything). */
  notEqual(other: NdArray | Scalar, options?: OutOptions): NdArray { return this.compare('notEqual', other, options, false) as NdArray; }
  /** Elementwise `this < other`: `a.less(0)`. */
  less(other: NdArray | Scalar, options?: OutOptions): NdArray { return this.compare('less', other, options, false) as NdArray; }
  lessEqual(other: NdArray | Scalar, options?: OutOptions): NdArray { return this.compare('lessEqual', other, options, false) as NdArray; }
  greater(other: NdArray | Scalar, options?: OutOptions): NdArray { return this.compare('greater', other, options, false) as NdArray; }
  greaterEqual(other: NdArray | Scalar, options?: OutOptions): NdArray { return this.compare('greaterEqual', other, options, false) as NdArray; }
  equalAsync(other: NdArray | Scalar, options?: OutOptions): Promise<NdArray> { return settle(() => this.compare('equal', other, options, true) as Promise<NdArray>); }
  notEqualAsync(other: NdArray | Scalar, options?: OutOptions): Promise<NdArray> { return settle(() => this.compare('notEqual', other, options, true) as Promise<NdArray>); }
  lessAsync(other: NdArray | Scalar, options?: OutOptions): Promise<NdArray> { return settle(() => this.compare('less', other, options, true) as Promise<NdArray>); }
  lessEqualAsync(other: NdArray | Scalar, options?: OutOptions): Promise<NdArray> { return settle(() => this.compare('lessEqual', other, options, true) as Promise<NdArray>); }
  greaterAsync(other: NdArray | Scalar, options?: OutOptions): Promise<NdArray> { return settle(() => this.compare('greater', other, options, true) as Promise<NdArray>); }
  greaterEqualAsync(other: NdArray | Scalar, options?: OutOptions): Promise<NdArray> { return settle(() => this.compare('greaterEqual', other, options, true) as Promise<NdArray>); }

  /** Elementwise NaN test as a bool array (integers: all false; complex: either part NaN). */
  isnan(options?: OutOptions): NdArray { return this.truthTest('isnan', options, false) as NdArray; }
  /** Elementwise finiteness as a bool array (integers: all true; complex: both parts finite). */
  isfinite(options?: OutOptions): NdArray { return this.truthTest('isfinite', options, false) as NdArray; }
  isnanAsync(options?: OutOptions): Promise<NdArray> { return settle(() => this.truthTest('isnan', options, true) as Promise<NdArray>); }
  isfiniteAsync(options?: OutOptions): Promise<NdArray> { return settle(() => this.truthTest('isfinite', options, true) as Promise<NdArray>); }

  /** Whether any element is true (non-zero; NaN is true): a boolean, or along `axis` a bool array. */
  any<O extends AxisOptions = AxisOptions>(options?: O): Truth<O> { return this.anyAll(false, options, false) as Truth<O>; }
  /** Whether every element is true: a boolean, or along `axis` a bool array. */
  all<O extends AxisOptions = AxisOptions>(options?: O): Truth<O> { return this.anyAll(true, options, false) as Truth<O>; }
  anyAsync<O extends AxisOptions = AxisOptions>(options?: O): Promise<Truth<O>> { return settle(() => this.anyAll(false, options, true) as Promise<Truth<O>>); }
  allAsync<O extends AxisOptions = AxisOptions>(options?: O): Promise<Truth<O>> { return settle(() => this.anyAll(true, options, true) as Promise<Truth<O>>); }

  /** `a[mask]` (NumPy boolean indexing, 1-D for a mask of `a`'s shape); with `axis`, NumPy's `compress` along it. See select.ts. */
  compress(mask: Comparable, options?: CompressOptions): NdArray { this.check(); return compressOf(this, mask, options, false) as NdArray; }
  compressAsync(mask: Comparable, options?: CompressOptions): Promise<NdArray> { return settle(() => (this.check(), compressOf(this, mask, options, true) as Promise<NdArray>)); }
  /** NumPy's `take`: `{ axis, mode: 'raise' | 'wrap' | 'clip', out }`. */
  take(indices: IndexSource, options?: TakeOptions): NdArray { this.check(); return takeOf(this, indices, options, false) as NdArray; }
  takeAsync(indices: IndexSource, options?: TakeOptions): Promise<NdArray> { return settle(() => (this.check(), takeOf(this, indices, options, true) as Promise<NdArray>)); }
  /** NumPy's `nonzero`: the indices of the true (non-zero) elements, one int64 array per axis. */
  nonzero(): NdArray[] { return nonzeroOf(this, false, false) as NdArray[]; }
  nonzeroAsync(): Promise<NdArray[]> { return settle(() => nonzeroOf(this, true, false) as Promise<NdArray[]>); }
  /** NumPy's `argwhere`: the indices of the true elements as a `(count, ndim)` int64 array. */
  argwhere(): NdArray { return (nonzeroOf(this, false, true) as NdArray[])[0]!; }
  argwhereAsync(): Promise<NdArray> { return settle(() => (nonzeroOf(this, true, true) as Promise<NdArray[]>).then((r) => r[0]!)); }

  private compare(op: string, other: NdArray | Scalar, options: OutOptions | undefined, async: boolean): NdArray | Promise<NdArray> {
    this.check();
    let shape: number[];
    let args: BinaryArgs;
    let b: NativeArray | undefined;
    if (other instanceof NdArray) {
      if (other.closed) throw closedError();
      shape = broadcastShapes(this._shape, other.shape);
      args = { a: this.viewArg(broadcastStrides(this._shape, this._strides, shape), shape), b: other.viewArg(broadcastStrides(other.shape, other.strides, shape), shape), o: this.viewArg() };
      b = other._s.native;
    } else {
      const [s, sd] = weakScalar(this.dtype, other);
      shape = [...this._shape];
      args = { a: this.viewArg(), scalar: s, scalarDtype: sd, o: this.viewArg() };
    }
    const out = this.outFor(options, 'bool', shape);
    args.o = out.viewArg();
    const n = this._s.native;
    if (async) return nativeAsync(() => n.compareAsync(op, b, args, out._s.native)).then(() => out);
    native(() => n.compare(op, b, args, out._s.native));
    return out;
  }

  private truthTest(test: string, options: OutOptions | undefined, async: boolean): NdArray | Promise<NdArray> {
    this.check();
    const out = this.outFor(options, 'bool', [...this._shape]);
    const n = this._s.native;
    if (async) return nativeAsync(() => n.truthTestAsync(test, this.viewArg(), out._s.native, out.viewArg())).then(() => out);
    native(() => n.truthTest(test, this.viewArg(), out._s.native, out.viewArg()));
    return out;
  }

  private anyAll(all: boolean, options: AxisOptions | undefined, async: boolean): boolean | NdArray | Promise<boolean | NdArray> {
    this.check();
    if (options !== undefined && (options === null || typeof options !== 'object')) throw typeError('options must be an object');
    const axis = options?.axis === undefined || options.axis === null ? undefined : axisIndex(options.axis, this.ndim);
    const n = this._s.native;
    const wrap = (r: boolean | NativeArray) => (typeof r === 'boolean' ? r : NdArray._whole(new Storage(r, this._s.copied)));
    if (async) return nativeAsync(() => n.anyAllAsync(all, this.viewArg(), axis)).then(wrap);
    return wrap(native(() => n.anyAll(all, this.viewArg(), axis)));
  }

  /** @internal */
  viewArg(strides: readonly number[] = this._strides, shape: readonly number[] = this._shape): ViewArg {
    if (strides === this._strides && shape === this._shape && this._packed) return this._packed;
    const nd = shape.length;
    const v = new Float64Array(2 + 2 * nd);
    v[0] = this._offset;
    v[1] = nd;
    for (let i = 0; i < nd; i++) {
      v[2 + i] = shape[i]!;
      v[2 + nd + i] = strides[i]!;
    }
    if (strides === this._strides && shape === this._shape) this._packed = v;
    return v;
  }

  /** @internal whether this view is all of `mem`, C-contiguous from its start (see `binaryFlat`) */
  _spans(mem: Uint8Array): boolean {
    if (this._offset !== 0) return false;
    let step = this._s.dt.itemsize;
    for (let i = this._shape.length - 1; i >= 0; i--) {
      const n = this._shape[i]!;
      if (n !== 1 && this._strides[i] !== step) return false;
      step *= n;
    }
    return step === mem.byteLength;
  }

  /** @internal a new in-memory result, or the checked `out` */
  outFor(options: OutOptions | undefined, dtype: string, shape: number[]): NdArray {
    const out = options?.out;
    if (out === undefined || out === null) return NdArray._whole(new Storage(native(() => binding.zeros(dtype, shape)), false));
    if (!(out instanceof NdArray)) throw typeError('out must be an NdArray');
    if (out.closed) throw closedError();
    if (!sameShape(out.shape, shape)) {
      throw invalidArg(`out has shape (${out.shape.join(', ')}), the result (${shape.join(', ')})`);
    }
    return out;
  }

  private binary(op: (typeof BINARY_OPS)[number], other: NdArray | Scalar, options: OutOptions | undefined, async: boolean): NdArray | Promise<NdArray> {
    this.check();
    let result: NdArray;
    let run: () => void | Promise<void>;
    if (other instanceof NdArray) {
      if (other._s.closed) throw closedError();
      const same = sameShape(this._shape, other.shape);
      const shape = same ? (this._shape as number[]) : broadcastShapes(this._shape, other.shape);
      // Op codes by position in BINARY_OPS (comparisons of interned strings: cheaper than a Map).
      const opc = op === 'add' ? 0 : op === 'sub' ? 1 : op === 'mul' ? 2 : 3;
      const numeric = this._s.dcode >= 0 && other._s.dcode >= 0;
      const cc = numeric ? resultCode(opc, this._s.dcode, other._s.dcode) : -1;
      const compute = numeric ? DTYPES[cc]! : resultDtype(op, this.dtype, other.dtype);
      const outArg = options === undefined ? undefined : options.out;
      const given = outArg !== undefined && outArg !== null;
      if (!async && numeric) {
        let size = 1;
        for (let i = 0; i < shape.length; i++) size *= shape[i]!;
        const outSize = given && outArg instanceof NdArray ? outArg.itemsize : 0;
        const widest = Math.max(this._s.dt.itemsize, other._s.dt.itemsize, DTYPE_INFOS[cc]!.itemsize, outSize);
        // Small results only (see `reduce`).
        const am = size * widest > SMALL_BYTES ? undefined : this._s.memory();
        const bm = am === undefined ? undefined : other._s.memory();
        if (bm !== undefined) {
          // The small-call path (see `reduce`): memories, codes, and a new result allocated here.
          const res = given ? this.outFor(options, compute, shape) : NdArray._whole(Storage.small(cc, shape.slice()));
          const om = res._s.writeable ? res._s.memory() : undefined;
          if (om !== undefined) {
            const a = same || sameShape(this._shape, shape) ? this.viewArg() : this.viewArg(broadcastStrides(this._shape, this._strides, shape), shape);
            const b = same || sameShape(other.shape, shape) ? other.viewArg() : other.viewArg(broadcastStrides(other.shape, other.strides, shape), shape);
            // Op and four dtype codes in one number (see `binary_mem` in crates/node/src/window.rs).
            const codes = opc | (this._s.dcode << 3) | (other._s.dcode << 8) | (res._s.dcode << 13) | (cc << 18);
            try {
              // Whole arrays of one shape (the common case) pass no views at all.
              if (same && this._spans(am!) && other._spans(bm) && res._spans(om)) binding.binaryFlat(codes, am!, bm, om);
              else binding.binaryMem(codes, am!, a, bm, b, om, res.viewArg());
            } catch (e) {
              throw fromNative(e);
            }
            return res;
          }
        }
      }
      // Operands of the result's shape pass their own (cached) packed views.
      const a = same || sameShape(this._shape, shape) ? this.viewArg() : this.viewArg(broadcastStrides(this._shape, this._strides, shape), shape);
      const b = same || sameShape(other.shape, shape) ? other.viewArg() : other.viewArg(broadcastStrides(other.shape, other.strides, shape), shape);
      result = this.outFor(options, compute, shape);
      const out = result;
      const n = this._s.native;
      const bn = other._s.native;
      const on = out._s.native;
      const o = out.viewArg();
      run = async ? () => nativeAsync(() => n.binaryAsync(op, a, bn, b, undefined, on, o, compute)) : () => native(() => n.binary(op, a, bn, b, undefined, on, o, compute));
    } else {
      const s = scalarOperand(other, this.dtype, op);
      const compute = native(() => binding.binaryResultDtype(op, this.dtype, undefined, s));
      result = this.outFor(options, compute, [...this._shape]);
      const out = result;
      const args = [op, this.viewArg(), undefined, undefined, s, out._s.native, out.viewArg(), compute] as const;
      run = async ? () => nativeAsync(() => this._s.native.binaryAsync(...args)) : () => native(() => this._s.native.binary(...args));
    }
    const done = run();
    return done instanceof Promise ? done.then(() => result) : result;
  }

  private cast(dtype: string, options: OutOptions | undefined, async: boolean): NdArray | Promise<NdArray> {
    this.check();
    const d = this._s.descr;
    if (d?.kind === 'time' && options?.out === undefined && native(() => binding.parseDtype(dtype)).dtype === 'int64') {
      // The ticks, as a view (NumPy copies; a view costs nothing and keeps the byte order).
      const st = this._s.ticksStorage();
      const v = new NdArray(st, this._shape, this._strides, this._offset);
      return async ? Promise.resolve(v) : v;
    }
    if (options?.out instanceof NdArray) {
      // The values written are the conversion to `dtype`: an `out` of another dtype would silently convert again.
      const want = native(() => binding.parseDtype(dtype)).dtype;
      if (want !== options.out.dtype) throw invalidArg(`astype('${dtype}') cannot write into out of dtype ${options.out.dtype}; give out of dtype ${want}`);
    }
    const result = options?.out ? this.outFor(options, dtype, [...this._shape]) : NdArray._whole(new Storage(native(() => binding.zeros(dtype, [...this._shape])), false));
    const out = result;
    if (async) return nativeAsync(() => this._s.native.castIntoAsync(this.viewArg(), out._s.native, out.viewArg())).then(() => result);
    native(() => this._s.native.castInto(this.viewArg(), out._s.native, out.viewArg()));
    return result;
  }

  /** Checked arguments of a reduction. */
  private reduceArgs(op: string, options: VarOptions | undefined): ReduceCall {
    this.check();
    if (options === undefined) return { axis: null, dtype: undefined, ddof: 0, release: false, mean: undefined };
    if (options === null || typeof options !== 'object') throw typeError('reduction options must be an object');
    const axis = options.axis === undefined || options.axis === null ? null : axisIndex(options.axis, this.ndim);
    const ddof = options.ddof ?? 0;
    if (typeof ddof !== 'number' || !Number.isFinite(ddof)) throw invalidArg(`ddof must be a finite number, got ${String(ddof)}`);
    const release = options.release ?? false;
    if (typeof release !== 'boolean') throw typeError(`release must be a boolean, got ${typeof release}`);
    let mean: ReduceMean | undefined;
    if (options.mean !== undefined) {
      if (op !== 'var' && op !== 'std') throw invalidArg(`${op} takes no mean`);
      mean = this.givenMean(options.mean, axis);
    }
    return { axis, dtype: options.dtype, ddof, release, mean };
  }

  /** A mean given to var/std (NumPy 2's `mean=`) as (re, im) pairs for the binding. */
  private givenMean(mean: unknown, axis: number | null): ReduceMean {
    if (typeof mean === 'number') return { values: [mean, 0], complex: false };
    if (mean instanceof NdArray) {
      mean.check();
      const reduced = axis === null ? [] : this._shape.filter((_, i) => i !== axis);
      const keep = this._shape.map((d, i) => (axis === null || i === axis ? 1 : d));
      const same = (s: readonly number[]) => s.length === mean.ndim && s.every((d, i) => d === mean.shape[i]);
      if (!same(reduced) && !same(keep) && mean.size !== 1) {
        throw invalidArg(`mean of shape (${mean.shape.join(', ')}) does not match the reduction's result, shape (${reduced.join(', ')}) or (${keep.join(', ')})`);
      }
      if (!/^(float|complex)/.test(mean.dtype)) throw invalidArg(`mean must be a float or complex array, got dtype ${mean.dtype}`);
      const complex = mean.dtype.startsWith('complex');
      const values = mean.astype(complex ? 'complex128' : 'float64').toTypedArray() as Float64Array;
      const pairs = complex ? Array.from(values) : Array.from(values, (v) => [v, 0]).flat();
      return { values: pairs, dtype: mean.dtype, complex };
    }
    if (mean !== null && typeof mean === 'object' && typeof (mean as Complex).re === 'number' && typeof (mean as Complex).im === 'number') {
      return { values: [(mean as Complex).re, (mean as Complex).im], complex: true };
    }
    throw typeError(`mean must be a number, { re, im } or an NdArray, got ${typeof mean}`);
  }

  /** For a datetime array: the checked axis of its reduction (`null`: all elements); `undefined` for other dtypes. */
  private timeArgs(op: string, options: VarOptions | undefined): number | null | undefined {
    if (this._s.descr?.kind !== 'time') return undefined;
    this.check();
    const o = options ?? {};
    if (o.dtype !== undefined || o.ddof !== undefined || o.mean !== undefined) {
      throw new MmnpyError('ERR_MMNPY_UNSUPPORTED_DTYPE', `${op} of ${this.dtype} takes no dtype, ddof or mean; reduce astype('int64') for ticks`);
    }
    return o.axis === undefined || o.axis === null ? null : axisIndex(o.axis, this.ndim);
  }

  private timeResult(op: string, r: string | null): Scalar {
    if (op === 'argmin' || op === 'argmax') return Number(r);
    return (r === null ? null : BigInt(r)) as Scalar;
  }

  private reduce(op: string, options: VarOptions | undefined): Scalar | NdArray {
    const time = this.timeArgs(op, options);
    if (time === null) return this.timeResult(op, native(() => this._s.native.reduceTime(op, [...this._shape], [...this._strides], this._offset)));
    if (time !== undefined) return NdArray._whole(new Storage(native(() => this._s.native.reduceTimeAxis(op, [...this._shape], [...this._strides], this._offset, time)), this._s.copied));
    const c = this.reduceArgs(op, options);
    // Small views only: the path takes no advice on mapped files (read-ahead, huge pages) that
    // the native array's path gives large ones.
    const small = this.size * this.itemsize <= SMALL_BYTES;
    const mem = small && c.dtype === undefined && c.mean === undefined && !c.release ? this._s.memory() : undefined;
    if (mem !== undefined) {
      // The small-call path: the memory itself, codes for op and dtype, and a small result
      // allocated here (see `Storage.small`).
      const code = REDUCE_OPS.indexOf(op);
      const dt = this._s.dcode;
      try {
        if (c.axis === null) return toScalar(binding.reduceMem(code, mem, this.viewArg(), dt, c.ddof), op, this.dtype, undefined);
        const axis = c.axis;
        const rc = reduceDtype(code, dt);
        const shape: number[] = [];
        let size = 1;
        for (let i = 0; i < this._shape.length; i++) {
          if (i !== axis) {
            shape.push(this._shape[i]!);
            size *= this._shape[i]!;
          }
        }
        if (size * DTYPE_INFOS[rc]!.itemsize <= SMALL_BYTES) {
          const st = Storage.small(rc, shape);
          binding.reduceAxisMem(code, mem, this.viewArg(), dt, axis, c.ddof, st.memory()!);
          return NdArray._whole(st);
        }
      } catch (e) {
        throw fromNative(e);
      }
    }
    const n = this._s.native;
    if (c.axis === null) return toScalar(native(() => n.reduceAll(op, this.viewArg(), c.dtype, c.ddof, c.release, c.mean)), op, this.dtype, c.dtype);
    const axis = c.axis;
    return NdArray._whole(new Storage(native(() => n.reduceAxis(op, this.viewArg(), axis, c.dtype, c.ddof, c.release, c.mean)), this._s.copied));
  }

  private async reduceAsync(op: string, options: VarOptions | undefined): Promise<Scalar | NdArray> {
    const time = this.timeArgs(op, options);
    if (time === null) return this.timeResult(op, await nativeAsync(() => this._s.native.reduceTimeAsync(op, [...this._shape], [...this._strides], this._offset)));
    if (time !== undefined) {
      const copied = this._s.copied;
      return NdArray._whole(new Storage(await nativeAsync(() => this._s.native.reduceTimeAxisAsync(op, [...this._shape], [...this._strides], this._offset, time)), copied));
    }
    const c = this.reduceArgs(op, options);
    const n = this._s.native;
    const view = this.viewArg();
    if (c.axis === null) return toScalar(await nativeAsync(() => n.reduceAllAsync(op, view, c.dtype, c.ddof, c.release, c.mean)), op, this.dtype, c.dtype);
    const axis = c.axis;
    const copied = this._s.copied;
    return NdArray._whole(new Storage(await nativeAsync(() => n.reduceAxisAsync(op, view, axis, c.dtype, c.ddof, c.release, c.mean)), copied));
  }

  /** Writes dirty pages to the file (msync). No-op in modes `'r'` and `'c'` and for in-memory arrays. */
  flush(): void {
    this._s.flush();
  }

  /** Unmaps now. Every view and TypedArray handed out is detached; later access throws `ERR_MMNPY_CLOSED`. Idempotent. */
  close(): void {
    this._data = undefined;
    this._s.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  [inspect.custom](): string {
    if (this.closed) return `NdArray <closed>`;
    const where = this.filename ? `, mode: '${this.mode}', file: ${JSON.stringify(this.filename)}` : '';
    const preview = this.size <= 20 ? `, ${inspect(this.toArray(), { depth: 8, breakLength: 120 })}` : '';
    return `NdArray(${this.dtype}, shape: [${this._shape.join(', ')}]${where}${preview})`;
  }
}

/** A scalar from the binding: float → number, bool → boolean, integer → bigint, complex → { re, im }. */
export type NativeScalar = number | boolean | bigint | Complex;

/** A native reduced scalar as the API returns it: bigint for 64-bit integer results, number otherwise. */
export function toScalar(r: NativeScalar, op: string, dtype: DType, requested: string | undefined): Scalar {
  if (typeof r !== 'bigint') return r;
  const wide = op === 'dot' ? dtype === 'int64' || dtype === 'uint64'
    : op === 'sum' || op === 'prod'
    ? requested === undefined || /^(int64|uint64|[<>=|]?[iu]8|[qQlL]|int|uint)$/.test(requested)
    : (op === 'min' || op === 'max') && (dtype === 'int64' || dtype === 'uint64');
  return wide ? r : Number(r);
}

/** A Promise-returning call whose synchronous errors (bad arguments, closed arrays) become rejections. */
export function settle<T>(f: () => Promise<T>): Promise<T> {
  try {
    return f();
  } catch (e) {
    return Promise.reject(e);
  }
}

/**
 * A scalar operand with NumPy 2's "weak" Python-scalar rules: an integral number acts as a
 * Python int (keeps an integer array's dtype, and must fit it), other numbers as a Python float.
 */
function scalarOperand(v: unknown, dtype: DType, op: string): ScalarIn {
  if (typeof v === 'boolean') return { kind: 'bool', value: v ? 1 : 0, im: 0, text: v ? '1' : '0' };
  if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) {
    const b = BigInt(v);
    const isInt = dtype !== 'bool' && !dtype.startsWith('float') && !dtype.startsWith('complex');
    // True division of an integer or bool array computes in float64: NumPy converts the Python int
    // to a double there, so `int8 / 300` is fine (no OverflowError).
    if (op === 'div' && (isInt || dtype === 'bool')) return { kind: 'float', value: Number(v), im: 0, text: '' };
    if (isInt) checkValue(dtype, typeof v === 'bigint' ? v : Number(v));
    // With a bool array a Python int is an int64 (NumPy: OverflowError beyond it).
    else if (dtype === 'bool') checkValue('int64', b);
    // With a float array any integer converts to the array's type, even beyond 64 bits (2 ** 70).
    else if (b < -(2n ** 63n) || b >= 2n ** 64n) return { kind: 'float', value: Number(v), im: 0, text: '' };
    return b < 0n || b <= 9223372036854775807n
      ? { kind: 'int', value: Number(v), im: 0, text: b.toString() }
      : { kind: 'uint', value: Number(v), im: 0, text: b.toString() };
  }
  if (typeof v === 'number') return { kind: 'float', value: v, im: 0, text: '' };
  if (v !== null && typeof v === 'object' && typeof (v as { re?: unknown }).re === 'number') {
    const c = v as { re: number; im: number };
    return { kind: 'complex', value: c.re, im: c.im, text: '' };
  }
  throw typeError(`an operand must be an NdArray, a number, a bigint, a boolean or { re, im }, got ${typeof v}`);
}
