/**
 * Selection and joining, NumPy's: `a.compress(mask)` (`a[mask]`), `a.take(indices)`, `a.nonzero()`,
 * `a.argwhere()`, `where(cond, x, y)`, `concatenate(arrays)`, `stack(arrays)`. The work runs in the
 * addon (crates/core/src/kernels/select.rs and join.rs); here are the argument rules.
 */
import * as binding from '../binding';
import type { NativeArray, ViewArg } from '../binding';
import { broadcastShapes, broadcastStrides } from './broadcast';
import { asArray } from './compare';
import { full, zeros } from './construct';
import { closedError, invalidArg, native, nativeAsync, rangeError, typeError } from './errors';
import { NdArray, settle } from './ndarray';
import { isContiguous } from './slicing';
import { Storage } from './storage';

export type { CompressOptions, TakeOptions, JoinOptions, OutOptions, Comparable, IndexSource } from '../index';
import type { CompressOptions, TakeOptions, JoinOptions, OutOptions, Comparable, IndexSource, Scalar, Complex } from '../index';

type Native = NativeArray | NativeArray[] | void;

function opts<T extends object>(o: T | undefined, what: string): Partial<T> {
  if (o === undefined || o === null) return {};
  if (typeof o !== 'object') throw typeError(`${what} options must be an object`);
  return o;
}

function axisOf(axis: number, ndim: number): number {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= ndim) throw rangeError(`axis ${axis} is out of bounds for array of dimension ${ndim}`);
  return axis < 0 ? axis + ndim : axis;
}

function releaseOf(o: { release?: boolean }): boolean {
  const r = o.release ?? false;
  if (typeof r !== 'boolean') throw typeError(`release must be a boolean, got ${typeof r}`);
  return r;
}

/** `out` as the addon takes it: the array and its view, or nothing. */
function outOf(o: OutOptions): [NativeArray | undefined, ViewArg | undefined, NdArray | undefined] {
  const out = o.out;
  if (out === undefined || out === null) return [undefined, undefined, undefined];
  if (!(out instanceof NdArray)) throw typeError('out must be an NdArray');
  if (out.closed) throw closedError();
  return [out._s.native, out.viewArg(), out];
}

/** What the addon returned: a new array, or nothing when `out` was written. */
function result(r: Native, out: NdArray | undefined, copied: boolean): NdArray {
  if (r === undefined || r === null) return out!;
  return NdArray._whole(new Storage(r as NativeArray, copied));
}

function run<T>(async: boolean, sync: () => T, later: () => Promise<T>): T | Promise<T> {
  return async ? nativeAsync(later) : native(sync);
}

// ---------------------------------------------------------------------------- methods of NdArray

/** `a.compress(mask, options)`: `a[mask]`, or along `axis` `take(a, nonzero(mask)[0], axis)` (NumPy's `compress`). */
export function compressOf(a: NdArray, mask: Comparable, options: CompressOptions | undefined, async: boolean): NdArray | Promise<NdArray> {
  const o = opts(options, 'compress');
  const m = asArray(mask);
  if (o.axis !== undefined && o.axis !== null) {
    if (m.ndim !== 1) throw invalidArg('condition must be a 1-d array');
    const axis = axisOf(o.axis, a.ndim);
    const take = { axis, out: o.out };
    if (!async) return a.take((nonzeroOf(m, false, false) as NdArray[])[0]!, take);
    return (nonzeroOf(m, true, false) as Promise<NdArray[]>).then((idx) => a.takeAsync(idx[0]!, take));
  }
  const release = releaseOf(o);
  const [on, ov, out] = outOf(o);
  const n = a._s.native;
  const args = [a.viewArg(), m._s.native, m.viewArg(), on, ov, release] as const;
  const copied = a._s.copied;
  const r = run<Native>(async, () => n.compress(...args), () => n.compressAsync(...args));
  return r instanceof Promise ? r.then((x) => result(x, out, copied)) : result(r, out, copied);
}

function indexArray(indices: IndexSource): NdArray {
  const i = asArray(indices as Comparable);
  // An empty list is no index at all (NumPy reads it as intp), not float64.
  if (!(indices instanceof NdArray) && i.size === 0) return zeros(i.shape, { dtype: 'int64' });
  if (!/^(bool|u?int)/.test(i.dtype)) {
    throw typeError(`Cannot cast array data from dtype('${i.dtype}') to dtype('int64') according to the rule 'same_kind'`);
  }
  return i;
}

/** `a.take(indices, options)`: NumPy's `take`, `{ axis, mode = 'raise', out }`. */
export function takeOf(a: NdArray, indices: IndexSource, options: TakeOptions | undefined, async: boolean): NdArray | Promise<NdArray> {
  const o = opts(options, 'take');
  const i = indexArray(indices);
  const axis = o.axis === undefined || o.axis === null ? undefined : axisOf(o.axis, a.ndim);
  const mode = o.mode ?? 'raise';
  if (mode !== 'raise' && mode !== 'wrap' && mode !== 'clip') throw invalidArg(`clipmode must be one of 'clip', 'raise', or 'wrap' (got '${String(mode)}')`);
  const [on, ov, out] = outOf(o);
  const n = a._s.native;
  const args = [a.viewArg(), i._s.native, i.viewArg(), axis, mode, on, ov] as const;
  const copied = a._s.copied;
  const r = run<Native>(async, () => n.take(...args), () => n.takeAsync(...args));
  return r instanceof Promise ? r.then((x) => result(x, out, copied)) : result(r, out, copied);
}

