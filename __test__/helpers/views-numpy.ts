// Helpers for __test__/views.spec.ts: a seeded PRNG, random basic-indexing expressions,
// and NumPy (one python3 process, __test__/helpers/views-numpy.py) as the reference.
import { execFileSync } from 'node:child_process'
import * as path from 'node:path'

/** mulberry32: small, seeded, good enough to pick test cases. */
export function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export type Rand = () => number
export const int = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1)) // inclusive
export function pick<T>(r: Rand, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)] as T
}

export type Spec = number | null | [number | null, number | null, number | null]
export type Op =
  | { op: 'slice'; specs: Spec[] }
  | { op: 'str'; s: string }
  | { op: 'T' }
  | { op: 'transpose'; axes: number[]; spread: boolean }
  | { op: 'reshape'; shape: number[]; spread: boolean }
export interface Expr {
  array: string
  ops: Op[]
}

/** Length of `range(n)[start:stop:step]`, from the Python language reference (not from mmnpy). */
export function sliceLength(n: number, start: number | null, stop: number | null, step: number | null): number {
  const st = step ?? 1
  // Enumerate like Python does for an explicit range object, clamping per the reference.
  const norm = (v: number | null, dflt: number, lo: number, hi: number): number => {
    if (v === null) return dflt
    const w = v < 0 ? v + n : v
    return Math.min(Math.max(w, lo), hi)
  }
  const a = st > 0 ? norm(start, 0, 0, n) : norm(start, n - 1, -1, n - 1)
  const b = st > 0 ? norm(stop, n, 0, n) : norm(stop, -1, -1, n - 1)
  let count = 0
  for (let i = a; st > 0 ? i < b : i > b; i += st) count++
  return count
}

/** A random spec for an axis of length n; empty ranges are kept only now and then. */
function randomSpec(r: Rand, n: number): Spec {
  for (let tries = 0; ; tries++) {
    const s = randomSpec1(r, n)
    if (!Array.isArray(s) || tries >= 3 || sliceLength(n, s[0], s[1], s[2]) > 0 || r() < 0.15) return s
  }
}

function randomSpec1(r: Rand, n: number): Spec {
  const u = r()
  if (u < 0.18 && n > 0) return int(r, -n, n - 1)
  if (u < 0.33) return null
  // Bounds anywhere in [-n-3, n+3] (out of range included); mostly in the step's direction so
  // that most views are not empty.
  const bound = (): number | null => (r() < 0.35 ? null : r() < 0.25 ? int(r, -n - 3, n + 3) : int(r, -n, n))
  const step = pick(r, [null, null, 1, 2, 3, -1, -1, -2, -3, 5, -7] as const)
  let start = bound()
  let stop = bound()
  if (start !== null && stop !== null && r() < 0.8) {
    const [a, b] = [start < 0 ? start + n : start, stop < 0 ? stop + n : stop]
    if ((step ?? 1) > 0 ? a > b : a < b) [start, stop] = [stop, start]
  }
  return [start, stop, step]
}

/** The same specs as text (`'1:, ::-2'`), with random spaces and sometimes an ellipsis that stands for no axis or the trailing ones. */
export function specString(r: Rand, specs: Spec[], ndim: number): string {
  const sp = (): string => (r() < 0.3 ? ' ' : '')
  const one = (s: Spec): string => {
    if (s === null) return pick(r, [':', '::'])
    if (!Array.isArray(s)) return String(s)
    const f = (x: number | null): string => (x === null ? '' : `${sp()}${x}${sp()}`)
    return s[2] === null && r() < 0.5 ? `${f(s[0])}:${f(s[1])}` : `${f(s[0])}:${f(s[1])}:${f(s[2])}`
  }
  const parts = specs.map(one)
  if (parts.length === 0 || r() < 0.25) {
    // '...' at the end stands for the remaining axes; anywhere when every axis is given.
    parts.splice(specs.length === ndim ? int(r, 0, parts.length) : parts.length, 0, '...')
  }
  return parts.map((p) => sp() + p + sp()).join(',')
}

function specShape(shape: number[], specs: Spec[]): number[] {
  const out: number[] = []
  shape.forEach((n, axis) => {
    const s = axis < specs.length ? specs[axis] : null
    if (s === null || s === undefined) out.push(n)
    else if (Array.isArray(s)) out.push(sliceLength(n, s[0], s[1], s[2]))
  })
  return out
}

function divisors(n: number): number[] {
  const d: number[] = []
  for (let i = 1; i <= n; i++) if (n % i === 0) d.push(i)
  return d
}

