/**
 * mmnpy: NumPy-grade memory-mapped arrays for Node.js.
 *
 * Open a `.npy` (or raw binary) file in microseconds, view it as an n-dimensional
 * array without copying, slice it, and write results out of core.
 *
 * @example
 * ```ts
 * import { loadNpy } from 'mmnpy';
 * const a = loadNpy('a.npy', { mmapMode: 'r' });   // maps, reads nothing yet
 * const row = a.slice(10);                         // a view of row 10
 * console.log(a.shape, row.get(-1));
 * a.close();                                       // unmaps now
 * ```
 */

/** Element types, by canonical name. Inputs also accept NumPy spellings: `'<f8'`, `'>i4'`, `'|u1'`, `'f4'`, `'i8'`, `'b1'`, `'c16'`, `'=f8'`, ... */
export type DType =
  | 'bool' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32'
  | 'int64' | 'uint64' | 'float16' | 'float32' | 'float64' | 'complex64' | 'complex128';

/** Byte order of the elements as stored: little (`<`), big (`>`), or not applicable (`|`, one-byte types). */
export type ByteOrder = '<' | '>' | '|';

/** `np.memmap` modes: read only, read-write (shared), create (shared), copy-on-write (private). */
export type MmapMode = 'r' | 'r+' | 'w+' | 'c';

/** Mode spellings accepted as input: the short ones and NumPy's long names. */
export type MmapModeInput = MmapMode | 'readonly' | 'readwrite' | 'write' | 'copyonwrite';

/** An index: a number, or a bigint for very large arrays. */
export type Index = number | bigint;

/** A complex element. */
export interface Complex { re: number; im: number }

/** What `get` returns: `number`; `bigint` for int64/uint64; `boolean` for bool; `Complex` for complex dtypes. */
export type Scalar = number | bigint | boolean | Complex;

/** Nested arrays, as `toArray()` returns them (a scalar for 0-d arrays). */
export type NestedArray = Scalar | null | string | Uint8Array | Date | { [field: string]: unknown } | NestedArray[];

/** The TypedArray classes `data` and `toTypedArray()` return. */
export type TypedArray =
  | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | BigInt64Array | BigUint64Array | Float32Array | Float64Array;

/** A path: a string, a `file:` URL, or a Buffer. */
export type PathLike = string | URL | Buffer;

/** Memory order: C (row-major) or Fortran (column-major). */
export type Order = 'C' | 'F' | 'row-major' | 'column-major';

/** `[start, stop, step]` of a slice; each may be `null` or left out, negative values count from the end. */
export type Range = [start?: number | null, stop?: number | null, step?: number | null];

/** One axis of a `slice`: a number selects (and drops the axis), `null` keeps it whole, a `Range` slices it. */
export type SliceSpec = number | null | Range;

/** NumPy's array flags. */
export interface Flags {
  cContiguous: boolean;
  fContiguous: boolean;
  /** False in mode `'r'`. */
  writeable: boolean;
  aligned: boolean;
  /** True only for whole in-memory arrays. */
  ownsData: boolean;
}

export interface RuntimeOptions {
  /**
   * Runtimes that refuse external ArrayBuffers (Electron's V8 memory cage) make mmnpy throw
   * `ERR_MMNPY_NO_EXTERNAL_BUFFERS`; with `allowCopy: true` it works on copied windows instead
   * (element access and `set` still reach the mapping; `data` is then a snapshot). A copied
   * window is taken again after any native call (a kernel, a write through another view), so
   * `get` always sees what kernels and other views wrote.
   */
  allowCopy?: boolean;
}

export interface LoadOptions extends RuntimeOptions {
  /**
   * Map the file in this mode instead of reading it into memory. `'w+'` is refused (NumPy would truncate the file).
   * `'r'` and `'c'` open files of any size, larger than RAM included; `'c'` takes memory only for the pages written
   * (see the README, "Files larger than memory", for strict overcommit accounting).
   */
  mmapMode?: MmapModeInput | null;
}

/**
 * A record dtype as an object, like NumPy's dict form: `formats` entries are dtype strings, nested
 * record specs, or `[format, shape]` for subarray fields. A list of `[name, format]` /
 * `[name, format, shape]` entries (NumPy's list form) and NumPy's spelling as a string
 * (`"[('id', '<i4'), ('x', '<f8')]"`) are accepted too.
 * @example openNpy('t.npy', { mode: 'w+', shape: [3], dtype: { names: ['id', 'x'], formats: ['<i4', '<f8'], offsets: [0, 8], itemsize: 16 } })
 */
export interface RecordSpec {
  names: readonly string[];
  formats: readonly (string | RecordSpec | readonly [string | RecordSpec, readonly number[]])[];
  offsets?: readonly number[];
  itemsize?: number;
}

/** Any dtype input: a numeric spelling, `'datetime64[ns]'`/`'<M8[ns]'`, `'bytes5'`/`'S5'`, `'str6'`/`'<U6'`, or a record. */
export type DTypeSpec = string | RecordSpec | readonly (readonly [string, string | RecordSpec] | readonly [string, string | RecordSpec, readonly number[]])[];

/** The name of a datetime64 / timedelta64 dtype: `'datetime64[ns]'`, `'timedelta64[2s]'`, `'datetime64'` (no unit). */
export type TimeDType = `datetime64${string}` | `timedelta64${string}`;
/** `bytes<N>` (NumPy `S<N>`, N bytes), `str<N>` (`U<N>`, N characters), `void<N>`. */
export type TextDType = `bytes${number}` | `str${number}` | `void${number}`;
/** A record dtype, reported in NumPy's spelling: `"[('id', '<i4'), ('x', '<f8')]"`. */
export type RecordDType = `[${string}`;

/** One field of a record dtype, as `NdArray.fields` lists them. */
export interface FieldInfo {
  name: string;
  /** The field's dtype name (`'float64'`, `'datetime64[ns]'`, `'str6'`, a nested record's spelling). */
  dtype: string;
  /** Byte offset inside the record. */
  offset: number;
  /** Subarray shape (`[]` for a scalar field). */
  shape: number[];
}

/** A record element as `get` returns it: fields by name; subarray fields as nested arrays, nested records as objects. */
export type RecordValue = { [field: string]: unknown };

export interface OpenOptions extends RuntimeOptions {
  /** Default `'r+'`. `'w+'` creates (or replaces) the file. */
  mode?: MmapModeInput;
  /** For `'w+'`: the dtype, default `'float64'`; datetimes, strings and records too (see `DTypeSpec`). */
  dtype?: DTypeSpec;
  /** For `'w+'`: the shape (required). */
  shape?: number | readonly number[];
  /** For `'w+'`: store in Fortran order. */
  fortranOrder?: boolean;
  /** For `'w+'`: the `.npy` format version; default as NumPy chooses. */
  version?: [number, number];
  /**
   * For `'w+'`: `fsync` the new file (header and size) and its folder before mapping it, so it exists under
   * its name after a power loss; data written later through the mapping reach the disk when `flush()`
   * returns (`msync(MS_SYNC)` waits for the disk). Default false.
   */
  durable?: boolean;
}

export interface MemmapOptions extends RuntimeOptions {
  /** Default `'uint8'`; datetimes, strings and records too (see `DTypeSpec`). */
  dtype?: DTypeSpec;
  /** Default `'r+'`. */
  mode?: MmapModeInput;
  /** Byte offset of the first element in the file (a bigint beyond 2^53 is refused). Default 0. */
  offset?: number | bigint;
  /** Default: as many whole elements as the file holds after `offset`. Required for `'w+'`. */
  shape?: number | readonly number[];
  /** Default `'C'`. */
  order?: Order;
  /**
   * For `'w+'`: `fsync` the new file (header and size) and its folder before mapping it, so it exists under
   * its name after a power loss; data written later through the mapping reach the disk when `flush()`
   * returns (`msync(MS_SYNC)` waits for the disk). Default false.
   */
  durable?: boolean;
}

export interface FromFileOptions extends RuntimeOptions {
  /** The element type (required); datetimes, strings and records too (see `DTypeSpec`). */
  dtype?: DTypeSpec;
  /** Elements to read; -1 (default) reads to the end. More than the file holds is an error. */
  count?: number;
  /** Byte offset to start at. Default 0. */
  offset?: number | bigint;
}

export interface SaveOptions {
  /** `.npy` format version; default 1.0 (as NumPy chooses). */
  version?: [number, number];
  /** For TypedArrays and nested arrays: the dtype to store (default: inferred); datetimes, strings and records take nested values (see `DTypeSpec`). */
  dtype?: DTypeSpec;
  /** For TypedArrays and nested arrays: the shape (default: inferred). */
  shape?: number | readonly number[];
  /**
   * `fsync` the new file and its folder before returning, so that after a power loss or an
   * operating-system crash the target is the old file or the complete new one. Without it the
   * write is atomic against crashes of the process (the target is never partial), as the rename
   * is; the data reaches the disk when the kernel writes it back.
   */
  durable?: boolean;
}

export interface ArrayOptions extends RuntimeOptions {
  dtype?: DTypeSpec;
  shape?: number | readonly number[];
}

export interface ChunkOptions {
  /** The axis to walk along; default 0, negative counts from the end. */
  axis?: number;
  /** Indices along `axis` per chunk. */
  rows?: number;
  /** Target bytes per chunk when `rows` is not given; default 64 MiB. */
  bytes?: number;
  /**
   * Release each block's pages once the loop moves past it (`madvise(MADV_DONTNEED)`), so a pass
   * over a file larger than RAM keeps a bounded RSS. Ignored in mode `'c'` and in memory.
   */
  release?: boolean;
}

/** Options of the reductions. */
export interface ReduceOptions {
  /** Reduce along this axis (negative counts from the end) into an in-memory `NdArray`; omitted or `null` reduces everything to a scalar. */
  axis?: number | null;
  /** The dtype to accumulate in and return (NumPy's `dtype=`), e.g. `'float64'` for a float32 array. */
  dtype?: string;
  /**
   * Streaming mode: release the pages the kernel has finished with (`madvise(MADV_DONTNEED)`) as it goes,
   * so one pass over a file larger than RAM keeps a bounded RSS (about 8 MiB per thread in flight). The
   * result is the same. Ignored in mode `'c'` and in memory; axis reductions that NumPy accumulates row by
   * row outside `float32`/`float64`/`int64` sum/min/max release only at the end.
   */
  release?: boolean;
}

/** Options of `var` and `std`. */
export interface VarOptions extends ReduceOptions {
  /** Delta degrees of freedom: the divisor is `n - ddof`. Default 0. */
  ddof?: number;
  /**
   * The mean, known already (NumPy 2's `mean=`), so it is not computed again: `a.std({ mean: a.mean() })`
   * reads the data once instead of twice and gives the same result as `a.std()`. A number or `{ re, im }`
   * acts as a Python scalar (`x - mean` in the array's own float dtype); an `NdArray` (float or complex, of the
   * result's shape, or with the reduced axis kept as 1) promotes with the array as NumPy does.
   */
  mean?: number | Complex | NdArray;
}

