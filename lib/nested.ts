/** Nested JavaScript arrays as NumPy sees a list of lists: their shape, their values, their bytes. */
import { NATIVE_ORDER, DType, dtypeInfo, numberToHalf } from './dtype';
import { invalidArg } from './errors';
import { checkValue, Complex } from './storage';

/** Flattens rectangular nested arrays, returning the values and the shape. */
export function flatten(data: unknown): [unknown[], number[]] {
  const shape: number[] = [];
  let probe: unknown = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    if (probe.length === 0) break;
    probe = probe[0];
  }
  const flat: unknown[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (Array.isArray(v)) throw invalidArg('nested arrays are not rectangular (ragged depth)');
      flat.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) throw invalidArg(`nested arrays are not rectangular: expected length ${shape[depth]} at depth ${depth}`);
    for (const x of v) walk(x, depth + 1);
  };
  walk(data, 0);
  return [flat, shape];
}

/** Encodes values into bytes of `dtype` in `order`, checking each like `set`. */
export function encode(flat: unknown[], dtype: DType, order: string): Uint8Array {
  const dt = dtypeInfo(dtype);
  const out = new dt.ctor(flat.length * dt.lanes);
  for (let i = 0; i < flat.length; i++) {
    const v = checkValue(dtype, flat[i]);
    if (dt.kind === 'c') {
      out[2 * i] = (v as Complex).re;
      out[2 * i + 1] = (v as Complex).im;
    } else if (dtype === 'float16') {
      out[i] = numberToHalf(v as number);
    } else {
      (out as unknown as { [k: number]: unknown })[i] = v;
    }
  }
  const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  if (order !== '|' && order !== NATIVE_ORDER) {
    const part = dt.itemsize / dt.lanes;
    for (let i = 0; i < bytes.length; i += part) bytes.subarray(i, i + part).reverse();
  }
  return bytes;
}
