/** Element types on the JavaScript side: names, sizes, TypedArray classes, float16. */

export type { DType, ByteOrder, TypedArray } from '../index';
import type { ByteOrder, DType, TypedArray } from '../index';

type TypedArrayCtor = {
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): TypedArray;
  new (length: number): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
};

export const DTYPES: readonly DType[] = [
  'bool', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32',
  'int64', 'uint64', 'float16', 'float32', 'float64', 'complex64', 'complex128',
];

/** Everything the JS layer needs per dtype. */
export interface DTypeInfo {
  name: DType;
  itemsize: number;
  /** TypedArray class of `data` (interleaved for complex). */
  ctor: TypedArrayCtor;
  /** TypedArray elements per array element (2 for complex). */
  lanes: number;
  kind: 'b' | 'i' | 'u' | 'f' | 'c';
  /** Alignment NumPy requires for `flags.aligned`. */
  alignment: number;
}

const table: Record<DType, [number, TypedArrayCtor, number, DTypeInfo['kind']]> = {
  bool: [1, Uint8Array, 1, 'b'],
  int8: [1, Int8Array, 1, 'i'],
  uint8: [1, Uint8Array, 1, 'u'],
  int16: [2, Int16Array, 1, 'i'],
  uint16: [2, Uint16Array, 1, 'u'],
  int32: [4, Int32Array, 1, 'i'],
  uint32: [4, Uint32Array, 1, 'u'],
  int64: [8, BigInt64Array, 1, 'i'],
  uint64: [8, BigUint64Array, 1, 'u'],
  float16: [2, Uint16Array, 1, 'f'],
  float32: [4, Float32Array, 1, 'f'],
  float64: [8, Float64Array, 1, 'f'],
  complex64: [8, Float32Array, 2, 'c'],
  complex128: [16, Float64Array, 2, 'c'],
};

const INFOS = new Map<DType, Readonly<DTypeInfo>>();

/** The (shared, frozen) info of a dtype. */
export function dtypeInfo(name: DType): DTypeInfo {
  let info = INFOS.get(name);
  if (info === undefined) {
    const [itemsize, ctor, lanes, kind] = table[name];
    INFOS.set(name, (info = Object.freeze({ name, itemsize, ctor, lanes, kind, alignment: itemsize / lanes })));
  }
  return info;
}

/** Dtype infos by dtype code (index in `DTYPES`), for the small-call paths. */
export const DTYPE_INFOS: readonly DTypeInfo[] = DTYPES.map(dtypeInfo);

export const NATIVE_ORDER: ByteOrder =
  new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? '<' : '>';

/** The dtype a TypedArray holds by default. */
export function dtypeOfTypedArray(a: ArrayBufferView): DType | undefined {
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint8Array || a instanceof Uint8ClampedArray) return 'uint8';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Uint16Array) return 'uint16';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint32Array) return 'uint32';
  if (a instanceof BigInt64Array) return 'int64';
  if (a instanceof BigUint64Array) return 'uint64';
  return undefined;
}

/** IEEE 754 half-precision bits to a number. */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** A number to IEEE 754 half-precision bits, rounding to nearest even (as NumPy). */
export function numberToHalf(v: number): number {
  if (Number.isNaN(v)) return 0x7e00;
  // Rounds from the float64 value directly, as NumPy does (no float32 step).
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a === Infinity) return sign | 0x7c00;
  if (a >= 65520) return sign | 0x7c00; // rounds to infinity
  if (a < 2 ** -25) {
    // below half the smallest subnormal (ties to even round to 0)
    return sign;
  }
  if (a < 2 ** -14) {
    // subnormal: units of 2^-24
    const m = roundHalfEven(a * 2 ** 24);
    return sign | m; // m may be 0x400, which is the smallest normal: still correct
  }
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e -= 1;
  if (2 ** (e + 1) <= a) e += 1;
  let m = roundHalfEven((a / 2 ** e - 1) * 1024);
  if (m === 1024) {
    m = 0;
    e += 1;
  }
  if (e + 15 >= 0x1f) return sign | 0x7c00;
  return sign | ((e + 15) << 10) | m;
}

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