/** Options of `dot`. */
export interface DotOptions {
  /**
   * Streaming mode: release the left operand's pages behind the kernel, block of rows by block of rows, so a
   * matrix larger than RAM is multiplied with a bounded RSS. The result is the same. Ignored in mode `'c'` and
   * in memory.
   */
  release?: boolean;
}

/** Options of elementwise operations. */
export interface OutOptions {
  /** Write the result here (any writable view of the result's shape; may be an operand itself) instead of a new in-memory array. */
  out?: NdArray;
}

/** What `assign` takes: an array, a scalar (`[re, im]` for complex too), nested arrays or a TypedArray. */
export type AssignSource = NdArray | Scalar | [number, number] | NestedArray | TypedArray;

/** Options of `assign`. */
export interface AssignOptions {
  /**
   * Streaming mode: release the pages of both views behind the copy, so a destination (or source) larger
   * than RAM is written with a bounded resident set. The file keeps every value. Ignored in mode `'c'` and in memory.
   */
  release?: boolean;
}

/** A shape: one length or a list of lengths. */
export type Shape = number | readonly number[];

/** Options of `zeros`, `ones`, `empty`, `full`. */
export interface ConstructOptions {
  /** Any dtype spelling (default `'float64'`; for `full`, the value's type). */
  dtype?: string;
  /** Memory order (default `'C'`). */
  order?: Order;
}

/** Options of `arange`. */
export interface ArangeOptions {
  /** Default: int64 when every bound is an integer (a bigint or an integral number), else float64. */
  dtype?: string;
}

/** Options of `linspace`. */
export interface LinspaceOptions {
  /** Whether `stop` is the last sample (default true). */
  endpoint?: boolean;
  /** Default float64; integer dtypes take the floor of the float64 values, as NumPy. */
  dtype?: string;
}

/** Options of `any` and `all`. */
export interface AxisOptions {
  /** Reduce along this axis (negative counts from the end) into a bool array; omitted or null: all elements, a boolean. */
  axis?: number | null;
}

/** Options of `compress` (`a[mask]`). */
export interface CompressOptions extends OutOptions {
  /** Select along this axis with a 1-D mask (NumPy's `compress(mask, a, axis)`); omitted: `a[mask]`, the mask of `a`'s leading axes. */
  axis?: number | null;
  /**
   * Streaming mode: release the pages of the mask, the array and `out` behind the two passes, so a mask over a
   * file larger than RAM selects into an `openNpy('w+')` `out` with a bounded resident set. Ignored with `axis`.
   */
  release?: boolean;
}

/** Options of `take`. */
export interface TakeOptions extends OutOptions {
  /** Take along this axis; omitted or null: from the flattened array (the result has the indices' shape). */
  axis?: number | null;
  /** Indices outside `[-n, n)`: `'raise'` (default: `ERR_MMNPY_OUT_OF_RANGE`), `'wrap'` (modulo n) or `'clip'` (to `[0, n-1]`; negative indices become 0). */
  mode?: 'raise' | 'wrap' | 'clip';
}

/** What `take` takes as indices: an integer (or bool) array, nested arrays, a TypedArray, or one index. */
export type IndexSource = NdArray | NestedArray | TypedArray | number | bigint;

/** Options of `concatenate` and `stack`. */
export interface JoinOptions extends OutOptions {
  /** The axis to join along (default 0; negative counts from the end); `null` flattens every array first (`concatenate` only). */
  axis?: number | null;
  /** Streaming mode: release the pages of the sources and `out` behind the copy, for files larger than RAM. */
  release?: boolean;
}

/** What `any`/`all` return: a bool `NdArray` along an axis, else a boolean. */
export type Truth<O> = O extends { axis: number } ? NdArray : boolean;

/** Options of `arrayEqual`. */
export interface ArrayEqualOptions {
  /** NaN equals NaN at the same place (complex: either part NaN). Default false. */
  equalNan?: boolean;
}

/** Options of `allclose`. */
export interface CloseOptions {
  /** Relative tolerance (default 1e-5). */
  rtol?: number;
  /** Absolute tolerance (default 1e-8; 0 for float16 `b`, where NumPy rounds it to half). */
  atol?: number;
  /** NaN is close to NaN. Default false. */
  equalNan?: boolean;
}

/** Options of `isclose`. */
export interface IsCloseOptions extends CloseOptions, OutOptions {}

/** An operand of the array comparisons: an array, or what `array()` takes, or a scalar. */
export type Comparable = NdArray | NestedArray | TypedArray | Scalar;

/** What a reduction returns: an `NdArray` when an axis is given, else a scalar. */
export type Reduced<O> = O extends { axis: number } ? NdArray : Scalar;

/**
 * The error class of mmnpy. `code` is stable: `ERR_MMNPY_BAD_MAGIC`, `ERR_MMNPY_BAD_VERSION`,
 * `ERR_MMNPY_BAD_HEADER`, `ERR_MMNPY_BAD_SHAPE`, `ERR_MMNPY_UNSUPPORTED_DTYPE`, `ERR_MMNPY_TRUNCATED`,
 * `ERR_MMNPY_IO`, `ERR_MMNPY_INVALID_ARG`, `ERR_MMNPY_CLOSED`, `ERR_MMNPY_READONLY`,
 * `ERR_MMNPY_NOT_CONTIGUOUS`, `ERR_MMNPY_TOO_LARGE`, `ERR_MMNPY_BYTE_ORDER`, `ERR_MMNPY_MISALIGNED`,
 * `ERR_MMNPY_NO_EXTERNAL_BUFFERS`, `ERR_MMNPY_BAD_SPARSE` (a sparse matrix whose parts disagree),
 * `ERR_MMNPY_BAD_PICKLE` (a malformed joblib file or pickle stream), `ERR_MMNPY_UNSAFE_PICKLE` (a pickle naming a
 * global outside mmnpy's whitelist), `ERR_MMNPY_UNSUPPORTED_COMPRESSION`, `ERR_MMNPY_NO_MEMORY` (a mapping the kernel will not reserve, e.g. `'c'` under
 * strict overcommit accounting; the message says what to do), `ERR_MMNPY_VALUE_TOO_LONG` (a string longer than its
 * `bytes<N>`/`str<N>` dtype), `ERR_MMNPY_INVALID_STRING` (a `str` element that is not valid UTF-32, or a lone
 * surrogate to store), `ERR_MMNPY_PRECISION` (a `Date` or ISO string a datetime unit cannot hold exactly, or the
 * reverse). The message names the file and the problem.
 * Indices out of range throw `RangeError` (code `ERR_MMNPY_OUT_OF_RANGE`) instead.
 */
export declare class MmnpyError extends Error {
  readonly code: string;
  /** The errno name (`'ENOENT'`) when the operating system refused. */
  readonly errno?: string;
  constructor(code: string, message: string, errno?: string);
}

/**
 * An n-dimensional array over a mapped file or in-memory memory. Views (`slice`, `transpose`,
 * `reshape`, `chunks`) share the memory; nothing is copied unless a method says so.
 */
/**
 * What `get` returns for any dtype: a `Scalar` for numbers, `bigint` ticks or `null` (NaT) for
 * datetimes, `Uint8Array` for `bytes<N>`/`void<N>`, `string` for `str<N>`, a `RecordValue` for records.
 */
export type ElementValue = Scalar | null | string | Uint8Array | RecordValue;

export declare class NdArray {
  private constructor();
  /** Canonical element type: a numeric `DType`, or a datetime, text or record dtype's name. */
  readonly dtype: DType | TimeDType | TextDType | RecordDType;
  /** Byte order as stored (a `'>f8'` file stays big-endian; values read and written are still correct). */
  readonly byteOrder: ByteOrder;
  readonly shape: readonly number[];
  /** Bytes between neighbours along each axis, like NumPy's (negative for reversed views). */
  readonly strides: readonly number[];
  readonly ndim: number;
  /** Number of elements. */
  readonly size: number;
  /** Bytes per element. */
  readonly itemsize: number;
  /** Bytes of all elements. */
  readonly nbytes: number;
  /** The mapping mode, or `null` for in-memory arrays. */
  readonly mode: MmapMode | null;
  /** Absolute path of the file, or `null`. */
  readonly filename: string | null;
  /** Byte offset of the first element in the file. */
  readonly offset: number;
  readonly flags: Flags;
  /** Whether `close()` was called on this array or any view of its memory. */
  readonly closed: boolean;

  /**
   * One element; negative indices count from the end; out of range throws `RangeError`.
   * Datetimes give their ticks as a `bigint` (`null` for NaT); `bytes<N>` a `Uint8Array` and `str<N>` a
   * `string`, trailing NULs removed as NumPy does (a `str` element that is not valid UTF-32 throws
   * `ERR_MMNPY_INVALID_STRING` naming the index); records a plain object.
   * @example a.get(0, -1)  rec.get(0)  // { id: 1, x: 2.5, pos: [[0, 1], [2, 3]] }
   */
  get(...index: Index[]): ElementValue;

  /**
   * Sets one element: the value comes last. Throws on mode `'r'` ("assignment destination is read-only"),
   * for integers out of the dtype's range and for fractional values into integer dtypes (NumPy would truncate).
   * Datetimes take a `bigint`, a `Date`, an ISO-8601 string or `null` (NaT), and throw `ERR_MMNPY_PRECISION`
   * where the unit cannot hold the value exactly; strings longer than the dtype throw `ERR_MMNPY_VALUE_TOO_LONG`
   * (NumPy truncates); a record takes an object with every field.
   * @example a.set(0, -1, 3.5); c.set(2, { re: 1, im: -1 }); t.set(0, '2024-05-06T07:08:09.123456789'); rec.set(0, { id: 1, x: 2.5 })
   */
  set(...args: [...index: Index[], value: ElementValue | Date | [number, number]]): void;

  /** The fields of a record array in order, `{ name, dtype, offset, shape }`; `null` for other dtypes. */
  readonly fields: FieldInfo[] | null;

  /**
   * One field of a record array as a zero-copy strided view: the compute kernels, `chunks()` and
   * `get`/`set` work on it as on any view. A subarray field adds its axes after the array's.
   * @example const x = rec.field('x'); x.mean(); rec.field('pos').get(0, 1, 1)
   */
  field(name: string): NdArray;

  /** A datetime64 element as a `Date` (`null` for NaT); throws `ERR_MMNPY_PRECISION` where a Date cannot hold it exactly. */
  dateAt(...index: Index[]): Date | null;

