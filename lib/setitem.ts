/**
 * NumPy's setitem (`a[...] = value`): how a JavaScript value converts into an array's dtype,
 * and how a source array broadcasts into a destination's shape.
 *
 * Values convert as Python scalars do: an integral number or a bigint is a Python int (it
 * must fit an integer dtype: RangeError otherwise, NumPy's OverflowError); another number is
 * a Python float, which an integer dtype truncates toward zero (`2.9` -> 2, `-2.9` -> -2;
 * NaN is refused, infinities are out of range); booleans are 0/1; `{ re, im }` only goes
 * into complex dtypes (and bool: non-zero).
 */
import { DType } from './dtype';
import { invalidArg, rangeError, typeError } from './errors';
import type { ScalarIn } from '../binding';
import type { Complex, Scalar } from './storage';

const INT_RANGE: Record<string, [bigint, bigint]> = {
  int8: [-128n, 127n], uint8: [0n, 255n], int16: [-32768n, 32767n], uint16: [0n, 65535n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n], uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n], uint64: [0n, 2n ** 64n - 1n],
};

function complexOf(v: unknown): Complex | undefined {
  if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'number') return { re: v[0], im: v[1] };
  if (v !== null && typeof v === 'object' && typeof (v as Complex).re === 'number' && typeof (v as Complex).im === 'number') return v as Complex;
  return undefined;
}

function what(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.slice(0, 20))}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

/** `value` converted as `a[...] = value` converts it into `dtype` (a value `set` accepts). */
export function setitemValue(dtype: DType, v: unknown): Scalar {
  const c = typeof v === 'object' ? complexOf(v) : undefined;
  if (typeof v !== 'number' && typeof v !== 'bigint' && typeof v !== 'boolean' && c === undefined) {
    throw typeError(`cannot assign ${what(v)} to a ${dtype} array`);
  }
  if (dtype === 'bool') {
    if (c !== undefined) return c.re !== 0 || c.im !== 0;
    // NaN is true, as NumPy's bool(nan).
    return typeof v === 'bigint' ? v !== 0n : typeof v === 'number' ? v !== 0 : (v as boolean);
  }
  if (c !== undefined && !dtype.startsWith('complex')) {
    throw typeError(`cannot assign a complex value to a ${dtype} array (NumPy: TypeError); take .re explicitly`);
  }
  const range = INT_RANGE[dtype];
  if (range !== undefined) {
    let b: bigint;
    if (typeof v === 'boolean') b = v ? 1n : 0n;
    else if (typeof v === 'bigint') b = v;
    else {
      const n = v as number;
      if (Number.isNaN(n)) throw invalidArg(`cannot convert float NaN to integer (assigning into a ${dtype} array)`);
      if (!Number.isFinite(n)) throw rangeError(`cannot convert float infinity to integer (assigning into a ${dtype} array)`);
      b = BigInt(Math.trunc(n));
    }
    if (b < range[0] || b > range[1]) throw rangeError(`integer ${b} is out of bounds for ${dtype}`);
    return dtype.endsWith('64') ? b : Number(b);
  }
  if (dtype.startsWith('complex')) {
    if (c !== undefined) return { re: c.re, im: c.im };
    return { re: Number(v), im: 0 };
  }
  // float16/32/64: a Python int goes through a double (NumPy: OverflowError past its range).
  const x = Number(v);
  if (typeof v === 'bigint' && !Number.isFinite(x)) throw rangeError(`integer ${v} is too large to convert to float`);
  return x;
}

/** Strides that view a source of `shape`/`strides` as `target` for `dst[...] = src` (leading length-1 axes of the source dropped, like NumPy). */
export function setitemStrides(shape: readonly number[], strides: readonly number[], target: readonly number[]): number[] {
  let s = [...shape];
  let st = [...strides];
  while (s.length > target.length && s[0] === 1) {
    s = s.slice(1);
    st = st.slice(1);
  }
  const fmt = (x: readonly number[]) => `(${x.join(',')}${x.length === 1 ? ',' : ''})`;
  const ok = s.length <= target.length && s.every((d, i) => d === 1 || d === target[target.length - s.length + i]);
  if (!ok) throw invalidArg(`could not broadcast input array from shape ${fmt(shape)} into shape ${fmt(target)}`);
  const out = new Array<number>(target.length).fill(0);
  s.forEach((d, i) => {
    const k = target.length - s.length + i;
    out[k] = d === 1 && target[k] !== 1 ? 0 : st[i]!;
  });
  return out;
}

/** A checked value (see `checkValue`) as the addon takes scalars. */
export function toScalarIn(v: unknown, dtype: DType): ScalarIn {
  if (typeof v === 'bigint') return { kind: dtype === 'uint64' ? 'uint' : 'int', value: Number(v), im: 0, text: v.toString() };
  if (typeof v === 'number') {
    const intLike = dtype !== 'float16' && dtype !== 'float32' && dtype !== 'float64' && !dtype.startsWith('complex');
    return intLike ? { kind: 'int', value: v, im: 0, text: String(v) } : { kind: 'float', value: v, im: 0, text: '' };
  }
  const c = v as { re: number; im: number };
  return { kind: 'complex', value: c.re, im: c.im, text: '' };
}