/** `a.nonzero()` (an index array per axis) or `a.argwhere()` (one `(count, ndim)` array). */
export function nonzeroOf(a: NdArray, async: boolean, argwhere: boolean): NdArray[] | Promise<NdArray[]> {
  if (a.closed) throw closedError();
  const n = a._s.native;
  const copied = a._s.copied;
  const wrap = (r: Native): NdArray[] => (Array.isArray(r) ? r : [r as NativeArray]).map((x) => NdArray._whole(new Storage(x, copied)));
  const r = run<Native>(async, () => n.nonzero(a.viewArg(), argwhere, false), () => n.nonzeroAsync(a.viewArg(), argwhere, false));
  return r instanceof Promise ? r.then(wrap) : wrap(r);
}

// ---------------------------------------------------------------------------- where

function isScalar(v: unknown): v is Scalar {
  return typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' || (v !== null && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v) && !(v instanceof NdArray) && typeof (v as Complex).re === 'number');
}

/** The dtype a Python scalar takes next to an array of `d` (NumPy 2's weak scalars). */
function weakDtype(d: string, v: Scalar): string {
  const k = d === 'bool' ? 'b' : d.startsWith('int') || d.startsWith('uint') ? 'i' : d.startsWith('float') ? 'f' : 'c';
  if (typeof v === 'boolean') return d;
  if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v) && !Object.is(v, -0))) return k === 'b' ? 'int64' : d;
  if (typeof v === 'number') return k === 'f' || k === 'c' ? d : 'float64';
  return k === 'c' ? d : d === 'float64' ? 'complex128' : k === 'f' ? 'complex64' : 'complex128';
}

/** `x` and `y` as arrays: a scalar next to an array takes the dtype NumPy 2's weak promotion gives it. */
function operands(x: Comparable, y: Comparable): [NdArray, NdArray] {
  const sx = isScalar(x);
  const sy = isScalar(y);
  if (sx && sy) return [asArray(x), asArray(y)];
  if (sx) {
    const b = asArray(y);
    return [full([], x as Scalar, { dtype: weakDtype(b.dtype, x as Scalar) }), b];
  }
  if (sy) {
    const a = asArray(x);
    return [a, full([], y as Scalar, { dtype: weakDtype(a.dtype, y as Scalar) })];
  }
  return [asArray(x), asArray(y)];
}

function wherePlan(cond: Comparable, x: Comparable, y: Comparable, options: OutOptions | undefined, async: boolean): NdArray | Promise<NdArray> {
  const o = opts(options, 'where');
  const c = asArray(cond);
  const [a, b] = operands(x, y);
  const shape = broadcastShapes(c.shape, a.shape, b.shape);
  const dtype = native(() => binding.resultType([a.dtype, b.dtype]));
  const out = c.outFor(o, dtype, shape);
  const v = (t: NdArray) => t.viewArg(broadcastStrides(t.shape, t.strides, shape), shape);
  const views = { cond: v(c), x: v(a), y: v(b), out: out.viewArg() };
  const args = [c._s.native, a._s.native, b._s.native, out._s.native, views] as const;
  const r = run<unknown>(async, () => binding.whereInto(...args), () => binding.whereIntoAsync(...args));
  return r instanceof Promise ? r.then(() => out) : out;
}

/** NumPy's `where`: with `x` and `y`, elementwise `cond ? x : y` (broadcast, NumPy's result type); alone, `nonzero(cond)`. */
export function where(cond: Comparable): NdArray[];
export function where(cond: Comparable, x: Comparable, y: Comparable, options?: OutOptions): NdArray;
export function where(cond: Comparable, x?: Comparable, y?: Comparable, options?: OutOptions): NdArray | NdArray[] {
  if (x === undefined && y === undefined) return nonzeroOf(asArray(cond), false, false) as NdArray[];
  if (x === undefined || y === undefined) throw invalidArg('either both or neither of x and y should be given');
  return wherePlan(cond, x, y, options, false) as NdArray;
}

export function whereAsync(cond: Comparable): Promise<NdArray[]>;
export function whereAsync(cond: Comparable, x: Comparable, y: Comparable, options?: OutOptions): Promise<NdArray>;
export function whereAsync(cond: Comparable, x?: Comparable, y?: Comparable, options?: OutOptions): Promise<NdArray | NdArray[]> {
  return settle<NdArray | NdArray[]>(() => {
    if (x === undefined && y === undefined) return nonzeroOf(asArray(cond), true, false) as Promise<NdArray[]>;
    if (x === undefined || y === undefined) throw invalidArg('either both or neither of x and y should be given');
    return wherePlan(cond, x, y, options, true) as Promise<NdArray>;
  });
}

// ---------------------------------------------------------------------------- joining