  /** Every element of a datetime64 array as a `Date` (`null` for NaT), nested like `toArray()`; throws where one cannot be exact. */
  toDates(): NestedArray;

  /**
   * NumPy basic indexing as a view, no copy. One spec per axis (missing trailing axes are kept whole),
   * or one string for all axes, with `...` for the remaining axes.
   * @example a.slice(0)  a.slice(null, [1, null, -2])  a.slice('10:20, ::-2')  a.slice('..., 0')
   */
  slice(...specs: (SliceSpec | string)[]): NdArray;

  /** Permutes the axes (reverses them by default), as a view. */
  transpose(...axes: (number | number[])[]): NdArray;

  /** The transposed view. */
  readonly T: NdArray;

  /**
   * A view with a new shape (one dimension may be -1). Where the memory layout does not allow a view,
   * it throws `ERR_MMNPY_NOT_CONTIGUOUS` rather than copying silently.
   * @example a.reshape(2, -1)  a.reshape([3, 4])
   */
  reshape(...shape: (number | number[])[]): NdArray;

  /**
   * A zero-copy TypedArray over the elements of a contiguous array, in memory order
   * (`BigInt64Array` for int64, `Uint16Array` of raw bits for float16, interleaved re/im for complex,
   * `Uint8Array` for bool). Writes follow the mode: persisted in `'r+'`/`'w+'`, private in `'c'`,
   * never reaching the file in `'r'`. Throws, naming `chunks()`, for strided views, arrays larger than
   * one ArrayBuffer (4 GiB on Node 20), non-native byte order and unaligned data.
   */
  readonly data: TypedArray;

  /**
   * Views of consecutive blocks along `axis`; works for arrays of any size.
   * @example for (const block of a.chunks({ bytes: 256 * 2 ** 20 })) total += sum(block.data)
   */
  chunks(options?: ChunkOptions): Generator<NdArray, void, undefined>;

  /**
   * Tells the kernel how this view's memory will be used: `'sequential'` (read ahead, drop behind),
   * `'willneed'` (start reading it in), `'populate'` (fault it all in now), `'release'` (drop its pages
   * from this process's memory; the file keeps the data; ignored in mode `'c'` and in memory).
   */
  advise(hint: 'sequential' | 'willneed' | 'populate' | 'release'): void;

  /** Nested JavaScript arrays (a scalar for 0-d), like NumPy's `tolist()`. */
  toArray(): NestedArray;

  /** A copied TypedArray of the elements, in C order and this machine's byte order. */
  toTypedArray(): TypedArray;

  /** An in-memory C-order copy (same dtype and byte order). */
  copy(): NdArray;

  /**
   * Sum, in Rust over the mapped memory (SIMD-friendly loops, all cores), with NumPy's rules:
   * integers and bools accumulate in 64 bits and wrap (result `bigint`), float32 stays float32,
   * float16 accumulates in float32, floats use NumPy's pairwise summation.
   * @example a.sum()  a.sum({ axis: 0 })  f32.sum({ dtype: 'float64' })
   */
  sum<O extends ReduceOptions = ReduceOptions>(options?: O): Reduced<O>;
  /** Product (sequential, as NumPy; integers wrap in 64 bits). */
  prod<O extends ReduceOptions = ReduceOptions>(options?: O): Reduced<O>;
  /** Mean: float64 for integer input, else the input's float type. NaN for empty arrays. */
  mean<O extends ReduceOptions = ReduceOptions>(options?: O): Reduced<O>;
  /** Variance `mean(abs(x - mean)**2)` with divisor `n - ddof`, computed without a temporary array. */
  var<O extends VarOptions = VarOptions>(options?: O): Reduced<O>;
  /** Standard deviation, `sqrt(var)`. */
  std<O extends VarOptions = VarOptions>(options?: O): Reduced<O>;
  /**
   * Minimum (NaN propagates; empty arrays throw). `bigint` for int64/uint64. Datetimes and timedeltas
   * (also `max`, `argmin`, `argmax`, and `sum`/`mean` of timedeltas) follow NumPy's NaT rules, with or
   * without `axis`: ticks as a `bigint` (`null` for NaT), or an array of the same dtype along an axis.
   * @example times.max({ axis: 0 })   // datetime64 array, NaT where a column holds one
   */
  min<O extends ReduceOptions = ReduceOptions>(options?: O): Reduced<O>;
  /** Maximum (NaN propagates; empty arrays throw). `bigint` for int64/uint64. */
  max<O extends ReduceOptions = ReduceOptions>(options?: O): Reduced<O>;
  /** Flat C-order index of the first minimum (of the first NaN, if any). */
  argmin<O extends ReduceOptions = ReduceOptions>(options?: O): Reduced<O>;
  /** Flat C-order index of the first maximum (of the first NaN, if any). */
  argmax<O extends ReduceOptions = ReduceOptions>(options?: O): Reduced<O>;
  /** `sum` off the JavaScript thread; the memory stays mapped until it ends, even if `close()` is called meanwhile. */
  sumAsync<O extends ReduceOptions = ReduceOptions>(options?: O): Promise<Reduced<O>>;
  prodAsync<O extends ReduceOptions = ReduceOptions>(options?: O): Promise<Reduced<O>>;
  meanAsync<O extends ReduceOptions = ReduceOptions>(options?: O): Promise<Reduced<O>>;
  varAsync<O extends VarOptions = VarOptions>(options?: O): Promise<Reduced<O>>;
  stdAsync<O extends VarOptions = VarOptions>(options?: O): Promise<Reduced<O>>;
  minAsync<O extends ReduceOptions = ReduceOptions>(options?: O): Promise<Reduced<O>>;
  maxAsync<O extends ReduceOptions = ReduceOptions>(options?: O): Promise<Reduced<O>>;
  argminAsync<O extends ReduceOptions = ReduceOptions>(options?: O): Promise<Reduced<O>>;
  argmaxAsync<O extends ReduceOptions = ReduceOptions>(options?: O): Promise<Reduced<O>>;

  /**
   * `this + other` elementwise, in Rust over the mapped memory. `other` is an array (broadcast like
   * NumPy: e.g. a row or a column vector) or a scalar; types promote as in NumPy 2, where an integral
   * JavaScript number acts as a Python int (keeps an integer array's dtype and must fit it).
   * Returns a new in-memory array, or `out` (cast with NumPy's 'same_kind' rule).
   * @example a.sub(a.mean({ axis: 0 }), { out: a })   // centre columns in place
   */
  add(other: NdArray | Scalar, options?: OutOptions): NdArray;
  /** `this - other` elementwise (see `add`). */
  sub(other: NdArray | Scalar, options?: OutOptions): NdArray;
  /** `this * other` elementwise (see `add`). */
  mul(other: NdArray | Scalar, options?: OutOptions): NdArray;
  /** `this / other` elementwise, true division: integer arrays give float64 (see `add`). */
  div(other: NdArray | Scalar, options?: OutOptions): NdArray;
  addAsync(other: NdArray | Scalar, options?: OutOptions): Promise<NdArray>;
  subAsync(other: NdArray | Scalar, options?: OutOptions): Promise<NdArray>;
  mulAsync(other: NdArray | Scalar, options?: OutOptions): Promise<NdArray>;
  divAsync(other: NdArray | Scalar, options?: OutOptions): Promise<NdArray>;
  /**
   * Matrix and vector products like `np.dot` (1-D and 2-D operands, any dtypes, views and byte orders):
   * vector·vector gives a scalar, matrix·vector and matrix·matrix a new in-memory array. A mapped
   * left operand larger than RAM is read in blocks of rows, never copied whole; with `{ release: true }` its
   * pages are also released behind, so the resident set stays bounded.
   */
  dot(other: NdArray, options?: DotOptions): Scalar | NdArray;
  dotAsync(other: NdArray, options?: DotOptions): Promise<Scalar | NdArray>;
  /**
   * `a[...] = src`, NumPy's setitem: `src` is broadcast to this view's shape and cast as NumPy's setitem
   * casts: a float into an integer view truncates toward zero (`2.9` -> 2), and a scalar or list element
   * converts like a Python scalar (out of the dtype's range: `RangeError`, NumPy's OverflowError). Float
   * arrays holding NaN or values beyond an integer dtype's range, undefined in NumPy (platform-dependent
   * values and a warning), saturate here (NaN gives 0). Correct when `src` overlaps this view; any dtype,
   * byte order, strided and negative-step views; mode `'r'` throws `ERR_MMNPY_READONLY`. Returns this view.
   * @example f.slice(null, i).assign(n)          // f[:, i] = n
   * @example a.slice(i).assign(i)                // a[i, :] = i
   * @example out.assign(big, { release: true })  // out[...] = big, larger than RAM
   */
  assign(src: AssignSource, options?: AssignOptions): this;
  assignAsync(src: AssignSource, options?: AssignOptions): Promise<this>;
  /**
   * Elementwise comparisons into a bool array (NumPy broadcasting; into `out` when given): integers and bools
   * compare exactly whatever their signedness (int64 with uint64 too, and with scalars of any size:
   * `int8.less(300)` is all true); anything with a float compares in NumPy's promoted type (int64 with float64
   * in float64, as NumPy does); scalars follow NumPy 2's weak rules (`float32.equal(0.1)` compares float32(0.1));
   * complex numbers order lexicographically. NaN compares unequal to everything.
   * @example const mask = a.greater(0)          // a > 0
   */
  equal(other: NdArray | Scalar, options?: OutOptions): NdArray;
  notEqual(other: NdArray | Scalar, options?: OutOptions): NdArray;
  less(other: NdArray | Scalar, options?: OutOptions): NdArray;
  lessEqual(other: NdArray | Scalar, options?: OutOptions): NdArray;
  greater(other: NdArray | Scalar, options?: OutOptions): NdArray;
  greaterEqual(other: NdArray | Scalar, options?: OutOptions): NdArray;
  equalAsync(other: NdArray | Scalar, options?: OutOptions): Promise<NdArray>;
  notEqualAsync(other: NdArray | Scalar, options?: OutOptions): Promise<NdArray>;
  lessAsync(other: NdArray | Scalar, options?: OutOptions): Promise<NdArray>;
  lessEqualAsync(other: NdArray | Scalar, options?: OutOptions): Promise<NdArray>;
  greaterAsync(other: NdArray | Scalar, options?: OutOptions): Promise<NdArray>;
  greaterEqualAsync(other: NdArray | Scalar, options?: OutOptions): Promise<NdArray>;
  /** Elementwise NaN test, a bool array (integers: false; complex: either part NaN). @example a.isnan().any() */
  isnan(options?: OutOptions): NdArray;
  /** Elementwise finiteness, a bool array (integers: true; complex: both parts finite). */
  isfinite(options?: OutOptions): NdArray;
  isnanAsync(options?: OutOptions): Promise<NdArray>;
  isfiniteAsync(options?: OutOptions): Promise<NdArray>;
  /**
   * Whether any element is non-zero (NaN counts as true), like NumPy's `any()`: a boolean, or along `axis` a bool array.
   * @example a.isnan().any()
   */
  any<O extends AxisOptions = AxisOptions>(options?: O): Truth<O>;
  /** Whether every element is non-zero, like NumPy's `all()`. @example a.greater(0).all({ axis: 1 }) */
  all<O extends AxisOptions = AxisOptions>(options?: O): Truth<O>;
  anyAsync<O extends AxisOptions = AxisOptions>(options?: O): Promise<Truth<O>>;
  allAsync<O extends AxisOptions = AxisOptions>(options?: O): Promise<Truth<O>>;
  /**
   * `a[mask]`, NumPy's boolean indexing: the elements (or, for a mask of fewer axes, the sub-arrays) of `a` where
   * `mask` is true, in C order; a mask of `a`'s shape gives a 1-D array. Any dtype as mask (true: non-zero, NaN
   * included). The result keeps `a`'s dtype and byte order; a mask may be a mapped `bool` file. Two parallel passes
   * (count, then fill), so with `out` (of shape `(count, ...)`, any dtype: values cast as `astype`) and
   * `{ release: true }` a mask over a file larger than RAM selects with bounded memory. With `{ axis }` it is
   * NumPy's `compress(mask, a, axis)` (a 1-D mask along that axis).
   * @example const pos = a.compress(a.greater(0))                 // a[a > 0]
   * @example rows.compress(keep, { axis: 0 })                     // np.compress(keep, rows, axis=0)
   * @example a.compress(m, { out: openNpy('sel.npy', { mode: 'w+', dtype: a.dtype, shape: [count] }), release: true })
   */
  compress(mask: Comparable, options?: CompressOptions): NdArray;
  compressAsync(mask: Comparable, options?: CompressOptions): Promise<NdArray>;
  /**
   * NumPy's `take(a, indices, axis, mode)`: elements (along `axis`: sub-arrays) at `indices`, negative indices
   * counting from the end; out-of-range indices throw `ERR_MMNPY_OUT_OF_RANGE` (`RangeError`) unless `mode` is
   * `'wrap'` or `'clip'`. Keeps `a`'s dtype and byte order; into `out` when given.
   * @example a.take([0, -1])                                      // first and last of the flattened array
   * @example m.take(new Int32Array([2, 0]), { axis: 1 })           // columns 2 and 0
   */
  take(indices: IndexSource, options?: TakeOptions): NdArray;
  takeAsync(indices: IndexSource, options?: TakeOptions): Promise<NdArray>;
  /** NumPy's `nonzero()`: one int64 array per axis with the indices of the non-zero elements (C order); 0-d arrays throw, as in NumPy 2. @example const [rows, cols] = m.greater(0).nonzero() */
  nonzero(): NdArray[];
  nonzeroAsync(): Promise<NdArray[]>;
  /** NumPy's `argwhere()`: the indices of the non-zero elements as one `(count, ndim)` int64 array. @example a.isnan().argwhere() */
  argwhere(): NdArray;
  argwhereAsync(): Promise<NdArray>;
  /** Sets every element to `value` (checked like `set`). */
  fill(value: Scalar | [number, number]): void;
  fillAsync(value: Scalar | [number, number]): Promise<void>;
  /**
   * A copy converted to `dtype` (NumPy's `astype`: an unsafe cast), or the conversion written into `out`,
   * e.g. an array from `openNpy(path, { mode: 'w+', dtype: 'float32', shape })`, out of core.
   */
  astype(dtype: string, options?: OutOptions): NdArray;
  astypeAsync(dtype: string, options?: OutOptions): Promise<NdArray>;

