/** NumPy basic indexing: slice specs, the string form `'1:, ::-2'`, and reshape without copy. */
import { invalidArg, rangeError, typeError } from './errors';

/** `[start, stop, step]`; any may be null or omitted. */
export type Range = [start?: number | null, stop?: number | null, step?: number | null];
/** A number drops the axis, `null` keeps it whole, a `Range` slices it. */
export type SliceSpec = number | null | Range;

export interface Strided { shape: readonly number[]; strides: readonly number[]; offset: number }

function int(v: unknown, what: string): number {
  if (typeof v === 'bigint') v = Number(v);
  if (typeof v !== 'number' || !Number.isInteger(v)) throw typeError(`${what} must be an integer, got ${String(v)}`);
  return v;
}

/** Parses `'10:20, ::-2, 3, ...'` into specs ('...' stands for as many whole axes as needed). */
export function parseSliceString(s: string): (SliceSpec | '...')[] {
  return s.split(',').map((part) => {
    const p = part.trim();
    if (p === '...') return '...';
    if (p === '' || p === ':' || p === '::') return null;
    const fields = p.split(':');
    if (fields.length > 3) throw invalidArg(`invalid slice '${p}' in '${s}'`);
    const nums = fields.map((f) => {
      const t = f.trim();
      if (t === '') return null;
      if (!/^[+-]?\d+$/.test(t)) throw invalidArg(`invalid slice '${p}' in '${s}': '${t}' is not an integer`);
      return Number(t);
    });
    if (fields.length === 1) return nums[0]!;
    return nums as Range;
  });
}

/**
 * Applies basic-indexing specs to a strided layout (NumPy semantics). The result's arrays are
 * allocated at their final length: growing empty arrays by `push` was half of a slice's cost.
 */
export function applySlices(v: Strided, specsIn: (SliceSpec | '...')[]): Strided {
  let specs = specsIn;
  const nd = v.shape.length;
  const ell = specs.indexOf('...');
  if (ell !== -1) {
    if (specs.indexOf('...', ell + 1) !== -1) throw invalidArg("an index can only have a single ellipsis ('...')");
    const fill = nd - (specs.length - 1);
    specs = [...specs.slice(0, ell), ...new Array<null>(Math.max(fill, 0)).fill(null), ...specs.slice(ell + 1)];
  }
  if (specs.length > nd) {
    throw rangeError(`too many indices: array is ${nd}-dimensional, but ${specs.length} were indexed`);
  }
  let dropped = 0;
  for (let k = 0; k < specs.length; k++) {
    const t = typeof specs[k];
    if (t === 'number' || t === 'bigint') dropped++;
  }
  const shape = new Array<number>(nd - dropped);
  const strides = new Array<number>(nd - dropped);
  let out = 0;
  let offset = v.offset;
  for (let axis = 0; axis < nd; axis++) {
    const n = v.shape[axis]!;
    const stride = v.strides[axis]!;
    const spec = axis < specs.length ? specs[axis] : null;
    if (spec === null || spec === undefined) {
      shape[out] = n;
      strides[out++] = stride;
    } else if (typeof spec === 'number' || typeof spec === 'bigint') {
      let i = int(spec, 'index');
      if (i < 0) i += n;
      if (i < 0 || i >= n) throw rangeError(`index ${String(spec)} is out of bounds for axis ${axis} with size ${n}`);
      offset += i * stride;
    } else if (Array.isArray(spec)) {
      if (spec.length > 3) throw invalidArg(`a slice is [start, stop, step], got ${spec.length} values`);
      // adjust()'s steps without its tuple (a third of a 1-D slice's cost).
      const step = sliceStep(spec[2]);
      const start = sliceStart(n, step, spec[0]);
      const len = sliceLength(n, start, step, spec[1]);
      shape[out] = len;
      // NumPy: an empty slice keeps the axis' stride (step 1) and moves no offset.
      strides[out++] = len > 0 ? stride * step : stride;
      if (len > 0) offset += start * stride;
    } else {
      throw typeError(`a slice spec is a number, null or [start, stop, step], got ${typeof spec}`);
    }
  }
  return { shape, strides, offset };
}