const KIND_RANK: Record<string, number> = { b: 0, u: 1, i: 2, f: 3, c: 4 };
function kindOf(d: string): string {
  return d === 'bool' ? 'b' : d.startsWith('uint') ? 'u' : d.startsWith('int') ? 'i' : d.startsWith('float') ? 'f' : 'c';
}

/** NumPy's `can_cast(from, to, 'same_kind')`. */
function sameKind(from: string, to: string): boolean {
  const [f, t] = [kindOf(from), kindOf(to)];
  return KIND_RANK[t]! >= KIND_RANK[f]! && !(f === 'i' && t === 'u');
}

function arraysOf(arrays: Iterable<Comparable>, what: string): NdArray[] {
  if (arrays === null || arrays === undefined || typeof (arrays as Iterable<Comparable>)[Symbol.iterator] !== 'function' || typeof arrays === 'string') {
    throw typeError(`${what} takes a list of arrays`);
  }
  return Array.from(arrays, (a) => asArray(a));
}

function joinPlan(list: NdArray[], axis: number, options: JoinOptions | undefined, fortran: boolean, async: boolean): NdArray | Promise<NdArray> {
  const o = opts(options, 'concatenate');
  const release = releaseOf(o);
  const [on, ov, out] = outOf(o);
  if (out !== undefined) {
      for (const a of list) {
      if (!sameKind(a.dtype, out.dtype)) throw typeError(`Cannot cast array data from dtype('${a.dtype}') to dtype('${out.dtype}') according to the rule 'same_kind'`);
    }
  }
  const args = { axis, views: list.map((a) => a.viewArg()), outView: ov, release, fortran };
  const natives = list.map((a) => a._s.native);
  const copied = list.some((a) => a._s.copied);
  const r = run<Native>(async, () => binding.concatenate(natives, on, args), () => binding.concatenateAsync(natives, on, args));
  return r instanceof Promise ? r.then((x) => result(x, out, copied)) : result(r, out, copied);
}

function concatPlan(arrays: Iterable<Comparable>, options: JoinOptions | undefined, async: boolean): NdArray | Promise<NdArray> {
  const o = opts(options, 'concatenate');
  let list = arraysOf(arrays, 'concatenate');
  let axis = 0;
  if (o.axis === null) {
    // NumPy's axis=None: the arrays flattened (a copy for views that are not C-contiguous).
    list = list.map((a) => (isContiguous(a.shape, a.strides, a.itemsize, false) ? a : a.copy()).reshape(-1));
  } else if (o.axis !== undefined) {
    if (!Number.isInteger(o.axis)) throw typeError(`axis must be an integer, got ${String(o.axis)}`);
    const nd = list[0]?.ndim ?? 0;
    axis = list.length > 0 && nd > 0 ? axisOf(o.axis, nd) : Math.max(o.axis, 0);
  }
  // NumPy keeps Fortran order when every input is in it.
  const fortran = list.length > 0 && list.every((a) => a.ndim > 1 && isContiguous(a.shape, a.strides, a.itemsize, true) && !isContiguous(a.shape, a.strides, a.itemsize, false));
  return joinPlan(list, axis, options, fortran, async);
}

/** NumPy's `concatenate(arrays, axis=0, out=None)`: into `out` (e.g. an `openNpy('w+')` array) when given. */
export function concatenate(arrays: Iterable<Comparable>, options?: JoinOptions): NdArray {
  return concatPlan(arrays, options, false) as NdArray;
}

export function concatenateAsync(arrays: Iterable<Comparable>, options?: JoinOptions): Promise<NdArray> {
  return settle(() => concatPlan(arrays, options, true) as Promise<NdArray>);
}

function stackPlan(arrays: Iterable<Comparable>, options: JoinOptions | undefined, async: boolean): NdArray | Promise<NdArray> {
  const o = opts(options, 'stack');
  const list = arraysOf(arrays, 'stack');
  if (list.length === 0) throw invalidArg('need at least one array to stack');
  const shape = list[0]!.shape;
  if (list.some((a) => a.ndim !== shape.length || a.shape.some((d, i) => d !== shape[i]))) throw invalidArg('all input arrays must have the same shape');
  if (o.axis === null) throw typeError('stack takes an integer axis');
  const axis = axisOf(o.axis ?? 0, shape.length + 1);
  // Each array with a new length-1 axis, then concatenated along it (NumPy's own definition).
  const expanded = list.map((a) => {
    const s = [...a.shape];
    const st = [...a.strides];
    s.splice(axis, 0, 1);
    st.splice(axis, 0, 0);
    return new NdArray(a._s, s, st, a._offset);
  });
  return joinPlan(expanded, axis, options, false, async);
}

/** NumPy's `stack(arrays, axis=0, out=None)`: arrays of one shape joined along a new axis. */
export function stack(arrays: Iterable<Comparable>, options?: JoinOptions): NdArray {
  return stackPlan(arrays, options, false) as NdArray;
}

export function stackAsync(arrays: Iterable<Comparable>, options?: JoinOptions): Promise<NdArray> {
  return settle(() => stackPlan(arrays, options, true) as Promise<NdArray>);
}