  /**
   * Writes dirty pages to the file (msync); nothing to write in `'r'`, `'c'` and in memory. In every mapped
   * mode it first checks that no other process truncated the file while mapped (`ERR_MMNPY_TRUNCATED`:
   * touching the lost pages would end the process with `SIGBUS`, as for every mmap user).
   */
  flush(): void;

  /**
   * Unmaps now. Every view and TypedArray handed out becomes detached (length 0); later access throws
   * `ERR_MMNPY_CLOSED`; the process never crashes. Idempotent. Native work still running keeps the
   * memory mapped until it ends.
   */
  close(): void;

  /** `using a = loadNpy(...)` closes at the end of the scope. */
  [Symbol.dispose](): void;
}

/**
 * Like `np.load(path, mmap_mode=...)`. With `mmapMode` the file is mapped (`'r'`, `'r+'`, `'c'`);
 * without it the array is read into memory. `.npy` versions 1.0, 2.0 and 3.0.
 * @example const a = loadNpy('a.npy', { mmapMode: 'c' })
 */
export declare function loadNpy(path: PathLike, options?: LoadOptions): NdArray;

/**
 * Like `np.lib.format.open_memmap`: maps a `.npy` file (default mode `'r+'`). Mode `'w+'` creates it,
 * zero-filled and allocated sparsely, in O(1) whatever its size; an existing file is replaced (a new
 * file renamed over it), never truncated under arrays that still map it.
 * @example const out = openNpy('out.npy', { mode: 'w+', dtype: 'float32', shape: [1e6, 128] })
 */
export declare function openNpy(path: PathLike, options?: OpenOptions): NdArray;

/**
 * Like `np.memmap`: maps a raw binary file. A file shorter than `offset` + the shape is an error in
 * every mode (NumPy silently extends it in `'r+'`).
 * @example const m = memmap('raw.bin', { dtype: '>i2', offset: 512, shape: [100, 64], mode: 'r' })
 */
export declare function memmap(path: PathLike, options?: MemmapOptions): NdArray;

/**
 * Like `np.fromfile`: reads `count` elements of `dtype` from `offset` into memory.
 * @example const rows = fromFile('ticks.bin', { dtype: { names: ['t', 'px'], formats: ['<M8[ns]', '<f8'] } })
 */
export declare function fromFile(path: PathLike, options?: FromFileOptions): NdArray;

/**
 * Like `np.save`: writes a `.npy` file atomically (temporary file beside it, then rename) with a header
 * byte-identical to NumPy's. `array` is an `NdArray` (any view; byte order kept; Fortran order when the
 * view is Fortran- and not C-contiguous), a TypedArray, or nested arrays (`{ dtype }` chooses the type).
 * @example saveNpy('x.npy', [[1, 2], [3, 4]], { dtype: 'int32' })
 */
export declare function saveNpy(path: PathLike, array: NdArray | ArrayBufferView | NestedArray, options?: SaveOptions): void;

/**
 * Like `np.array`: an in-memory `NdArray` holding a copy of a TypedArray or nested arrays.
 * Without `dtype`: bool for booleans, int64 for integers and bigints, complex128 for `{ re, im }`, else float64.
 */
export declare function array(data: ArrayBufferView | NestedArray, options?: ArrayOptions): NdArray;

/** Options of `loadNpz`. */
export interface NpzLoadOptions extends RuntimeOptions {
  /**
   * `'r'` or `'c'`: stored (uncompressed) members are mapped zero-copy at their offset inside the archive
   * (NumPy ignores `mmap_mode` for `.npz`). `'r+'`/`'w+'` are refused (`ERR_MMNPY_UNSUPPORTED_MODE`): a write
   * would break the member's CRC. Deflated members, and every member without a mode, are read into memory.
   */
  mmapMode?: MmapModeInput | null;
}

/** Options of `saveNpz`. */
export interface SaveNpzOptions {
  /** `true` (level 6, like `np.savez_compressed`) or a deflate level 1..9; default stored, like `np.savez`. */
  compress?: boolean | number;
  /** `fsync` the archive and its folder before returning (see `SaveOptions.durable`). */
  durable?: boolean;
}

/**
 * An open `.npz` archive (NumPy's `NpzFile`). Members are read when asked for. Member names are
 * keys, never paths: nothing is extracted. Closing the archive closes every array taken from it.
 * @example
 * ```ts
 * using z = loadNpz('data.npz', { mmapMode: 'r' });
 * for (const [name, a] of z) console.log(name, a.shape);
 * ```
 */
export declare class NpzFile implements Iterable<[string, NdArray]> {
  /** Member names without `.npy`, like NumPy's `files` (`arr_0`, `arr_1`, ... for positional arrays). */
  readonly files: readonly string[];
  /** Absolute path of the archive. */
  readonly filename: string;
  /** The mode stored members are mapped in, or `null` when members are read into memory. */
  readonly mmapMode: MmapMode | null;
  /** Whether `close()` has been called. */
  readonly closed: boolean;
  /** Whether member `name` (with or without `.npy`) exists. @example z.has('x') */
  has(name: string): boolean;
  /**
   * Member `name` (with or without `.npy`) as an `NdArray`: a stored member with `mmapMode` is mapped in
   * place (its `data` throws `ERR_MMNPY_MISALIGNED` when NumPy wrote it at an unaligned offset: use `get`,
   * kernels or `toTypedArray()`); otherwise read into memory with its CRC checked. Each call gives a new
   * array. A missing member is `ERR_MMNPY_NOT_FOUND`.
   * @example const x = z.get('x'); console.log(x.sum())
   */
  get(name: string): NdArray;
  /** `[name, array]` for every member, in archive order; deflated members are inflated several at a time in parallel. @example const all = new Map(z) */
  [Symbol.iterator](): IterableIterator<[string, NdArray]>;
  /** Closes the archive's file and every array taken from it (their views and TypedArrays are detached). Idempotent. */
  close(): void;
  /** `using z = loadNpz(...)` closes at the end of the scope. */
  [Symbol.dispose](): void;
}

/**
 * Like `np.load('x.npz', mmap_mode=...)`: opens an archive written by `np.savez`, `np.savez_compressed`,
 * `saveNpz` or another zip writer (ZIP64, data descriptors). Malformed archives (truncated, overlapping or
 * disagreeing headers, CRC mismatch, zip bombs, encryption, unknown methods) are `ERR_MMNPY_*` errors.
 * @example const z = loadNpz('data.npz', { mmapMode: 'r' }); const w = z.get('weights')
 */
export declare function loadNpz(path: PathLike, options?: NpzLoadOptions): NpzFile;

/**
 * Like `np.savez` (stored) or `np.savez_compressed` (`{ compress: true }`): writes one member `name.npy`
 * per entry of `arrays` (a plain object or a `Map`; values as `saveNpy` takes them), atomically. Stored
 * members' data start on a 64-byte boundary, so `loadNpz` maps them with aligned `data`; one large member
 * is deflated in parallel. NumPy, Python's `zipfile` and `unzip` read the archive.
 * @example saveNpz('out.npz', { x, y: new Float32Array([1, 2]) }, { compress: true })
 */
