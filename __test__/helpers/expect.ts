// Comparing mmnpy's results with NumPy's (see npcases.py): exact bytes, readable differences,
// and JS scalars tagged so python reads back the value they stand for.
import { createHash } from 'node:crypto'

import { memmap } from '../../index'
import type { NdArray } from '../../index'

export type Ok = { dtype: string; shape: number[]; hex: string }
export type Failed = { error: string; msg: string }
export type Enc = Ok | Failed
export type Digest = { dtype: string; shape: number[]; sha: string }

export const ITEMSIZE: Record<string, number> = {
  bool: 1, int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, uint64: 8,
  float16: 2, float32: 4, float64: 8, complex64: 8, complex128: 16,
}

export const DTYPES = [
  'bool', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32',
  'int64', 'uint64', 'float16', 'float32', 'float64', 'complex64', 'complex128',
] as const
export type DT = (typeof DTYPES)[number]

/** A JS value for python: exact integers as text, floats as their 64 bits (NaN, -0 and infinities survive JSON). */
export type Tagged =
  | { t: 'int'; v: string }
  | { t: 'float'; bits: string }
  | { t: 'bool'; v: boolean }
  | { t: 'complex'; re: string; im: string }
  | { t: 'list'; v: Tagged[] }

export function bits(x: number): string {
  const b = Buffer.alloc(8)
  b.writeDoubleLE(x)
  return b.toString('hex')
}

/** Integral numbers stand for Python ints, other numbers for Python floats (-0 is a float). */
export function tag(v: unknown): Tagged {
  if (typeof v === 'bigint') return { t: 'int', v: v.toString() }
  if (typeof v === 'boolean') return { t: 'bool', v }
  if (typeof v === 'number') return Number.isInteger(v) && !Object.is(v, -0) ? { t: 'int', v: BigInt(v).toString() } : { t: 'float', bits: bits(v) }
  if (Array.isArray(v)) return { t: 'list', v: v.map(tag) }
  const c = v as { re: number; im: number }
  return { t: 'complex', re: bits(c.re), im: bits(c.im) }
}

export function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`
  if (typeof v === 'object' && v !== null) return JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x))
  return Object.is(v, -0) ? '-0' : String(v)
}

/** The elements in C order and native byte order, as hex. */
export function hexOf(a: NdArray): string {
  const t = a.toTypedArray()
  return Buffer.from(t.buffer, t.byteOffset, t.byteLength).toString('hex')
}

export function shaOf(a: NdArray): string {
  const t = a.toTypedArray()
  return createHash('sha256').update(new Uint8Array(t.buffer, t.byteOffset, t.byteLength)).digest('hex')
}

/** One element's bytes (hex, native order) as a readable value. */
function element(dtype: string, hex: string): string {
  const b = Buffer.from(hex, 'hex')
  switch (dtype) {
    case 'float16': return `f16 0x${b.readUInt16LE().toString(16)}`
    case 'float32': return String(b.readFloatLE())
    case 'float64': return String(b.readDoubleLE())
    case 'complex64': return `${b.readFloatLE(0)}${b.readFloatLE(4) < 0 ? '' : '+'}${b.readFloatLE(4)}j`
    case 'complex128': return `${b.readDoubleLE(0)}${b.readDoubleLE(8) < 0 ? '' : '+'}${b.readDoubleLE(8)}j`
    default: return `0x${hex}`
  }
}

/** null when `got` is NumPy's result bit for bit, else what differs. */
export function differs(got: NdArray, exp: Enc): string | null {
  if ('error' in exp) return `NumPy raised ${exp.error} (${exp.msg}) but mmnpy returned ${got.dtype}`
  if (got.dtype !== exp.dtype) return `dtype ${got.dtype}, NumPy ${exp.dtype}`
  if (got.shape.join() !== exp.shape.join()) return `shape (${got.shape}), NumPy (${exp.shape})`
  const h = hexOf(got)
  if (h === exp.hex) return null
  if (h.length !== exp.hex.length) return `${h.length / 2} bytes, NumPy ${exp.hex.length / 2}`
  const w = ITEMSIZE[exp.dtype]! * 2
  let i = 0
  while (h.slice(i * w, (i + 1) * w) === exp.hex.slice(i * w, (i + 1) * w)) i++
  const n = h.length / w
  let count = 0
  for (let k = 0; k < n; k++) if (h.slice(k * w, (k + 1) * w) !== exp.hex.slice(k * w, (k + 1) * w)) count++
  return `${count}/${n} elements differ; first at flat index ${i}: ${element(exp.dtype, h.slice(i * w, (i + 1) * w))}, NumPy ${element(exp.dtype, exp.hex.slice(i * w, (i + 1) * w))}`
}

/**
 * Whether an error thrown here is the counterpart of NumPy's: OverflowError -> RangeError,
 * TypeError -> TypeError, ValueError and ZeroDivisionError -> ERR_MMNPY_INVALID_ARG. null when it is, else what differs.
 */
export function sameError(e: unknown, exp: Failed): string | null {
  const err = e as Error & { code?: string }
  const want: Record<string, (x: Error & { code?: string }) => boolean> = {
    OverflowError: (x) => x instanceof RangeError,
    TypeError: (x) => x instanceof TypeError,
    ValueError: (x) => x.code === 'ERR_MMNPY_INVALID_ARG',
    ZeroDivisionError: (x) => x.code === 'ERR_MMNPY_INVALID_ARG',
  }
  const ok = want[exp.error]
  if (ok === undefined) return `NumPy raised ${exp.error} (${exp.msg}); mmnpy threw ${err.name} ${err.message}`
  return ok(err) ? null : `threw ${err.name} ${err.code ?? ''} (${err.message}); NumPy raised ${exp.error} (${exp.msg})`
}

/** `f()`'s array against NumPy's outcome (a result, or an error of the same nature). */
export function outcome(f: () => NdArray, exp: Enc): string | null {
  let got: NdArray
  try {
    got = f()
  } catch (e) {
    if (!('error' in exp)) return `threw ${(e as Error).message}; NumPy gave ${exp.dtype}`
    return sameError(e, exp)
  }
  return differs(got, exp)
}

export async function outcomeAsync(f: () => Promise<NdArray>, exp: Enc): Promise<string | null> {
  let got: NdArray
  try {
    got = await f()
  } catch (e) {
    if (!('error' in exp)) return `rejected ${(e as Error).message}; NumPy gave ${exp.dtype}`
    return sameError(e, exp)
  }
  return differs(got, exp)
}

/** Reports the first failures with their count. */
export function noFailures(t: { deepEqual: (a: unknown, b: unknown, m?: string) => void; true: (v: boolean) => void }, failures: string[], checked: number, what: string): void {
  t.deepEqual(failures.slice(0, 25), [], `${failures.length}/${checked} ${what} differ from NumPy`)
  t.true(checked > 0)
}

/** The inputs NumPy wrote into `blob` (see npcases.py's Blob), each mapped read-only once, by name. */
export function blobReader(blob: string, manifest: Record<string, [number, string, number[]]>): (name: string) => NdArray {
  const opened = new Map<string, NdArray>()
  return (name) => {
    let a = opened.get(name)
    if (!a) {
      const m = manifest[name]
      if (!m) throw new Error(`no input ${name}`)
      a = memmap(blob, { dtype: m[1], mode: 'r', offset: m[0], shape: m[2] })
      opened.set(name, a)
    }
    return a
  }
}
