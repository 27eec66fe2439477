/**
 * Arrays made from a shape or a range: `zeros`, `ones`, `empty`, `full`, `arange`, `linspace`
 * (NumPy's constructors, in memory, with NumPy's dtype rules and NumPy's values bit for bit).
 *
 * As everywhere in mmnpy, an integral number (or a bigint) stands for a Python int and any
 * other number (and -0) for a Python float: `arange(10)` is int64, `arange(0.5, 3)` float64,
 * `full(3, 7)` int64, `full(3, 7.5)` float64; give `{ dtype }` for another type.
 */
import * as binding from '../binding';
import type { ScalarIn } from '../binding';
import { DType } from './dtype';
import { invalidArg, native, nativeAsync, rangeError, typeError } from './errors';
import { toOrder, toShape } from './io';
import { NdArray } from './ndarray';
import { setitemValue, toScalarIn } from './setitem';
import { checkValue, Complex, Storage } from './storage';

export type { ConstructOptions, ArangeOptions, LinspaceOptions, Shape } from '../index';
import type { ConstructOptions, ArangeOptions, LinspaceOptions, Shape } from '../index';

function whole(n: binding.NativeArray): NdArray {
  return NdArray._whole(new Storage(n, false));
}

function opts<T extends object>(o: T | undefined, what: string): Partial<T> {
  if (o === undefined || o === null) return {};
  if (typeof o !== 'object') throw typeError(`${what} options must be an object`);
  return o;
}

/** Whether a value stands for a Python int. */
function isInt(v: unknown): v is number | bigint {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v) && !Object.is(v, -0));
}

function isComplex(v: unknown): v is Complex {
  return v !== null && typeof v === 'object' && typeof (v as Complex).re === 'number' && typeof (v as Complex).im === 'number';
}

/** The dtype NumPy gives a Python int. */
function intDtype(v: number | bigint): DType {
  const b = BigInt(v);
  if (b >= -(2n ** 63n) && b < 2n ** 63n) return 'int64';
  if (b >= 0n && b < 2n ** 64n) return 'uint64';
  throw rangeError(`integer ${b} fits neither int64 nor uint64 (NumPy would make an object array); give { dtype }`);
}

function shapeOf(shape: Shape): number[] {
  if (shape === undefined || shape === null) throw typeError('a shape is required');
  return toShape(shape)!;
}

/** A new array of zeros (NumPy's `np.zeros`): `{ dtype='float64', order='C' }`. O(1): pages are zero until written. */
export function zeros(shape: Shape, options?: ConstructOptions): NdArray {
  const o = opts(options, 'zeros');
  const s = shapeOf(shape);
  return whole(native(() => binding.newZeros(o.dtype ?? 'float64', s, toOrder(o.order))));
}

/** NumPy's `np.empty`: here the memory is always zeroed (never another allocation's leftovers), at no extra cost. */
export function empty(shape: Shape, options?: ConstructOptions): NdArray {
  return zeros(shape, options);
}

/** `value` as `np.full`'s `copyto(a, value, casting='unsafe')` converts it: Python floats and complex cast unsafely. */
function fullValue(dtype: DType, v: unknown): ScalarIn {
  if (typeof v === 'number' && !isInt(v)) return { kind: 'float', value: v, im: 0, text: '' };
  if (isComplex(v)) return { kind: 'complex', value: v.re, im: v.im, text: '' };
  return toScalarIn(checkValue(dtype, setitemValue(dtype, v)), dtype);
}

function fullDtype(value: unknown): DType {
  if (typeof value === 'boolean') return 'bool';
  if (isInt(value)) return intDtype(value);
  if (typeof value === 'number') return 'float64';
  if (isComplex(value)) return 'complex128';
  throw typeError(`full takes a number, bigint, boolean or { re, im }, got ${value === null ? 'null' : typeof value}`);
}

function fullPlan(shape: Shape, value: unknown, options: ConstructOptions | undefined): [NdArray, ScalarIn] {
  const o = opts(options, 'full');
  const a = zeros(shape, { ...o, dtype: o.dtype ?? fullDtype(value) });
  return [a, fullValue(a.dtype, value)];
}

/** A new array of `value` (NumPy's `np.full`): the dtype is `value`'s unless `{ dtype }` is given (then cast as NumPy's unsafe cast). */
export function full(shape: Shape, value: number | bigint | boolean | Complex, options?: ConstructOptions): NdArray {
  const [a, v] = fullPlan(shape, value, options);
  native(() => a._s.native.assignValue(a.viewArg(), v, false));
  return a;
}

export async function fullAsync(shape: Shape, value: number | bigint | boolean | Complex, options?: ConstructOptions): Promise<NdArray> {
  const [a, v] = fullPlan(shape, value, options);
  await nativeAsync(() => a._s.native.assignValueAsync(a.viewArg(), v, false));
  return a;
}

/** A new array of ones (NumPy's `np.ones`), float64 unless `{ dtype }`. */
export function ones(shape: Shape, options?: ConstructOptions): NdArray {
  return full(shape, 1, { dtype: 'float64', ...opts(options, 'ones') });
}