export declare function saveNpz(
  path: PathLike,
  arrays: Record<string, NdArray | ArrayBufferView | NestedArray> | Map<string, NdArray | ArrayBufferView | NestedArray>,
  options?: SaveNpzOptions,
): void;

/**
 * A value in a joblib file, as `load` returns it and `dump` takes it. Python `dict` ↔ plain object (a `Map`
 * when a key is not a str); `list` and `tuple` → `Array` (arrays dump as lists; as a `Map` key or `Set`
 * element, as tuples); `set`/`frozenset` ↔ `Set`; `str` ↔ `string`; `int` ↔ `number` (`bigint` beyond
 * ±2^53; a `number` with a fraction, `-0`, `NaN` or ±`Infinity` dumps as `float`); `float` → `number`;
 * `bool` ↔ `boolean`; `None` ↔ `null`; `bytes`/`bytearray` ↔ `Uint8Array` (also `ArrayBuffer`, `DataView`
 * and `Buffer`); `complex` → `{ re, im }`; NumPy scalars → `number`/`bigint`/`boolean`/`{ re, im }` as the
 * int/float/bool/complex they hold; `numpy.dtype` → its string (`'<f8'`); `numpy.ndarray` ↔ `NdArray`
 * (other TypedArrays dump as 1-D arrays). Objects referenced twice stay one object, cycles included.
 */
export type JoblibValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | Complex
  | NdArray
  | JoblibValue[]
  | { [key: string]: JoblibValue }
  | Map<JoblibValue, JoblibValue>
  | Set<JoblibValue>;

/** Options of `load`. */
export interface JoblibLoadOptions extends RuntimeOptions {
  /**
   * Map every array of an uncompressed file in this mode (`np.memmap` in Python): `'r'`, `'c'`, `'r+'`
   * (writes reach the file); `'w+'` acts as `'r+'` (as joblib: the file is never truncated). Arrays of a
   * compressed file are read into memory whatever the mode (joblib does the same). Without a mode, arrays
   * are read into memory in this machine's byte order (joblib's `ensure_native_byte_order`).
   */
  mmapMode?: MmapModeInput | null;
}

/** Options of `dump`. */
export interface DumpOptions {
  /**
   * `true` (level 3, joblib's default) or a zlib level 1..9, compressed in parallel into one zlib stream
   * that `joblib.load` reads; `0`/`false` (default): uncompressed, arrays mappable by `joblib.load(mmap_mode=)`.
   */
  compress?: boolean | number;
  /** `fsync` the file and its folder before returning (see `SaveOptions.durable`). */
  durable?: boolean;
}

/**
 * Like `joblib.load(path, mmap_mode=...)`: reads what Python's `joblib.dump` wrote (pickle protocols 2 to 5;
 * with or without joblib's alignment padding; uncompressed or zlib/gzip/bz2/xz/lzma/lz4-compressed) or what
 * `dump` wrote. With `mmapMode`, each array of an uncompressed file is an `NdArray` mapped zero-copy at its
 * offset in the file, in its byte and memory order. The pickle is interpreted by a restricted machine that
 * never runs code: a global outside NumPy arrays, dtypes and scalars, builtin containers and joblib's array
 * wrapper (a pandas DataFrame, a scikit-learn model, `os.system`) is `ERR_MMNPY_UNSAFE_PICKLE` naming it; a
 * malformed stream is `ERR_MMNPY_BAD_PICKLE` or `ERR_MMNPY_TRUNCATED`. Record, datetime64/timedelta64 and
 * `S`/`U` arrays load like numeric ones (a dtype state NumPy would not write is `ERR_MMNPY_BAD_PICKLE`);
 * object arrays are `ERR_MMNPY_UNSUPPORTED_DTYPE`. Without `mmapMode` (and for compressed files) arrays are
 * in memory in the machine's byte order, as `joblib.load` gives them.
 * @example
 * ```ts
 * const model = load<{ weights: NdArray; names: string[] }>('model.joblib', { mmapMode: 'r' });
 * console.log(model.names, model.weights.shape, model.weights.mean());
 * ```
 */
export declare function load<T = JoblibValue>(path: PathLike, options?: JoblibLoadOptions): T;

/**
 * Like `joblib.dump(value, path, compress=...)`: writes `value` (see `JoblibValue`) atomically, so that
 * Python's `joblib.load(path, mmap_mode='r')` returns the same structure with `numpy.memmap` arrays and no
 * warning. Array data start on 64-byte boundaries; a mapped `NdArray` is streamed from its mapping.
 * Values JavaScript has but Python has not (`undefined`, functions, class instances, `Date`) are refused
 * with a `TypeError` naming where they are.
 * @example dump({ weights: w, names: ['a', 'b'], epoch: 3 }, 'model.joblib')
 */
export declare function dump(value: unknown, path: PathLike, options?: DumpOptions): void;

/** The sparse layouts mmnpy keeps: compressed rows, compressed columns, coordinates. */
export type SparseFormat = 'csr' | 'csc' | 'coo';

/** A right-hand operand of a sparse product: an `NdArray` (mapped or in memory), a TypedArray or an array of numbers. */
export type SparseOperand = NdArray | ArrayBufferView | number[];

/** Options of `loadSparse`. */
export interface SparseLoadOptions extends RuntimeOptions {
  /**
   * `'r'` or `'c'`: stored (uncompressed) members are mapped zero-copy in place, so opening is O(1) in the
   * number of nonzeros (`scipy.sparse.load_npz` reads everything); deflated members (SciPy's default) are
   * inflated into memory. `'r+'`/`'w+'` are refused (`ERR_MMNPY_UNSUPPORTED_MODE`).
   */
  mmapMode?: MmapModeInput | null;
}

/** Options of `saveSparse`. */
export interface SaveSparseOptions {
  /** `true` (default, level 6, like `save_npz(compressed=True)`), a deflate level 1..9, or `false`: stored members, 64-byte aligned, mapped zero-copy by `loadSparse`. */
  compress?: boolean | number;
}

/** Options of the `csr` / `csc` / `coo` constructors. */
export interface SparseOptions extends RuntimeOptions {
  /** Whether `saveSparse` writes a `*_array` (default, like `csr_array`) or a `*_matrix`. */
  isArray?: boolean;
}

/** Options of `SparseMatrix.dot`. */
export interface SparseDotOptions {
  /** Write the product here (the product's shape and dtype, any strides; e.g. an `openNpy('w+')` or `'r+'` array) instead of a new in-memory array. A C-contiguous `out` in the machine's byte order that shares no bytes with `x` or the matrix is written by the kernel's threads directly; any other `out` (strided, the other byte order, overlapping `x`) receives a copy of the product made first. If the product fails (a part changed after validation), a directly written `out` may hold part of it. */
  out?: NdArray;
  /** Streaming mode: release the matrix's pages behind the kernel, so a matrix larger than RAM is multiplied with a bounded RSS. The result is the same. */
  release?: boolean;
}

/** Options of `SparseMatrix.sum`. */
export interface SparseSumOptions {
  /** `0` (column sums), `1` (row sums), `-2`, `-1`, or `null`/omitted for the sum of every value. */
  axis?: number | null;
}

/**
 * A 2-D sparse matrix as `scipy.sparse` holds it (`csr_array`/`csr_matrix`, `csc_*`, `coo_*`): its values and
 * index arrays are `NdArray`s, mapped from the file or in memory. Products are bit-identical to SciPy's `A @ x`:
 * each row's products are added in storage order, from zero, as SciPy's `csr_matvec`; CSR rows are split across
 * threads by nonzero count. CSC and COO products scatter on one thread in SciPy's order (also bit-identical);
 * `tocsr()` of a CSC keeps that order and multiplies in parallel. Closing the matrix closes its part arrays.
 * @example
 * ```ts
 * using A = loadSparse('graph.npz', { mmapMode: 'r' });
 * const y = A.dot(x);                      // x: NdArray or Float64Array of length A.shape[1]
 * const deg = A.sum({ axis: 1 });          // row sums, as A.sum(axis=1)
 * ```
 */
export declare class SparseMatrix {
  /** `'csr'`, `'csc'` or `'coo'` (BSR and DIA files are read as CSR). */
  readonly format: SparseFormat;
  readonly shape: readonly [number, number];
  /** Stored values, explicit zeros and duplicates included (SciPy's `nnz`). */
  readonly nnz: number;
  /** The values' dtype. */
  readonly dtype: DType;
  /** The index arrays' dtype. */
  readonly indexDtype: 'int32' | 'int64';
  /** Whether SciPy sees a `*_array` (else a `*_matrix`); `saveSparse` keeps it. */
  readonly isArray: boolean;
  /** The file the values come from (absolute), or `null`. */
  readonly filename: string | null;
  readonly ndim: 2;
  readonly closed: boolean;
  /** The stored values (1-D). @example A.data.max() */
  readonly data: NdArray;
  /** CSR/CSC: the column (CSC: row) of each value; `null` for COO. */
  readonly indices: NdArray | null;
  /** CSR/CSC: `rows + 1` (CSC: `cols + 1`) offsets into `indices` and `data`; `null` for COO. */
  readonly indptr: NdArray | null;
  /** COO: the row of each value; `null` otherwise. */
  readonly row: NdArray | null;
  /** COO: the column of each value; `null` otherwise. */
  readonly col: NdArray | null;
  /**
   * `A @ x` with a vector (length `shape[1]`) or a dense matrix (`shape[1]` rows), in SciPy's upcast dtype
   * (`float64` for int32 values times a float64 vector). Bit-identical to SciPy's result.
   * @example const y = A.dot(new Float64Array(A.shape[1]).fill(1)); A.dot(X, { out: openNpy('Y.npy', { mode: 'w+', shape: [A.shape[0], X.shape[1]] }) })
   */
  dot(x: SparseOperand, options?: SparseDotOptions): NdArray;
  /** `dot` off the JavaScript thread. @example const y = await A.dotAsync(x) */
  dotAsync(x: SparseOperand, options?: SparseDotOptions): Promise<NdArray>;
  /** SciPy's `transpose()`: CSR ↔ CSC over the same memory (COO swaps `row` and `col`). @example const At = A.transpose() */
  transpose(): SparseMatrix;
  /** `transpose()`. */
  readonly T: SparseMatrix;
  /** SciPy's `tocsr()`: from COO, duplicates are summed and each row sorted (SciPy's `sum_duplicates`); from CSC every entry is kept in order. */
  tocsr(): SparseMatrix;
  /** SciPy's `tocsc()`. */
  tocsc(): SparseMatrix;
  /** SciPy's `tocoo()`: values (and one index array) shared with this matrix. */
  tocoo(): SparseMatrix;
  /**
   * SciPy's `sum()`: a scalar without an axis (`bigint` for integer and bool values, as NumPy's sums), else a 1-D
   * `NdArray` of NumPy's sum dtype (`axis: 0` column sums, `axis: 1` row sums). Equal to SciPy's for canonical
   * matrices; duplicates are summed first, as SciPy does.
   * @example const rowSums = A.sum({ axis: 1 })
   */
  sum(options?: SparseSumOptions): Scalar | NdArray;
  /** SciPy's `toarray()`: duplicates added in storage order; into `out` when given (the matrix's shape and dtype). @example A.toDense().get(0, 0) */
  toDense(options?: { out?: NdArray }): NdArray;
  /** Releases the matrix and closes its part arrays (their views and TypedArrays are detached). Idempotent. */
  close(): void;
  /** `using A = loadSparse(...)` closes at the end of the scope. */
  [Symbol.dispose](): void;
}

