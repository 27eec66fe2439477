/** Sparse matrices: `loadSparse` / `saveSparse` (`scipy.sparse` files), `csr` / `csc` / `coo`, `SparseMatrix`. The format lives in `crates/core/src/sparse.rs`, the products in `crates/core/src/kernels/spmv.rs`. */
import * as binding from '../binding';
import type { DType } from './dtype';
import { closedError, invalidArg, MmnpyError, native, nativeAsync, typeError } from './errors';
import { array, opts, toPath } from './io';
import { NdArray, settle, toScalar } from './ndarray';
import { Scalar, Storage } from './storage';

export type { PathLike, SparseFormat, SparseLoadOptions, SaveSparseOptions, SparseDotOptions, SparseSumOptions, SparseOptions, SparseOperand } from '../index';
import type { PathLike, SparseFormat, SparseLoadOptions, SaveSparseOptions, SparseDotOptions, SparseSumOptions, SparseOptions, SparseOperand } from '../index';

const MODES: Record<string, 'r' | 'c'> = { r: 'r', readonly: 'r', c: 'c', copyonwrite: 'c' };
const REFUSED = new Set(['r+', 'readwrite', 'w+', 'write']);

/** A sparse matrix (SciPy's `csr_array`/`csr_matrix`, `csc_*`, `coo_*`): values and index arrays, mapped or in memory. */
export class SparseMatrix {
  /** `'csr'`, `'csc'` or `'coo'` (BSR and DIA files are read as CSR). */
  readonly format: SparseFormat;
  readonly shape: readonly [number, number];
  /** Stored values (explicit zeros and duplicates included, as SciPy's `nnz`). */
  readonly nnz: number;
  readonly dtype: DType;
  /** `'int32'` or `'int64'`. */
  readonly indexDtype: 'int32' | 'int64';
  /** Whether SciPy sees a `*_array` (else a `*_matrix`); kept by `saveSparse`. */
  readonly isArray: boolean;
  /** The file the values come from, or `null`. */
  readonly filename: string | null;
  readonly data: NdArray;
  /** CSR/CSC: column (row) indices; `null` for COO. */
  readonly indices: NdArray | null;
  /** CSR/CSC: `major + 1` offsets into `indices`/`data`; `null` for COO. */
  readonly indptr: NdArray | null;
  /** COO: row of each value; `null` otherwise. */
  readonly row: NdArray | null;
  /** COO: column of each value; `null` otherwise. */
  readonly col: NdArray | null;
  private n: binding.NativeSparse | null;
  private readonly allowCopy: boolean;

  /** @internal */
  constructor(n: binding.NativeSparse, allowCopy: boolean) {
    this.n = n;
    this.allowCopy = allowCopy;
    const info = native(() => n.info());
    this.format = info.format as SparseFormat;
    this.shape = Object.freeze([info.shape[0]!, info.shape[1]!]) as readonly [number, number];
    this.nnz = info.nnz;
    this.dtype = info.dtype as DType;
    this.indexDtype = info.indexDtype as 'int32' | 'int64';
    this.isArray = info.isArray;
    this.filename = info.filename ?? null;
    const [data, a, b] = native(() => n.parts()).map((p) => NdArray._whole(new Storage(p, allowCopy && !binding.externalBuffersAllowed())));
    this.data = data!;
    const coo = this.format === 'coo';
    this.indices = coo ? null : a!;
    this.indptr = coo ? null : b!;
    this.row = coo ? a! : null;
    this.col = coo ? b! : null;
  }

  get closed(): boolean { return this.n === null; }
  get ndim(): 2 { return 2; }

  /** @internal the native matrix, or `ERR_MMNPY_CLOSED` */
  _live(): binding.NativeSparse {
    if (this.n === null) throw new MmnpyError('ERR_MMNPY_CLOSED', `${this.filename ?? 'sparse matrix'}: the sparse matrix is closed`);
    return this.n;
  }

  private wrap(n: binding.NativeSparse): SparseMatrix {
    return new SparseMatrix(n, this.allowCopy);
  }