function randomReshape(r: Rand, shape: number[]): number[] {
  const size = shape.reduce((a, b) => a * b, 1)
  if (size === 0) return pick(r, [[0], [-1], [0, 3], [2, 0, 1], [...shape].reverse()])
  if (size === 1 && r() < 0.3) return []
  const u = r()
  if (u < 0.15) return [size]
  if (u < 0.25) return [-1]
  if (u < 0.35) return [...shape].reverse()
  const parts = int(r, 1, 4)
  const out: number[] = []
  let rest = size
  for (let i = 0; i < parts - 1; i++) {
    const d = pick(r, divisors(rest))
    out.push(d)
    rest /= d
  }
  out.push(rest)
  if (r() < 0.3) out.splice(int(r, 0, out.length), 0, 1)
  if (r() < 0.3) out[int(r, 0, out.length - 1)] = -1
  return out
}

function shuffle<T>(r: Rand, xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = int(r, 0, i)
    ;[xs[i], xs[j]] = [xs[j] as T, xs[i] as T]
  }
  return xs
}

/** A chain of 1-4 view operations starting with a slice, tracking the shape as NumPy would. */
export function randomExpr(r: Rand, array: string, shape0: number[]): Expr {
  let shape = [...shape0]
  const ops: Op[] = []
  const steps = int(r, 1, 4)
  for (let k = 0; k < steps; k++) {
    const u = k === 0 ? 0 : r()
    if (u < 0.4) {
      const specs: Spec[] = []
      const count = int(r, 0, shape.length)
      for (let i = 0; i < count; i++) specs.push(randomSpec(r, shape[i]!))
      ops.push(r() < 0.3 ? { op: 'str', s: specString(r, specs, shape.length) } : { op: 'slice', specs })
      shape = specShape(shape, specs)
    } else if (u < 0.55) {
      ops.push({ op: 'T' })
      shape = [...shape].reverse()
    } else if (u < 0.75) {
      const perm = shuffle(r, [...shape.keys()])
      const axes = perm.map((a) => (r() < 0.25 ? a - shape.length : a))
      ops.push({ op: 'transpose', axes, spread: r() < 0.5 })
      shape = perm.map((a) => shape[a]!)
    } else {
      const target = randomReshape(r, shape)
      ops.push({ op: 'reshape', shape: target, spread: target.length > 0 && r() < 0.5 })
      const size = shape.reduce((a, b) => a * b, 1)
      const known = target.reduce((a, b) => (b === -1 ? a : a * b), 1)
      shape = target.map((d) => (d === -1 ? size / known : d))
    }
  }
  return { array, ops }
}

export function describeExpr(e: Expr): string {
  const spec = (s: Spec): string => (s === null ? ':' : Array.isArray(s) ? s.map((x) => (x === null ? '' : String(x))).join(':') : String(s))
  return (
    e.array +
    e.ops
      .map((o) => {
        switch (o.op) {
          case 'slice':
            return `[${o.specs.map(spec).join(', ')}]`
          case 'str':
            return `[${o.s}]`
          case 'T':
            return '.T'
          case 'transpose':
            return `.transpose(${o.axes.join(', ')})`
          case 'reshape':
            return `.reshape(${o.shape.join(', ')})`
        }
      })
      .join('')
  )
}

export interface BaseSpec {
  name: string
  dtype: string
  shape: number[]
  order: 'C' | 'F'
}

export type NumpyView =
  | { error: 'copy' | 'index' | 'other'; message: string }
  | { shape: number[]; strides: number[]; offset: number; c: boolean; f: boolean; list: unknown; flat: unknown[]; mem: unknown[] | null }

export interface NumpyAnswer {
  arrays: Record<string, { offset: number }>
  exprs: NumpyView[]
  half: number[]
  halfValue: string[]
}

/** float64 -> 16 hex digits of its bits (JSON cannot carry NaN, infinities or -0). */
export function f64hex(x: number): string {
  const dv = new DataView(new ArrayBuffer(8))
  dv.setFloat64(0, x)
  return dv.getBigUint64(0).toString(16).padStart(16, '0')
}

/** 16 hex digits of float64 bits -> the number. */
export function hexf64(h: string): number {
  const dv = new DataView(new ArrayBuffer(8))
  dv.setBigUint64(0, BigInt('0x' + h))
  return dv.getFloat64(0)
}

/** Writes the base arrays to `dir` and evaluates everything in one python3 process. */
export function askNumpy(dir: string, arrays: BaseSpec[], exprs: Expr[], half: number[]): NumpyAnswer {
  const request = JSON.stringify({ dir, arrays, exprs, half: half.map(f64hex) })
  const out = execFileSync(process.env.PYTHON ?? 'python3', [path.join(__dirname, 'views-numpy.py')], {
    input: request,
    maxBuffer: 256 * 2 ** 20,
    encoding: 'utf8',
  })
  return JSON.parse(out) as NumpyAnswer
}