/**
 * Like `scipy.sparse.load_npz(path)`: reads every file `save_npz` writes (CSR, CSC, COO; BSR and DIA are converted
 * to CSR in memory keeping SciPy's product order; `*_matrix` and `*_array`; int32 and int64 indices; compressed or
 * not). The parts are validated once, in parallel: a malformed file (indptr decreasing, an index out of range,
 * lengths that disagree, a bad shape) is an `ERR_MMNPY_*` error naming the file. With `mmapMode` the index check
 * (O(nnz)) runs on first use instead of at load, so loading stays O(1) in the nonzeros. n-D COO arrays are refused.
 * @example const A = loadSparse('A.npz', { mmapMode: 'r' }); console.log(A.format, A.shape, A.nnz)
 */
export declare function loadSparse(path: PathLike, options?: SparseLoadOptions): SparseMatrix;

/**
 * Like `scipy.sparse.save_npz(path, m, compressed=...)`: the members SciPy writes, so `load_npz` gives an equal
 * matrix of the same class. With `{ compress: false }` the members are stored 64-byte aligned and `loadSparse`
 * maps them zero-copy. Atomic (temporary file + rename).
 * @example saveSparse('A.npz', A, { compress: false })
 */
export declare function saveSparse(path: PathLike, m: SparseMatrix, options?: SaveSparseOptions): void;

/**
 * Like `scipy.sparse.csr_array((data, indices, indptr), shape)`: parts are `NdArray`s (used in place when they are
 * whole 1-D arrays) or TypedArrays (copied). Validated once, in parallel: `indptr` of `rows + 1` elements from 0,
 * never decreasing, ending at `data.length`; every index in range (`ERR_MMNPY_BAD_SPARSE` otherwise).
 * @example const A = csr({ data: new Float64Array([1, 2]), indices: new Int32Array([0, 2]), indptr: new Int32Array([0, 1, 2]) }, [2, 3])
 */
export declare function csr(parts: { data: NdArray | ArrayBufferView | number[]; indices: NdArray | ArrayBufferView | number[]; indptr: NdArray | ArrayBufferView | number[] }, shape: readonly [number, number], options?: SparseOptions): SparseMatrix;

/** Like `scipy.sparse.csc_array((data, indices, indptr), shape)`. @example const A = csc({ data, indices, indptr }, [3, 2]) */
export declare function csc(parts: { data: NdArray | ArrayBufferView | number[]; indices: NdArray | ArrayBufferView | number[]; indptr: NdArray | ArrayBufferView | number[] }, shape: readonly [number, number], options?: SparseOptions): SparseMatrix;

/** Like `scipy.sparse.coo_array((data, (row, col)), shape)`; duplicates are kept until `tocsr()`/`tocsc()`. @example const A = coo({ data: [1, 2], row: new Int32Array([0, 1]), col: new Int32Array([1, 0]) }, [2, 2]) */
export declare function coo(parts: { data: NdArray | ArrayBufferView | number[]; row: NdArray | ArrayBufferView | number[]; col: NdArray | ArrayBufferView | number[] }, shape: readonly [number, number], options?: SparseOptions): SparseMatrix;

/**
 * A new in-memory array of zeros, like `np.zeros`. O(1) in the size: pages stay zero until written.
 * @example const z = zeros([1000, 3], { dtype: 'float32' })
 */
export declare function zeros(shape: Shape, options?: ConstructOptions): NdArray;

/** Like `np.empty`, but always zero-filled (never another allocation's leftover bytes), at no extra cost. */
export declare function empty(shape: Shape, options?: ConstructOptions): NdArray;

/**
 * A new array of ones, like `np.ones` (float64 unless `{ dtype }`).
 * @example const w = ones(5, { dtype: 'int32' })
 */
export declare function ones(shape: Shape, options?: ConstructOptions): NdArray;
export declare function onesAsync(shape: Shape, options?: ConstructOptions): Promise<NdArray>;

/**
 * A new array filled with `value`, like `np.full`: the dtype is the value's (an integral number or a bigint
 * is int64, another number float64, a boolean bool, `{ re, im }` complex128) unless `{ dtype }` is given;
 * then a float value is cast as NumPy casts it (`full(3, 2.7, { dtype: 'int8' })` is `[2, 2, 2]`).
 * @example const nan = full([2, 3], NaN)
 */
export declare function full(shape: Shape, value: Scalar, options?: ConstructOptions): NdArray;
export declare function fullAsync(shape: Shape, value: Scalar, options?: ConstructOptions): Promise<NdArray>;

/**
 * Evenly spaced values in `[start, stop)`, like `np.arange`, each computed as NumPy does (`start + i * delta`),
 * so the values are NumPy's bit for bit: int64 when every bound is an integer, else float64.
 * @example arange(10)                         // int64 0..9
 * @example arange(0.5, 3)                     // float64 [0.5, 1.5, 2.5]
 * @example arange(0, 1, 0.1, { dtype: 'float32' })
 */
export declare function arange(start: number | bigint, stop?: number | bigint | ArangeOptions | null, step?: number | bigint | ArangeOptions | null, options?: ArangeOptions): NdArray;
export declare function arangeAsync(start: number | bigint, stop?: number | bigint | ArangeOptions | null, step?: number | bigint | ArangeOptions | null, options?: ArangeOptions): Promise<NdArray>;

/**
 * `num` (default 50) evenly spaced values from `start` to `stop`, like `np.linspace` (float64, NumPy's formula,
 * `stop` exactly as the last value when `endpoint`).
 * @example linspace(0, 1, 5)                  // [0, 0.25, 0.5, 0.75, 1]
 */
export declare function linspace(start: number | bigint, stop: number | bigint, num?: number, options?: LinspaceOptions): NdArray;
export declare function linspaceAsync(start: number | bigint, stop: number | bigint, num?: number, options?: LinspaceOptions): Promise<NdArray>;

/**
 * Like `np.array_equal`: true when both have the same shape and equal values (compared as `equal` compares
 * them, across dtypes); `{ equalNan: true }` counts NaN at the same places as equal. Stops at the first difference.
 * @example arrayEqual(loadNpy('a.npy', { mmapMode: 'r' }), expected)
 */
export declare function arrayEqual(a: Comparable, b: Comparable, options?: ArrayEqualOptions): boolean;
export declare function arrayEqualAsync(a: Comparable, b: Comparable, options?: ArrayEqualOptions): Promise<boolean>;

/**
 * Like `np.allclose`: `|a - b| <= atol + rtol * |b|` for every element (finite `b`), or equal, with NumPy's
 * formula, dtypes and roundings (broadcasting `a` with `b`). Stops at the first element that is not close.
 * @example allclose(result, expected, { rtol: 1e-7 })
 */
export declare function allclose(a: Comparable, b: Comparable, options?: CloseOptions): boolean;
export declare function allcloseAsync(a: Comparable, b: Comparable, options?: CloseOptions): Promise<boolean>;

/** Like `np.isclose`: the elementwise test of `allclose`, a bool array of the broadcast shape (into `out` when given). */
export declare function isclose(a: Comparable, b: Comparable, options?: IsCloseOptions): NdArray;
export declare function iscloseAsync(a: Comparable, b: Comparable, options?: IsCloseOptions): Promise<NdArray>;

/** `a == b` elementwise, either side a scalar (`a.equal(b)`). @example equal(a, 0) */
export declare function equal(a: NdArray | Scalar, b: NdArray | Scalar, options?: OutOptions): NdArray;
/** `a != b` elementwise. */
export declare function notEqual(a: NdArray | Scalar, b: NdArray | Scalar, options?: OutOptions): NdArray;
/** `a < b` elementwise. @example less(0, a)   // 0 < a */
export declare function less(a: NdArray | Scalar, b: NdArray | Scalar, options?: OutOptions): NdArray;
/** `a <= b` elementwise. */
export declare function lessEqual(a: NdArray | Scalar, b: NdArray | Scalar, options?: OutOptions): NdArray;
/** `a > b` elementwise. */
export declare function greater(a: NdArray | Scalar, b: NdArray | Scalar, options?: OutOptions): NdArray;
/** `a >= b` elementwise. */
export declare function greaterEqual(a: NdArray | Scalar, b: NdArray | Scalar, options?: OutOptions): NdArray;
/** `np.isnan(a)`. @example isnan(a).any() */
export declare function isnan(a: Comparable, options?: OutOptions): NdArray;
/** `np.isfinite(a)`. */
export declare function isfinite(a: Comparable, options?: OutOptions): NdArray;

/**
 * Where `Parallel` runs tasks: `worker_threads` of this process (sharing its kernel thread pool), or child
 * processes, isolated from native crashes and from this heap, whose kernel pools get CPUs / `nJobs` threads
 * each (`MMNPY_THREADS`, unless set), as joblib limits its workers' inner threads.
 */
export type ParallelBackend = 'threads' | 'processes';

/** Options of `new Parallel`. */
export interface ParallelOptions {
  /** Workers: a positive count, or negative like joblib (`-1`: one per CPU, `-2`: all but one). Default -1. */
  nJobs?: number;
  /** `'threads'` (default) or `'processes'`. */
  backend?: ParallelBackend;
  /**
   * In-memory (or `'c'`) arrays larger than this are written once per call to a temporary `.npy` that the
   * workers map with `mmapMode`; smaller ones are copied. Bytes, or `'1M'`-style (K, M, G: 1024-based);
   * `null` copies every such array. Default `'1M'` (1,048,576 bytes).
   */
  maxNbytes?: number | string | null;
  /** Mode of the auto-memmapped temporary files in the workers: `'r'` (default), `'r+'` or `'c'`; never `'w+'`. */
  mmapMode?: 'r' | 'r+' | 'c' | 'readonly' | 'readwrite' | 'copyonwrite';
  /**
   * Folder of the temporary files (created if missing). Default: `MMNPY_TEMP_FOLDER`, else `/dev/shm` when it
   * has room for the data (plus a margin, within free memory), else `os.tmpdir()`. The pool's files go in a
   * sub-folder `mmnpy-<pid>-<random>`, removed on `close()`, on garbage collection, on exit and on
   * SIGINT/SIGTERM; a new pool removes those of dead processes.
   */
  tempFolder?: string;
  /** Aborting it cancels the tasks not started of every call (they reject with an `AbortError`); later calls reject at once. */
  signal?: AbortSignal;
}