export function onesAsync(shape: Shape, options?: ConstructOptions): Promise<NdArray> {
  return fullAsync(shape, 1, { dtype: 'float64', ...opts(options, 'ones') });
}

type Bound = number | bigint;
type ArangeArgs = [Bound, (Bound | ArangeOptions | null)?, (Bound | ArangeOptions | null)?, ArangeOptions?];

/** dtype, length and the first two elements of `arange`, as NumPy's `PyArray_ArangeObj` computes them. */
function arangePlan(args: ArangeArgs): [string, number, ScalarIn | undefined, ScalarIn | undefined] {
  const last = args.findIndex((x, i) => i > 0 && x !== null && typeof x === 'object');
  const o = opts((last === -1 ? undefined : args[last]) as ArangeOptions | undefined, 'arange');
  const bounds = (last === -1 ? args : args.slice(0, last)).filter((x) => x !== undefined && x !== null) as unknown[];
  if (bounds.length === 0 || bounds.length > 3) throw typeError('arange takes (stop), (start, stop) or (start, stop, step)');
  for (const b of bounds) if (typeof b !== 'number' && typeof b !== 'bigint') throw typeError(`arange takes numbers or bigints, got ${typeof b}`);
  const [start, stop, step] = (bounds.length === 1 ? [0, bounds[0], 1] : [bounds[0], bounds[1], bounds[2] ?? 1]) as [Bound, Bound, Bound];
  const ints = isInt(start) && isInt(stop) && isInt(step);
  let n: number;
  let next: Bound;
  if (ints) {
    if (BigInt(step) === 0n) throw invalidArg('arange: step must not be zero (division by zero)');
    const range = BigInt(stop) - BigInt(start);
    n = Math.ceil(Number(range) / Number(step));
    next = BigInt(start) + BigInt(step);
  } else {
    const [a, b, s] = [Number(start), Number(stop), Number(step)];
    if (s === 0) throw invalidArg('arange: step must not be zero (division by zero)');
    const q = (b - a) / s;
    if (Number.isNaN(q)) throw invalidArg('arange: cannot compute length');
    if (!Number.isFinite(q)) throw invalidArg('arange: Maximum allowed size exceeded');
    n = Math.ceil(q);
    next = a + s;
  }
  n = Math.max(n, 0);
  // NumPy's dtype comes from the bounds given (not the defaults), promoted: int64 with uint64 is float64.
  const inferred = (): string => {
    const kinds = new Set(ints ? bounds.map((v) => intDtype(v as Bound)) : ['float64']);
    return kinds.size === 1 ? [...kinds][0]! : 'float64';
  };
  const dtypeSpec = o.dtype ?? inferred();
  const dtype = native(() => binding.parseDtype(dtypeSpec)).dtype as DType;
  if (dtype === 'bool' && n > 2) throw typeError('arange() is only supported for booleans when the result has at most length 2.');
  const convert = (v: unknown) => toScalarIn(checkValue(dtype, setitemValue(dtype, v)), dtype);
  return [dtypeSpec, n, n > 0 ? convert(start) : undefined, n > 1 ? convert(next) : undefined];
}

/**
 * Evenly spaced values in `[start, stop)` (NumPy's `np.arange`): `arange(stop)`, `arange(start, stop)`,
 * `arange(start, stop, step)`, options last. int64 when every bound is an integer, else float64.
 */
export function arange(...args: ArangeArgs): NdArray {
  const [dtype, n, first, second] = arangePlan(args);
  return whole(native(() => binding.arange(dtype, n, first, second)));
}

export async function arangeAsync(...args: ArangeArgs): Promise<NdArray> {
  const [dtype, n, first, second] = arangePlan(args);
  return whole(await nativeAsync(() => binding.arangeAsync(dtype, n, first, second)));
}

function linspacePlan(start: Bound, stop: Bound, num: number, options: LinspaceOptions | undefined): [string, number, number, number, boolean] {
  const o = opts(options, 'linspace');
  for (const b of [start, stop]) if (typeof b !== 'number' && typeof b !== 'bigint') throw typeError(`linspace takes numbers or bigints, got ${typeof b}`);
  if (typeof num !== 'number' || !Number.isInteger(num)) throw typeError(`num must be an integer, got ${String(num)}`);
  if (num < 0) throw invalidArg(`Number of samples, ${num}, must be non-negative.`);
  const endpoint = o.endpoint ?? true;
  if (typeof endpoint !== 'boolean') throw typeError(`endpoint must be a boolean, got ${typeof endpoint}`);
  return [o.dtype ?? 'float64', num, Number(start), Number(stop), endpoint];
}

/** `num` evenly spaced values from `start` to `stop` (NumPy's `np.linspace`, computed in float64; integer dtypes take the floor). */
export function linspace(start: Bound, stop: Bound, num = 50, options?: LinspaceOptions): NdArray {
  const p = linspacePlan(start, stop, num, options);
  return whole(native(() => binding.linspace(...p)));
}

export async function linspaceAsync(start: Bound, stop: Bound, num = 50, options?: LinspaceOptions): Promise<NdArray> {
  const p = linspacePlan(start, stop, num, options);
  return whole(await nativeAsync(() => binding.linspaceAsync(...p)));
}