  private operands(x: unknown, options: SparseDotOptions | undefined): [NdArray, NdArray | undefined, boolean] {
    this._live();
    const o = opts(options, 'dot');
    const xa = x instanceof NdArray ? x : ArrayBuffer.isView(x) || Array.isArray(x) ? array(x as ArrayBufferView) : undefined;
    if (xa === undefined) throw typeError('dot takes an NdArray, a TypedArray or an array of numbers');
    if (xa.closed) throw closedError();
    const out = o.out ?? undefined;
    if (out !== undefined && !(out instanceof NdArray)) throw typeError('out must be an NdArray');
    if (out?.closed) throw closedError();
    const release = o.release ?? false;
    if (typeof release !== 'boolean') throw typeError(`release must be a boolean, got ${typeof release}`);
    return [xa, out, release];
  }

  private result(r: binding.NativeArray | null, out: NdArray | undefined): NdArray {
    return r === null ? out! : NdArray._whole(new Storage(r, this.allowCopy && !binding.externalBuffersAllowed()));
  }

  /**
   * `A @ x` for a vector (length `shape[1]`) or a dense matrix (`shape[1]` rows): bit-identical to SciPy's.
   * CSR rows are split across threads by nonzero count; CSC and COO scatter on one thread in SciPy's order.
   */
  dot(x: SparseOperand, options?: SparseDotOptions): NdArray {
    const [xa, out, release] = this.operands(x, options);
    const n = this._live();
    return this.result(native(() => n.dot(xa._s.native, xa.viewArg(), out?._s.native, out?.viewArg(), release)), out);
  }

  /** `dot` off the JavaScript thread. */
  dotAsync(x: SparseOperand, options?: SparseDotOptions): Promise<NdArray> {
    return settle(async () => {
      const [xa, out, release] = this.operands(x, options);
      const n = this._live();
      return this.result(await nativeAsync(() => n.dotAsync(xa._s.native, xa.viewArg(), out?._s.native, out?.viewArg(), release)), out);
    });
  }

  /** SciPy's `transpose()`: CSR ↔ CSC (COO swaps `row` and `col`) over the same memory. */
  transpose(): SparseMatrix {
    const n = this._live();
    return this.wrap(native(() => n.transpose()));
  }
  get T(): SparseMatrix { return this.transpose(); }

  private to(format: SparseFormat): SparseMatrix {
    const n = this._live();
    return this.wrap(native(() => n.convert(format)));
  }
  /** SciPy's `tocsr()`: from COO duplicates are summed and indices sorted; from CSC every entry is kept. */
  tocsr(): SparseMatrix { return this.to('csr'); }
  /** SciPy's `tocsc()`. */
  tocsc(): SparseMatrix { return this.to('csc'); }
  /** SciPy's `tocoo()`: values and indices shared where they can be. */
  tocoo(): SparseMatrix { return this.to('coo'); }

  /**
   * SciPy's `sum()`: no axis gives a scalar (`bigint` for integer matrices, as NumPy's sums), `axis` 0 or 1
   * (or -2, -1) a 1-D `NdArray` of NumPy's sum dtype.
   */
  sum(options?: SparseSumOptions): Scalar | NdArray {
    const o = opts(options, 'sum');
    const axis = o.axis ?? undefined;
    if (axis !== undefined && (!Number.isInteger(axis) || axis < -2 || axis > 1)) throw invalidArg(`axis must be 0, 1, -1, -2 or null, got ${String(axis)}`);
    const n = this._live();
    const r = native(() => n.sum(axis));
    if (r instanceof binding.NativeArray) return NdArray._whole(new Storage(r, this.allowCopy && !binding.externalBuffersAllowed()));
    return toScalar(r, 'sum', this.dtype, undefined);
  }

  /** SciPy's `toarray()`: a new in-memory array, or written into `out` (e.g. an `openNpy('w+')` array). */
  toDense(options?: { out?: NdArray }): NdArray {
    const o = opts(options, 'toDense');
    const out = o.out ?? undefined;
    if (out !== undefined && !(out instanceof NdArray)) throw typeError('out must be an NdArray');
    if (out?.closed) throw closedError();
    const n = this._live();
    return this.result(native(() => n.toDense(out?._s.native, out?.viewArg())), out);
  }