/** Options of `Parallel.map`. */
export interface MapOptions {
  /** Called on the main thread after each task succeeds, with how many have and how many there are. */
  onProgress?: (done: number, total: number) => void;
  /** Aborting it cancels this call's tasks not started; the call rejects with an `AbortError`. */
  signal?: AbortSignal;
}

/**
 * `joblib.Parallel` for Node: a pool of workers that call an export of a module, with `NdArray` arguments and
 * results shared by mapping, never copied. A file-backed array (`'r'`, `'r+'`, `'w+'`) crosses as a description
 * of its mapping and is mapped again on the other side (threads share the very mapping through a process-wide
 * handle; the memory is unmapped when the last thread using it lets go); arguments are walked through arrays,
 * plain objects, Maps and Sets. Read-only inputs stay read-only in workers: a write fails with the mode-`'r'`
 * error and a hint. A writable output made with `openNpy(path, { mode: 'w+', ... })` reaches workers as `'r+'`
 * (its blocks reserved first, so a full disk is an error, not SIGBUS); the main thread sees their writes once the
 * task settles. In-memory arrays over `maxNbytes` are auto-memmapped (see `ParallelOptions`).
 * The first failing task rejects the call with the worker's error (its name, message, `code` and stack, plus
 * `taskIndex`) and cancels the call's tasks not started; a worker that dies (`process.exit`, a native crash
 * with `'processes'`) rejects with `ERR_MMNPY_WORKER_DIED` and is replaced. Arrays a task receives are valid
 * during the task (those received by handle or copied are closed after it).
 * @example
 * ```ts
 * // work.js: exports.rowSums = (a, out, start, stop) => { for (let i = start; i < stop; i++) out.set(i, a.slice(i).sum()) }
 * const a = loadNpy('big.npy', { mmapMode: 'r' });
 * const out = openNpy('sums.npy', { mode: 'w+', shape: [a.shape[0]] });
 * await using pool = new Parallel({ nJobs: 2 });
 * await pool.map(new URL('./work.js', import.meta.url), 'rowSums', [[a, out, 0, 500], [a, out, 500, 1000]],
 *   { onProgress: (done, total) => console.log(`${done}/${total}`) });
 * console.log(out.get(0));
 * ```
 */