/** A slice bound clamped as `PySlice_AdjustIndices` does (a function, not a closure per call: slicing is per-call cost). */
function clampBound(n: number, step: number, v: number | null | undefined, dflt: number): number {
  if (v === null || v === undefined) return dflt;
  let i = typeof v === 'number' && Number.isInteger(v) ? v : int(v, 'slice bound');
  if (i < 0) {
    i += n;
    if (i < 0) i = step < 0 ? -1 : 0;
  } else if (i >= n) {
    i = step < 0 ? n - 1 : n;
  }
  return i;
}

/** Python's `PySlice_AdjustIndices`: (start, length, step). */
export function adjust(n: number, startIn?: number | null, stopIn?: number | null, stepIn?: number | null): [number, number, number] {
  const step = sliceStep(stepIn);
  const start = sliceStart(n, step, startIn);
  return [start, sliceLength(n, start, step, stopIn), step];
}

/** A slice's step (1 when omitted; never zero). */
function sliceStep(v: number | null | undefined): number {
  const step = v === null || v === undefined ? 1 : int(v, 'slice step');
  if (step === 0) throw invalidArg('slice step cannot be zero');
  return step;
}

/** A slice's first index, clamped (the end the step starts from when omitted). */
function sliceStart(n: number, step: number, v: number | null | undefined): number {
  return clampBound(n, step, v, step < 0 ? n - 1 : 0);
}

/** The number of indices from clamped `start` to the clamped stop `v` by `step`. */
function sliceLength(n: number, start: number, step: number, v: number | null | undefined): number {
  const stop = clampBound(n, step, v, step < 0 ? -1 : n);
  if (step < 0) return stop < start ? Math.floor((start - stop - 1) / -step) + 1 : 0;
  return start < stop ? Math.floor((stop - start - 1) / step) + 1 : 0;
}

/** Strides for `newShape` over the same memory in C order, or null when a copy would be needed (NumPy's `_attempt_nocopy_reshape`). */
export function reshapeStrides(shape: number[], strides: number[], newShape: number[], itemsize: number): number[] | null {
  const od: number[] = [];
  const os: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] !== 1) {
      od.push(shape[i]!);
      os.push(strides[i]!);
    }
  }
  const nd = newShape;
  const ns = new Array<number>(nd.length).fill(0);
  let oi = 0, oj = 1, ni = 0, nj = 1;
  while (ni < nd.length && oi < od.length) {
    let np = nd[ni]!;
    let op = od[oi]!;
    while (np !== op) {
      if (np < op) np *= nd[nj++]!;
      else op *= od[oj++]!;
    }
    for (let ok = oi; ok < oj - 1; ok++) {
      if (os[ok] !== od[ok + 1]! * os[ok + 1]!) return null;
    }
    ns[nj - 1] = os[oj - 1]!;
    for (let nk = nj - 1; nk > ni; nk--) ns[nk - 1] = ns[nk]! * nd[nk]!;
    ni = nj++;
    oi = oj++;
  }
  const last = ni > 0 ? ns[ni - 1]! : itemsize;
  for (let nk = ni; nk < nd.length; nk++) ns[nk] = last;
  return ns;
}

/** C-order strides of a shape. */
export function cStrides(shape: readonly number[], itemsize: number): number[] {
  const s = new Array<number>(shape.length);
  let acc = itemsize;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= Math.max(shape[i]!, 1);
  }
  return s;
}

/** Fortran-order strides of a shape. */
export function fStrides(shape: readonly number[], itemsize: number): number[] {
  const s = new Array<number>(shape.length);
  let acc = itemsize;
  for (let i = 0; i < shape.length; i++) {
    s[i] = acc;
    acc *= Math.max(shape[i]!, 1);
  }
  return s;
}

/** NumPy's contiguity test (axes of length 1 ignored; empty arrays are both). */
export function isContiguous(shape: readonly number[], strides: readonly number[], itemsize: number, fortran: boolean): boolean {
  if (shape.includes(0)) return true;
  let expected = itemsize;
  for (let k = 0; k < shape.length; k++) {
    const i = fortran ? k : shape.length - 1 - k;
    if (shape[i] !== 1) {
      if (strides[i] !== expected) return false;
      expected *= shape[i]!;
    }
  }
  return true;
}
