/**
 * NumPy 2's "weak" Python scalars in comparisons: the dtype a scalar takes next to an array.
 * An integer (a bigint or an integral number) next to an integer or bool array compares
 * exactly, whatever its size (`int8Array.less(300)` is all true); next to a float or complex
 * array it converts to that dtype. Another number is a float64 next to integers and bools,
 * and takes a float or complex array's dtype. A boolean takes the array's dtype; `{ re, im }`
 * the array's complex precision.
 */
import type { ScalarIn } from '../binding';
import { DType } from './dtype';
import { rangeError, typeError } from './errors';
import type { Complex } from './storage';

function isIntDtype(d: DType): boolean {
  return d === 'bool' || d.startsWith('int') || d.startsWith('uint');
}

/** The scalar for the addon and the dtype it is held in. */
export function weakScalar(dtype: DType, v: unknown): [ScalarIn, string] {
  const float = (x: number): ScalarIn => ({ kind: 'float', value: x, im: 0, text: '' });
  if (typeof v === 'boolean') return [{ kind: 'bool', value: v ? 1 : 0, im: 0, text: v ? '1' : '0' }, dtype];
  if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v) && !Object.is(v, -0))) {
    const b = BigInt(v);
    const s: ScalarIn | undefined = b >= -(2n ** 63n) && b < 2n ** 63n ? { kind: 'int', value: Number(b), im: 0, text: b.toString() }
      : b >= 0n && b < 2n ** 64n ? { kind: 'uint', value: Number(b), im: 0, text: b.toString() } : undefined;
    if (!isIntDtype(dtype)) return [s ?? float(Number(b)), dtype];
    // Next to bools a Python int is an int64 (NumPy: OverflowError beyond it).
    if (dtype === 'bool' && s?.kind !== 'int') throw rangeError(`integer ${b} is out of bounds for int64 (comparing with a bool array)`);
    // Beyond 64 bits no integer of the array can equal it: float64 keeps every order right.
    return s === undefined ? [float(Number(b)), 'float64'] : [s, s.kind === 'int' ? 'int64' : 'uint64'];
  }
  if (typeof v === 'number') return [float(v), isIntDtype(dtype) ? 'float64' : dtype];
  if (v !== null && typeof v === 'object' && typeof (v as Complex).re === 'number' && typeof (v as Complex).im === 'number') {
    const c = v as Complex;
    const cd = dtype.startsWith('complex') ? dtype : dtype === 'float16' || dtype === 'float32' ? 'complex64' : 'complex128';
    return [{ kind: 'complex', value: c.re, im: c.im, text: '' }, cd];
  }
  throw typeError(`an operand must be an NdArray, a number, a bigint, a boolean or { re, im }, got ${v === null ? 'null' : typeof v}`);
}
