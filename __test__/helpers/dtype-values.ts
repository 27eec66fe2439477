// Values of datetime, string and record arrays as make_dtype_fixtures.py's manifest encodes them.
import type { NdArray } from '../../index'

/** A value as the manifest encodes it (see make_dtype_fixtures.py). */
export function canon(v: unknown): unknown {
  if (v === null) return null
  if (typeof v === 'bigint') return v.toString()
  if (v instanceof Uint8Array) return 'hex:' + Buffer.from(v).toString('hex')
  if (Array.isArray(v)) return v.map(canon)
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>
    if (Object.keys(o).length === 2 && typeof o.re === 'number' && typeof o.im === 'number') return [o.re, o.im]
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, canon(x)]))
  }
  return v
}

/** Every element of `a` in C order, encoded as the manifest does. */
export function flat(a: NdArray): unknown[] {
  const out: unknown[] = []
  const walk = (x: unknown, depth: number) => {
    if (depth === a.ndim) out.push(canon(x))
    else for (const y of x as unknown[]) walk(y, depth + 1)
  }
  walk(a.toArray(), 0)
  return out
}
