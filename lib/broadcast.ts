/** NumPy broadcasting of shapes and strides. */
import { invalidArg } from './errors';

/** The broadcast shape of several shapes, or an error like NumPy's. */
export function broadcastShapes(...shapes: (readonly number[])[]): number[] {
  const nd = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(nd).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const k = nd - s.length + i;
      const d = s[i]!;
      if (out[k] === 1) out[k] = d;
      else if (d !== 1 && d !== out[k]) {
        throw invalidArg(`operands could not be broadcast together with shapes ${shapes.map((x) => `(${x.join(',')}${x.length === 1 ? ',' : ''})`).join(' ')}`);
      }
    }
  }
  return out;
}

/** Strides that view `shape`/`strides` as `target` (0 on broadcast axes). */
export function broadcastStrides(shape: readonly number[], strides: readonly number[], target: readonly number[]): number[] {
  const out = new Array<number>(target.length).fill(0);
  for (let i = 0; i < shape.length; i++) {
    const k = target.length - shape.length + i;
    out[k] = shape[i] === 1 && target[k] !== 1 ? 0 : strides[i]!;
  }
  return out;
}