  /** Releases the matrix and closes its part arrays (their views and TypedArrays are detached). Idempotent. */
  close(): void {
    const n = this.n;
    if (n === null) return;
    this.n = null;
    for (const p of [this.data, this.indices, this.indptr, this.row, this.col]) p?.close();
    n.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/** Like `scipy.sparse.load_npz(path)`; with `mmapMode` `'r'`/`'c'` the stored members are mapped zero-copy. */
export function loadSparse(path: PathLike, options?: SparseLoadOptions): SparseMatrix {
  const o = opts(options, 'loadSparse');
  const p = toPath(path);
  let mode: 'r' | 'c' | undefined;
  if (o.mmapMode !== undefined && o.mmapMode !== null) {
    const m = o.mmapMode as string;
    if (REFUSED.has(m)) {
      throw new MmnpyError('ERR_MMNPY_UNSUPPORTED_MODE', `${p}: mode '${m}' is not supported for sparse files: members are mapped 'r' or 'c' only, since a write into the archive would break the member's CRC-32`);
    }
    mode = MODES[m];
    if (mode === undefined) throw invalidArg(`mmapMode must be one of 'r', 'c' (or 'readonly', 'copyonwrite'), got '${m}'`);
  }
  const copy = o.allowCopy === true;
  return new SparseMatrix(native(() => binding.loadSparse(p, mode, copy)), copy);
}

/** Like `scipy.sparse.save_npz(path, m, compressed=compress)`, atomically. */
export function saveSparse(path: PathLike, m: SparseMatrix, options?: SaveSparseOptions): void {
  const o = opts(options, 'saveSparse');
  const p = toPath(path);
  if (!(m instanceof SparseMatrix)) throw typeError('saveSparse takes a SparseMatrix');
  const c = o.compress ?? true;
  let level: number | undefined;
  if (c === true) level = 6;
  else if (c === false) level = undefined;
  else if (typeof c === 'number' && Number.isInteger(c) && c >= 1 && c <= 9) level = c;
  else throw invalidArg(`compress must be a boolean or a level from 1 to 9, got ${String(c)}`);
  const n = m._live();
  native(() => n.save(p, level));
}

function toPart(v: unknown, name: string): NdArray {
  if (v instanceof NdArray) {
    if (v.closed) throw closedError();
    return v;
  }
  if (ArrayBuffer.isView(v) || Array.isArray(v)) return array(v as ArrayBufferView);
  throw typeError(`${name} must be an NdArray, a TypedArray or an array of numbers`);
}

function toShape(shape: unknown): number[] {
  if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw invalidArg(`shape must be [rows, cols] of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  return shape as number[];
}

function make(format: SparseFormat, parts: [unknown, unknown, unknown], names: [string, string, string], shape: unknown, options: SparseOptions | undefined): SparseMatrix {
  const o = opts(options, format);
  const [d, a, b] = parts.map((p, i) => toPart(p, names[i]!)) as [NdArray, NdArray, NdArray];
  const s = toShape(shape);
  const copy = o.allowCopy === true;
  const isArray = o.isArray ?? true;
  return new SparseMatrix(native(() => binding.sparseFromParts(format, d._s.native, d.viewArg(), a._s.native, a.viewArg(), b._s.native, b.viewArg(), s, isArray, copy)), copy);
}

/** Like `scipy.sparse.csr_array((data, indices, indptr), shape)`; validated once, in parallel. */
export function csr(parts: { data: unknown; indices: unknown; indptr: unknown }, shape: readonly [number, number], options?: SparseOptions): SparseMatrix {
  if (parts === null || typeof parts !== 'object') throw typeError('csr takes { data, indices, indptr }');
  return make('csr', [parts.data, parts.indices, parts.indptr], ['data', 'indices', 'indptr'], shape, options);
}

/** Like `scipy.sparse.csc_array((data, indices, indptr), shape)`. */
export function csc(parts: { data: unknown; indices: unknown; indptr: unknown }, shape: readonly [number, number], options?: SparseOptions): SparseMatrix {
  if (parts === null || typeof parts !== 'object') throw typeError('csc takes { data, indices, indptr }');
  return make('csc', [parts.data, parts.indices, parts.indptr], ['data', 'indices', 'indptr'], shape, options);
}

/** Like `scipy.sparse.coo_array((data, (row, col)), shape)`. */
export function coo(parts: { data: unknown; row: unknown; col: unknown }, shape: readonly [number, number], options?: SparseOptions): SparseMatrix {
  if (parts === null || typeof parts !== 'object') throw typeError('coo takes { data, row, col }');
  return make('coo', [parts.data, parts.row, parts.col], ['data', 'row', 'col'], shape, options);
}
