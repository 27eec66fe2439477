/**
 * Comparing whole arrays: `arrayEqual` (NumPy's `array_equal`), `allclose`, `isclose`, and the
 * elementwise comparisons and tests as functions (`equal(a, b)` is `a.equal(b)`).
 */
import { array } from './io';
import { broadcastShapes, broadcastStrides } from './broadcast';
import { closedError, native, nativeAsync, typeError } from './errors';
import { NdArray } from './ndarray';
import type { Scalar } from './storage';

export type { CloseOptions, IsCloseOptions, ArrayEqualOptions, OutOptions, Comparable } from '../index';
import type { CloseOptions, IsCloseOptions, ArrayEqualOptions, OutOptions, Comparable } from '../index';

/** An operand as NumPy's `asarray` sees it. */
export function asArray(x: Comparable): NdArray {
  if (x instanceof NdArray) {
    if (x.closed) throw closedError();
    return x;
  }
  if (Array.isArray(x) || ArrayBuffer.isView(x)) return array(x as Parameters<typeof array>[0]);
  if (typeof x === 'number' || typeof x === 'bigint' || typeof x === 'boolean') return array(x as never);
  throw typeError(`expected an NdArray, nested arrays, a TypedArray or a scalar, got ${x === null ? 'null' : typeof x}`);
}

/** NumPy's `array_equal`: same shape and equal values (`{ equalNan }`: NaN equals NaN at the same place). */
export function arrayEqual(a: Comparable, b: Comparable, options?: ArrayEqualOptions): boolean {
  const [x, y, nan] = equalArgs(a, b, options);
  return native(() => x._s.native.arrayEqual(x.viewArg(), y._s.native, y.viewArg(), nan)) as boolean;
}

export async function arrayEqualAsync(a: Comparable, b: Comparable, options?: ArrayEqualOptions): Promise<boolean> {
  const [x, y, nan] = equalArgs(a, b, options);
  return (await nativeAsync(() => x._s.native.arrayEqualAsync(x.viewArg(), y._s.native, y.viewArg(), nan))) as boolean;
}

function equalArgs(a: Comparable, b: Comparable, options: ArrayEqualOptions | undefined): [NdArray, NdArray, boolean] {
  const nan = options?.equalNan ?? false;
  if (typeof nan !== 'boolean') throw typeError(`equalNan must be a boolean, got ${typeof nan}`);
  return [asArray(a), asArray(b), nan];
}

interface Close {
  x: NdArray;
  y: NdArray;
  shape: number[];
  tol: { rtol: number; atol: number; equalNan: boolean };
}

function closeArgs(a: Comparable, b: Comparable, options: CloseOptions | undefined): Close {
  const o = options ?? {};
  if (typeof o !== 'object') throw typeError('options must be an object');
  const rtol = o.rtol ?? 1e-5;
  const atol = o.atol ?? 1e-8;
  const equalNan = o.equalNan ?? false;
  if (typeof rtol !== 'number' || typeof atol !== 'number') throw typeError('rtol and atol must be numbers');
  if (typeof equalNan !== 'boolean') throw typeError(`equalNan must be a boolean, got ${typeof equalNan}`);
  const [x, y] = [asArray(a), asArray(b)];
  return { x, y, shape: broadcastShapes(x.shape, y.shape), tol: { rtol, atol, equalNan } };
}

function views(c: Close) {
  const { x, y, shape } = c;
  return [x.viewArg(broadcastStrides(x.shape, x.strides, shape), shape), y._s.native, y.viewArg(broadcastStrides(y.shape, y.strides, shape), shape)] as const;
}

/** NumPy's `allclose`: `|a - b| <= atol + rtol * |b|` everywhere (finite `b`), or equal; `{ rtol=1e-5, atol=1e-8, equalNan=false }`. */
export function allclose(a: Comparable, b: Comparable, options?: CloseOptions): boolean {
  const c = closeArgs(a, b, options);
  return native(() => c.x._s.native.closeness(...views(c), undefined, undefined, c.tol)) as boolean;
}

export async function allcloseAsync(a: Comparable, b: Comparable, options?: CloseOptions): Promise<boolean> {
  const c = closeArgs(a, b, options);
  return (await nativeAsync(() => c.x._s.native.closenessAsync(...views(c), undefined, undefined, c.tol))) as boolean;
}

function isclosePlan(a: Comparable, b: Comparable, options: IsCloseOptions | undefined): [Close, NdArray] {
  const c = closeArgs(a, b, options);
  return [c, c.x.outFor(options, 'bool', c.shape)];
}

/** NumPy's `isclose` elementwise, as a bool array of the broadcast shape (into `out` when given). */
export function isclose(a: Comparable, b: Comparable, options?: IsCloseOptions): NdArray {
  const [c, out] = isclosePlan(a, b, options);
  native(() => c.x._s.native.closeness(...views(c), out._s.native, out.viewArg(), c.tol));
  return out;
}

export async function iscloseAsync(a: Comparable, b: Comparable, options?: IsCloseOptions): Promise<NdArray> {
  const [c, out] = isclosePlan(a, b, options);
  await nativeAsync(() => c.x._s.native.closenessAsync(...views(c), out._s.native, out.viewArg(), c.tol));
  return out;
}

type Cmp = 'equal' | 'notEqual' | 'less' | 'lessEqual' | 'greater' | 'greaterEqual';
/** `scalar op array` is `array mirror(op) scalar`. */
const MIRROR: Record<Cmp, Cmp> = { equal: 'equal', notEqual: 'notEqual', less: 'greater', lessEqual: 'greaterEqual', greater: 'less', greaterEqual: 'lessEqual' };

function cmp(op: Cmp, a: NdArray | Scalar, b: NdArray | Scalar, options: OutOptions | undefined): NdArray {
  if (a instanceof NdArray) return a[op](b, options);
  if (b instanceof NdArray) return b[MIRROR[op]](a, options);
  return asArray(a)[op](b, options);
}

/** `a == b` elementwise (either may be a scalar). */
export function equal(a: NdArray | Scalar, b: NdArray | Scalar, options?: OutOptions): NdArray { return cmp('equal', a, b, options); }
export function notEqual(a: NdArray | Scalar, b: NdArray | Scalar, options?: OutOptions): NdArray { return cmp('notEqual', a, b, options); }
export function less(a: NdArray | Scalar, b: NdArray | Scalar, options?: OutOptions): NdArray { return cmp('less', a, b, options); }
export function lessEqual(a: NdArray | Scalar, b: NdArray | Scalar, options?: OutOptions): NdArray { return cmp('lessEqual', a, b, options); }
export function greater(a: NdArray | Scalar, b: NdArray | Scalar, options?: OutOptions): NdArray { return cmp('greater', a, b, options); }
export function greaterEqual(a: NdArray | Scalar, b: NdArray | Scalar, options?: OutOptions): NdArray { return cmp('greaterEqual', a, b, options); }
/** `isnan(a)` elementwise. */
export function isnan(a: Comparable, options?: OutOptions): NdArray { return asArray(a).isnan(options); }
/** `isfinite(a)` elementwise. */
export function isfinite(a: Comparable, options?: OutOptions): NdArray { return asArray(a).isfinite(options); }