export declare class Parallel implements AsyncDisposable {
  constructor(options?: ParallelOptions);
  /** The number of workers. */
  readonly nJobs: number;
  readonly backend: ParallelBackend;
  /** The auto-memmapping threshold in bytes, or `null` (off). */
  readonly maxNbytes: number | null;
  readonly mmapMode: 'r' | 'r+' | 'c';
  /** The `tempFolder` option as given. */
  readonly tempFolder: string | undefined;
  /** Calls `exportName(...args)` of `module` (a path or file URL; CommonJS or ES module) in a worker. @example const s = await pool.run(new URL('./work.js', import.meta.url), 'total', [a]) */
  run(module: PathLike | URL, exportName: string, args: readonly unknown[]): Promise<unknown>;
  /** Calls `exportName(...argsList[i])` for every `i`, at most `nJobs` at a time; resolves to the results in order. @example const parts = await pool.map(file, 'rowStats', [[a, 0, 500], [a, 500, 1000]]) */
  map(module: PathLike | URL, exportName: string, argsList: readonly (readonly unknown[])[], options?: MapOptions): Promise<unknown[]>;
  /** Cancels the tasks not started (their calls reject with `ERR_MMNPY_CLOSED`), stops the workers (running tasks too) and removes the temporary files. Idempotent. */
  close(): Promise<void>;
  /** `await using pool = new Parallel()` closes at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Resident memory in bytes. */
export interface ResidentMemory {
  /** The resident set now. */
  rss: number;
  /** Its peak (Linux `VmHWM`: since the process started or the last `memit`). */
  peak: number;
  /** Anonymous memory (heaps, copies): `RssAnon`. */
  anon: number;
  /** Pages of mapped files, shared with the page cache: `RssFile`. */
  file: number;
  /** Shared memory (tmpfs such as `/dev/shm`, shared anonymous mappings): `RssShmem`. */
  shmem: number;
}

/** What `memit` measured, in bytes (and seconds). */
export interface MemitResult<T> {
  /** What `fn` returned. */
  result: T;
  /** The peak resident set during the call (exact on Linux: `VmHWM` reset before it). */
  peak: number;
  /** `peak` minus the resident set before the call (`%memit`'s "increment"). */
  increment: number;
  /** How much anonymous memory grew at its peak during the call (copies, heaps). */
  anon: number;
  /** How much mapped file pages grew at their peak (a zero-copy pass over a mapped file shows here). */
  file: number;
  /** How much shared memory grew at its peak (tmpfs files such as `/dev/shm`). */
  shmem: number;
  /** Wall time of the call. */
  seconds: number;
  /** The resident memory before the call. */
  before: ResidentMemory;
}

/**
 * Like memory_profiler's `%memit`, told apart by kind: runs `fn` once and returns its result with the peak
 * resident memory during the call, its increment, and how much of it was anonymous memory, mapped file pages
 * or shared memory. Linux: the peak is exact (`/proc/self/clear_refs` resets `VmHWM`, which also resets what
 * `process.resourceUsage().maxRSS` reports); the split is sampled every millisecond by a native thread.
 * Elsewhere: the resident set before and after, all counted as `anon`.
 * @example
 * ```ts
 * const m = memit(() => loadNpy('big.npy', { mmapMode: 'r' }).sum());
 * console.log(m.result, m.increment, m.file, m.anon);   // the pass shows as file pages, not copies
 * ```
 */
export declare function memit<T>(fn: () => T): MemitResult<T>;
/** `memit` of an async function: measures until its Promise settles. @example const m = await memitAsync(() => a.sumAsync()) */
export declare function memitAsync<T>(fn: () => T | Promise<T>): Promise<MemitResult<Awaited<T>>>;
/** This process's resident memory now, by kind (Linux `/proc/self/status`; elsewhere the resident set as `anon`). @example residentMemory().anon */
export declare function residentMemory(): ResidentMemory;

/**
 * NumPy's `where(cond, x, y)`: `x` where `cond` is true (non-zero), else `y`, broadcast together, in NumPy's result
 * type (a scalar takes NumPy 2's weak type next to an array, and must fit it: `RangeError` otherwise, where NumPy
 * would wrap); into `out` when given. With `cond` alone it is `nonzero(cond)`.
 * @example const clipped = where(a.less(0), 0, a)             // np.where(a < 0, 0, a)
 * @example const [i] = where(a.isnan())                       // indices of the NaNs
 */
export declare function where(cond: Comparable): NdArray[];
export declare function where(cond: Comparable, x: Comparable, y: Comparable, options?: OutOptions): NdArray;
export declare function whereAsync(cond: Comparable): Promise<NdArray[]>;
export declare function whereAsync(cond: Comparable, x: Comparable, y: Comparable, options?: OutOptions): Promise<NdArray>;

/**
 * NumPy's `concatenate(arrays, axis=0)`: the arrays joined along an existing axis, in NumPy's `result_type` (a new
 * in-memory array), or written into `out` (cast under NumPy's `'same_kind'` rule; e.g. an `openNpy('w+')` array of the
 * total shape, filled file by file without holding any input in memory; `{ release: true }` releases pages behind).
 * Shapes that do not fit throw NumPy's messages (`ERR_MMNPY_INVALID_ARG`).
 * @example concatenate([a, b])                                                       // rows of a, then of b
 * @example concatenate(parts, { axis: 0, out: openNpy('all.npy', { mode: 'w+', dtype: 'float32', shape: [total, 8] }) })
 */
export declare function concatenate(arrays: Iterable<Comparable>, options?: JoinOptions): NdArray;
export declare function concatenateAsync(arrays: Iterable<Comparable>, options?: JoinOptions): Promise<NdArray>;

/**
 * NumPy's `stack(arrays, axis=0)`: arrays of one shape joined along a new axis (into `out` when given).
 * @example stack([x, y], { axis: 1 })                          // shape (n, 2)
 */
export declare function stack(arrays: Iterable<Comparable>, options?: JoinOptions): NdArray;
export declare function stackAsync(arrays: Iterable<Comparable>, options?: JoinOptions): Promise<NdArray>;

/**
 * h5py's file modes: `'r'` read only; `'r+'` read and write (the file must exist); `'w'` a new file, replacing
 * any; `'w-'` / `'x'` a new file, `ERR_MMNPY_EXISTS` if there is one; `'a'` read and write, created if missing.
 */
export type H5Mode = 'r' | 'r+' | 'w' | 'w-' | 'x' | 'a';

/** Options of `openH5`. */
export interface H5OpenOptions extends RuntimeOptions {
  /** As h5py (default `'r'`). */
  mode?: H5Mode;
  /**
   * Writers: every commit (`flush()`, `close()`) waits for the disk, so that after a power loss or an
   * operating-system crash the file is the previous commit's or the new one. A new file (`'w'`, `'w-'`)
   * and its folder are synced before and after it takes the target's name; a file changed in place is
   * synced before its superblock is rewritten and after. Without it commits are atomic against crashes
   * of the process only. Default false.
   */
  durable?: boolean;
}

/** Options of `Dataset.mmap`. */
export interface H5MmapOptions {
  /** `'r'` (default) or `'c'` (private copy-on-write pages). */
  mode?: 'r' | 'c' | 'readonly' | 'copyonwrite';
}

/**
 * An HDF5 attribute as h5py returns it: numeric scalars as `number` (`bigint` for 64-bit integers,
 * `boolean` for bool, `{ re, im }` for complex), strings (fixed or variable length) as `string`, string
 * arrays as `string[]` (flat, C order), numeric arrays as in-memory `NdArray`s, an empty attribute as `null`.
 */
export type H5AttrValue = number | bigint | boolean | Complex | string | string[] | NdArray | null;
/**
 * What an attribute can be set to: a string or string array (stored as h5py stores `str`: variable-length
 * UTF-8), a number (an integral one is int64 like a Python int, any other float64), a bigint (int64), a
 * boolean, `{ re, im }` (complex128), a TypedArray or nested numbers (1-D / n-D arrays), or an `NdArray`
 * (its dtype and shape). Values are kept in the object header: under 64 KiB each, as in h5py.
 * @example f.attrs.units = 'K'; d.attrs.scale = 0.5; d.attrs.bounds = new Float32Array([0, 1])
 */
export type H5AttrInput = number | bigint | boolean | Complex | string | string[] | TypedArray | NestedArray | NdArray;
/**
 * `attrs` of a group or dataset: reading a property gives an `H5AttrValue`; in a file open for writing,
 * assigning an `H5AttrInput` sets the attribute and `delete` removes it.
 */
export type H5Attrs = Record<string, H5AttrValue | H5AttrInput>;
/** Values `Dataset.write` takes: broadcast to the selection and cast as NumPy's setitem does. */
export type H5WriteValues = NdArray | TypedArray | NestedArray | Scalar | [number, number];

/**
 * Options of `Group.createDataset`, as h5py's `create_dataset`.
 * @example g.createDataset('x', { shape: [0, 64], maxshape: [null, 64], dtype: 'float32', chunks: [1024, 64], compression: 'gzip' })
 */
export interface H5DatasetOptions {
  /** The shape (default: `data`'s). */
  shape?: number | readonly number[];
  /** Any dtype spelling (default: `data`'s, else `'float32'` as h5py). */
  dtype?: string;
  /** Values written right after creation (cast to `dtype`). */
  data?: NdArray | TypedArray | NestedArray;
  /**
   * A chunk shape, `true` for h5py's guess, or absent: contiguous (aligned at 64 bytes, so `mmap()` works)
   * unless `maxshape` or a filter needs chunks, which are then guessed as h5py's `guess_chunk` does.
   */
  chunks?: readonly number[] | boolean | null;
  /** The largest shape `resize` may give; `null` entries are unlimited. Needs chunks. */
  maxshape?: readonly (number | null)[] | null;
  /** `'gzip'` (or gzip's level as a number, as h5py); other compressors are `ERR_MMNPY_UNSUPPORTED_FILTER`. */
  compression?: 'gzip' | number | null;
  /** gzip's level, 0 to 9 (default 4, as h5py). */
  compressionOpts?: number | null;
  /** HDF5's shuffle filter before compression. */
  shuffle?: boolean;
  /** A Fletcher-32 checksum per chunk. */
  fletcher32?: boolean;
  /** What elements never written read as (default 0). */
  fillValue?: number | bigint | boolean | Complex | null;
}
/** Strings `Dataset.readStrings` reads: nested arrays in the selection's shape, one string for a 0-d result. @example const s = d.readStrings() as string[] */
export type H5Strings = string | H5Strings[];

/**
 * An HDF5 group (h5py's `Group`): members by name or `/` path, attributes, a walk over everything below.
 * @example
 * ```ts
 * const g = f.get('experiment') as Group;
 * for (const name of g.keys()) console.log(name, g.get(name));
 * ```
 */
export declare class Group implements Iterable<string> {
  /** Absolute name (`'/'` for the file). */
  readonly name: string;
  /** Member names, sorted as h5py lists them. @example f.keys() // ['a', 'b'] */
  keys(): string[];
  /**
   * The group or dataset at `path`, relative to this group or absolute; soft links are followed. A missing
   * member is `ERR_MMNPY_NOT_FOUND`; a dataset of a type mmnpy does not read (compound, strings) is
   * `ERR_MMNPY_UNSUPPORTED_DTYPE` naming it.
   * @example const d = f.get('group/temperature') as Dataset
   */
  get(path: string): Group | Dataset;
  /** Whether `path` names an object. @example f.has('a/b') */
  has(path: string): boolean;
  /**
   * The attributes, read now, by name. In a file open for writing, assigning sets one (`H5AttrInput`) and
   * `delete` removes it; in mode `'r'` that is `ERR_MMNPY_READONLY`.
   * @example f.attrs.units // 'K'
   * @example f.attrs.units = 'm'; delete f.attrs.old
   */
  readonly attrs: H5Attrs;
  /**
   * Creates a group, and the missing groups above it (as h5py); `ERR_MMNPY_EXISTS` if the name is taken.
   * @example const run = f.createGroup('runs/2024')
   */
  createGroup(name: string): Group;
  /**
   * Creates a dataset as h5py's `create_dataset` (and the missing groups above it); `ERR_MMNPY_EXISTS` if the
   * name is taken. Chunked datasets are written chunk by chunk, compressed in parallel.
   * @example const d = f.createDataset('x', { shape: [1e6, 64], dtype: 'float32', chunks: [4096, 64], compression: 'gzip' })
   */
  createDataset(name: string, options: H5DatasetOptions): Dataset;
  /**
   * Calls `fn(name)` for every object below (names relative to this group; each object once, cycles of hard
   * links included), as h5py's `visit`; returns the first value `fn` returns that is not `undefined`.
   * @example f.visit((name) => { console.log(name); })
   */
  visit<T>(fn: (name: string) => T | undefined): T | undefined;
  /** Member names, like `for name in group` in h5py. */
  [Symbol.iterator](): IterableIterator<string>;
}

/**
 * An open HDF5 file (h5py's `File`): the root group, and `close()`. Closing it closes every array taken
 * from it: mapped datasets are unmapped and their views detached.
 * @example
 * ```ts
 * using f = openH5('data.h5');
 * const block = (f.get('temperature') as Dataset).read('1000:2000, ::2');
 * ```
 */
export declare class H5File extends Group {
  /** Absolute path of the file. */
  readonly filename: string;
  readonly mode: H5Mode;
  /** Whether `close()` has been called. */
  readonly closed: boolean;
  /** Whether the file is open for writing (every mode but `'r'`). */
  readonly writable: boolean;
  /**
   * Commits what was written (h5py's `flush`): the file on disk then holds it all. Commits are atomic: a writer
   * killed at any moment leaves the last commit's file complete (before the first one, in modes `'w'`/`'w-'`,
   * the old file or none; the new one is written beside it and renamed).
   * @example f.flush()
   */
  flush(): void;
  /** Commits what was written (as `flush`) and closes the file and every array taken from it. Idempotent. */
  close(): void;
  /** `using f = openH5(...)` closes at the end of the scope. */
  [Symbol.dispose](): void;
}

/**
 * An HDF5 dataset (h5py's `Dataset`). `read` copies a hyperslab into memory, reading only the chunks it
 * touches and decompressing them on all cores; `mmap` maps contiguous data zero-copy.
 * @example const col = d.read(null, 3); const m = d.mmap()
 */
export declare class Dataset {
  /** Absolute name. */
  readonly name: string;
  readonly shape: readonly number[];
  /** Maximum shape; `null` entries are unlimited. */
  readonly maxshape: readonly (number | null)[];
  readonly dtype: DType;
  /** Byte order on disk, kept in the arrays read. */
  readonly byteOrder: '<' | '>' | '|';
  readonly ndim: number;
  readonly size: number;
  /** Chunk shape, `null` when not chunked (h5py's `chunks`). */
  readonly chunks: readonly number[] | null;
  /** `'gzip'`, another filter's name (`'lzf'`: reading it throws `ERR_MMNPY_UNSUPPORTED_FILTER`), or `null`. */
  readonly compression: string | null;
  /** gzip's level, or `null`. */
  readonly compressionOpts: number | null;
  readonly shuffle: boolean;
  readonly fletcher32: boolean;
  /** How the data are stored. */
  readonly layout: 'compact' | 'contiguous' | 'chunked';
  /** The attributes, read now, by name; writable as `Group.attrs`. */
  readonly attrs: H5Attrs;
  /**
   * Like `ds[specs] = values` in h5py: `specs` are `read`'s (one string, an array of specs, or `null` for
   * everything); `values` are broadcast to the selection and cast as NumPy's setitem casts. Chunks the
   * selection covers whole are encoded fresh, the others read, changed and rewritten; chunks are compressed in
   * parallel, a batch at a time, so writing a dataset larger than RAM slab by slab keeps memory bounded.
   * @example d.write('0:1000', block); d.write([null, 3], 0); d.write(null, a)
   */
  write(specs: string | (SliceSpec | string)[] | null, values: H5WriteValues): void;
  /**
   * Changes the shape of a chunked dataset within `maxshape` (h5py's `resize`): the whole shape, or one axis's
   * length with `axis`. Elements outside the old shape read as the fill value.
   * @example d.resize(d.shape[0] + 1000, 0)
   */
  resize(shape: number | readonly number[], axis?: number): void;
  /**
   * Like `ds[...]` in h5py: a hyperslab as an in-memory `NdArray`, with `NdArray.slice`'s specs (numbers drop
   * an axis, `null` keeps it, `[start, stop, step]` with negative steps, or one string `'10:20, ::-2'`); no
   * spec reads everything. Elements of chunks never written read as the fill value.
   * @example const rows = d.read('100:200'); const col = d.read(null, 5)
   */
  read(...specs: (SliceSpec | string)[]): NdArray;
  /** `read` off the JavaScript thread. @example const a = await d.readAsync(':, ::2') */
  readAsync(...specs: (SliceSpec | string)[]): Promise<NdArray>;
  /**
   * The strings of a dataset of variable-length strings (its `dtype` is `'object'`, as h5py's `dtype('O')`;
   * `read` refuses it, no NdArray dtype holds them): h5py's `d.asstr()[...]` with `read`'s specs, as nested
   * arrays in the selection's shape (one string for a 0-d result). Bytes that are not UTF-8 are refused.
   * @example const names = d.readStrings('0:10') as string[]
   */
  readStrings(...specs: (SliceSpec | string)[]): H5Strings;
  /**
   * A zero-copy `NdArray` over the file for a contiguous dataset whose data start at an offset its dtype
   * can be aligned to; otherwise `ERR_MMNPY_NOT_MAPPABLE` saying why (chunked, filtered, compact, or
   * unaligned: h5py does not align data unless the file was made with `alignment_interval`).
   * @example const m = d.mmap({ mode: 'r' }); m.mean()
   */
  mmap(options?: H5MmapOptions): NdArray;
}

/**
 * Like `h5py.File(path, mode)`: opens an HDF5 file h5py (or any HDF5 writer) wrote, superblocks 0 to 3, or
 * creates one (`'w'`, `'w-'`, `'x'`, `'a'`). Files mmnpy writes open in h5py with the same values, dtypes,
 * chunks, filters and attributes. Malformed files (truncated, bad signatures or checksums, addresses past the
 * end, cyclic structures) are `ERR_MMNPY_BAD_HDF5` errors naming the file and the problem.
 * @example const f = openH5('data.h5'); const t = (f.get('group/temperature') as Dataset).read()
 * @example using f = openH5('out.h5', { mode: 'w' }); f.createDataset('x', { data: a, compression: 'gzip' })
 */
export declare function openH5(path: PathLike, options?: H5OpenOptions): H5File;
