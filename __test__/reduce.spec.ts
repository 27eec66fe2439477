// Reductions (sum, prod, mean, var, std, min, max, argmin, argmax and their ...Async forms)
// against NumPy's result for the same expression.
//
// Sources: every good NumPy fixture (14 dtypes x byte order x C/F order x 0-D..3-D,
// zero-size) and raw fixture (memmap, unaligned offsets), plus random float/complex arrays
// big enough for the pairwise tree (> 128), NumPy's 8192-element buffer, the parallel split
// (> 2^16) and a float32 count above 2^24 to matter, some headerless at odd offsets.
// Each as a whole and as views (::-1, ::2, 1::3, .T, [:, ::-1], [::-2, 1:], transposes with
// negative steps) in mode 'r' (whole and first view also read into memory) x every call in
// CALLS (dtype: 'float64', ddof 0/1) x axis none and every axis (negative ones on the whole
// array); the ...Async form of every mode-'r' case must equal the sync one. NumPy evaluates
// everything in ONE python3 process (helpers/reduce-numpy.py).
//
// Bounds (measured with NumPy 2.4 on x86-64 with AVX-512; worst cases in parentheses):
//   EVERY result is bit-for-bit NumPy's (0 ulps) -- ints, bools, float16/32/64, complex,
//   axis none and along an axis, contiguous, strided, byte-swapped, unaligned, cast --
//   NaN for NaN (any payload), -0 distinct from 0,
//   except complex `prod` along an axis that NumPy multiplies row by row (SIMD complex
//   multiply with FMA; mmnpy and NumPy's scalar loop round every product):
//   |got - NumPy| <= 16 eps |NumPy| (7 eps complex128, 6 eps complex64), non-finite where
//   NumPy's is. Set MMNPY_REDUCE_MEASURE=1 to print the worst differences instead of failing.
import test from 'ava'
import type { ExecutionContext } from 'ava'
import { execFileSync, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import { array, loadNpy, memmap, MmnpyError, NdArray } from '../index'
import type { Scalar, VarOptions } from '../index'

const FIXTURES = path.join(__dirname, 'fixtures')
const GENERATED = path.join(FIXTURES, 'generated')
const MANIFEST = path.join(GENERATED, 'manifest.json')
if (!fs.existsSync(MANIFEST)) {
  execFileSync('python3', [path.join(FIXTURES, 'make_fixtures.py'), GENERATED], { stdio: 'inherit' })
}
const MEASURE = process.env.MMNPY_REDUCE_MEASURE === '1'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmnpy-reduce-'))
test.after.always(() => fs.rmSync(tmp, { recursive: true, force: true }))

// ----------------------------------------------------------------------------- cases

type Op = 'sum' | 'prod' | 'mean' | 'var' | 'std' | 'min' | 'max' | 'argmin' | 'argmax'
interface Call {
  op: Op
  dtype?: string
  ddof?: number
  /** var/std's `mean`: 'own' = the view's own mean (mmnpy: `a.mean({ axis })`; NumPy: keepdims, or a Python scalar for axis none), or a number. */
  mean?: 'own' | number
  /** Streaming mode (NumPy has none: the result must not change). */
  release?: boolean
}
const CALLS: Call[] = [
  { op: 'sum' }, { op: 'prod' }, { op: 'mean' },
  { op: 'var' }, { op: 'var', ddof: 1 }, { op: 'std' }, { op: 'std', ddof: 1 },
  { op: 'min' }, { op: 'max' }, { op: 'argmin' }, { op: 'argmax' },
  { op: 'sum', dtype: 'float64' }, { op: 'prod', dtype: 'float64' }, { op: 'mean', dtype: 'float64' },
  { op: 'var', dtype: 'float64' }, { op: 'std', dtype: 'float64', ddof: 1 },
  { op: 'var', mean: 'own' }, { op: 'std', ddof: 1, mean: 'own', release: true }, { op: 'var', dtype: 'float64', mean: 0.25 },
  { op: 'sum', release: true }, { op: 'min', release: true }, { op: 'argmax', release: true },
]
/** Integer-only extra calls: NumPy's same_kind results in a narrower integer type. */
const INT_CALLS: Call[] = [{ op: 'sum', dtype: 'int32' }, { op: 'prod', dtype: 'int16' }]
const callsFor = (dtype: string): Call[] => {
  // mmnpy refuses dtype= casts that lose the kind (complex -> float), see the test at the end.
  const base = dtype.startsWith('complex') ? CALLS.filter((c) => c.dtype === undefined) : CALLS
  return /int|bool/.test(dtype) ? [...base, ...INT_CALLS] : base
}
/** Calls for the random arrays (their min/max/argmin/argmax add nothing the fixtures do not test). */
const EXTRA_CALLS: Call[] = [
  { op: 'sum' }, { op: 'prod' }, { op: 'mean' }, { op: 'var' }, { op: 'std', ddof: 1 }, { op: 'sum', dtype: 'float64' }, { op: 'var', dtype: 'float64' },
  { op: 'std', mean: 'own' }, { op: 'var', mean: 'own', release: true }, { op: 'prod', release: true },
]
const extraCallsFor = (dtype: string): Call[] =>
  dtype.startsWith('complex')
    ? EXTRA_CALLS.filter((c) => c.dtype === undefined)
    : dtype === 'float16'
      ? [...EXTRA_CALLS, { op: 'sum', dtype: 'float32' }, { op: 'mean', dtype: 'float32' }, { op: 'var', dtype: 'float32' }]
      : EXTRA_CALLS
const callName = (c: Call) =>
  `${c.op}(${[c.dtype && `dtype=${c.dtype}`, c.ddof !== undefined && `ddof=${c.ddof}`, c.mean !== undefined && `mean=${c.mean}`, c.release && 'release'].filter(Boolean).join(', ')})`

type ViewOp = { op: 'str'; s: string } | { op: 'T' } | { op: 'transpose'; axes: number[] }
function viewsFor(ndim: number): ViewOp[][] {
  const v: ViewOp[][] = [[]]
  if (ndim >= 1) v.push([{ op: 'str', s: '::-1' }], [{ op: 'str', s: '::2' }], [{ op: 'str', s: '1::3' }])
  if (ndim >= 2) v.push([{ op: 'T' }], [{ op: 'str', s: ':, ::-1' }], [{ op: 'str', s: '::-2, 1:' }], [{ op: 'T' }, { op: 'str', s: '::-1' }])
  if (ndim === 3) v.push([{ op: 'transpose', axes: [1, 0, 2] }], [{ op: 'transpose', axes: [2, 0, 1] }, { op: 'str', s: '::-1, :, ::2' }])
  return v
}
const viewName = (ops: ViewOp[]) => ops.map((o) => (o.op === 'str' ? `[${o.s}]` : o.op === 'T' ? '.T' : `.transpose(${o.axes.join(',')})`)).join('') || '(whole)'
function applyView(a: NdArray, ops: ViewOp[]): NdArray {
  let v = a
  for (const o of ops) v = o.op === 'str' ? v.slice(o.s) : o.op === 'T' ? v.T : v.transpose(o.axes)
  return v
}

interface Good {
  file: string
  dtype: string
  shape: number[]
  byteOrder: string
  fortranOrder: boolean
}
const manifest = JSON.parse(fs.readFileSync(MANIFEST, 'utf8')) as { good: Good[]; raw?: RawEntry[] }

interface Extra {
  name: string
  dtype: string
  shape: number[]
  order: 'C' | 'F'
  seed: number
  /** Large: the whole array only, axis none, a few calls. */
  light?: boolean
  /** Axis none only (every view and call). */
  noAxes?: boolean
  /** Written headerless after this many bytes, for memmap(). */
  rawOffset?: number
}
const EXTRAS: Extra[] = []
{
  let seed = 1
  for (const d of ['f2', 'f4', 'f8', 'c8', 'c16']) {
    for (const bo of ['<', '>']) {
      const dt = bo + d
      const tag = `${d}${bo === '<' ? 'le' : 'be'}`
      EXTRAS.push({ name: `x_${tag}_1000`, dtype: dt, shape: [1000], order: 'C', seed: seed++ })
      EXTRAS.push({ name: `x_${tag}_20000`, dtype: dt, shape: [20000], order: 'C', seed: seed++ })
      EXTRAS.push({ name: `x_${tag}_24x37_C`, dtype: dt, shape: [24, 37], order: 'C', seed: seed++ })
      EXTRAS.push({ name: `x_${tag}_24x37_F`, dtype: dt, shape: [24, 37], order: 'F', seed: seed++ })
      EXTRAS.push({ name: `x_${tag}_4x20x9_C`, dtype: dt, shape: [4, 20, 9], order: 'C', seed: seed++ })
      EXTRAS.push({ name: `x_${tag}_3x300_C`, dtype: dt, shape: [3, 300], order: 'C', seed: seed++ })
      EXTRAS.push({ name: `x_${tag}_300x3_F`, dtype: dt, shape: [300, 3], order: 'F', seed: seed++ })
      // N-D walks longer than NumPy's 8192-element buffer
      EXTRAS.push({ name: `x_${tag}_9x130x11_C`, dtype: dt, shape: [9, 130, 11], order: 'C', seed: seed++, noAxes: true })
    }
  }
  // past the parallel threshold (2^16 elements) and several buffer blocks
  for (const d of ['<f4', '<f8', '>f8', '<c16']) EXTRAS.push({ name: `x_big_${d.slice(1)}${d[0] === '<' ? 'le' : 'be'}`, dtype: d, shape: [70001], order: 'C', seed: seed++ })
  // unaligned (memmap at an odd offset): NumPy buffers, like byte-swapped input
  for (const d of ['<f8', '<f4', '>f8', '<c8', '<c16']) {
    const tag = `${d.slice(1)}${d[0] === '<' ? 'le' : 'be'}`
    EXTRAS.push({ name: `x_raw_${tag}_20000_off3`, dtype: d, shape: [20000], order: 'C', seed: seed++, rawOffset: 3 })
    EXTRAS.push({ name: `x_raw_${tag}_30x40_F_off5`, dtype: d, shape: [30, 40], order: 'F', seed: seed++, rawOffset: 5 })
  }
  // a count float32 cannot hold exactly (NumPy divides by it in float64)
  EXTRAS.push({ name: 'x_f4le_2p24p3', dtype: '<f4', shape: [2 ** 24 + 3], order: 'C', seed: seed++, light: true })
}
const LIGHT_CALLS: Call[] = [
  { op: 'sum' }, { op: 'mean' }, { op: 'var' }, { op: 'std', ddof: 1 }, { op: 'mean', dtype: 'float64' },
  { op: 'sum', release: true }, { op: 'std', ddof: 1, mean: 'own', release: true }, { op: 'max', release: true }, { op: 'prod', release: true },
]
const canonical: Record<string, string> = { f2: 'float16', f4: 'float32', f8: 'float64', c8: 'complex64', c16: 'complex128' }

interface Source {
  random: boolean
  title: string
  file: string
  dtype: string
  ndim: number
  light?: boolean
  noAxes?: boolean
  /** A headerless file: memmap() it with these (mode 'r' only). */
  raw?: { dtype: string; offset: number; shape: number[]; order: 'C' | 'F' }
}
interface RawEntry {
  file: string
  dtype: string
  canonical: string
  offset: number
  count: number
  shape?: number[]
  order?: 'C' | 'F'
}
const SOURCES: Source[] = [
  ...manifest.good.map((g) => ({ random: false, title: g.file, file: path.join(GENERATED, g.file), dtype: g.dtype, ndim: g.shape.length })),
  ...(manifest.raw ?? []).map((r) => ({
    random: false,
    title: `${r.file} (memmap)`,
    file: path.join(GENERATED, r.file),
    dtype: r.canonical,
    ndim: (r.shape ?? [r.count]).length,
    raw: { dtype: r.dtype, offset: r.offset, shape: r.shape ?? [r.count], order: r.order ?? 'C' },
  })),
  ...EXTRAS.map((x) => ({
    random: true,
    title: `${x.name}${x.rawOffset === undefined ? '.npy' : '.bin'} (random)`,
    file: path.join(tmp, `${x.name}${x.rawOffset === undefined ? '.npy' : '.bin'}`),
    dtype: canonical[x.dtype.slice(1)]!,
    ndim: x.shape.length,
    light: x.light,
    noAxes: x.noAxes,
    raw: x.rawOffset === undefined ? undefined : { dtype: x.dtype, offset: x.rawOffset, shape: x.shape, order: x.order },
  })),
]
interface ArrayCase {
  src: Source
  ops: ViewOp[]
  calls: Call[]
}
const ARRAYS: ArrayCase[] = SOURCES.flatMap((src) =>
  src.light
    ? [{ src, ops: [], calls: LIGHT_CALLS }]
    : viewsFor(src.ndim).map((ops) => ({ src, ops, calls: src.random ? extraCallsFor(src.dtype) : callsFor(src.dtype) })),
)

// ----------------------------------------------------------------------------- NumPy

type EncFloat = number | 'nan' | 'inf' | '-inf'
type Enc = boolean | number | string | [EncFloat, EncFloat] | Enc[]
type Expected = { e: string; m: string } | { s: Enc; t: string } | { a: Enc; t: string; sh: number[] }
interface Answer {
  results: Expected[][][] // [array][call][0: axis none, 1 + k: axis k]
  cow: Record<string, { mean: EncFloat; after: Record<string, EncFloat> }>
}

const COW = [
  { name: 'cow_f8', dtype: '<f8', shape: [300, 7], order: 'C' as const, seed: 901 },
  { name: 'cow_f4', dtype: '<f4', shape: [5000], order: 'C' as const, seed: 902 },
]
const cowPath = (name: string) => path.join(tmp, `${name}.npy`)

let answer: Answer
test.before(() => {
  const request = {
    dir: tmp,
    extras: [...EXTRAS, ...COW],
    arrays: ARRAYS.map((a) => ({ path: a.src.file, raw: a.src.raw, ops: a.ops, calls: a.calls, axes: !a.src.light && !a.src.noAxes })),
    cow: COW.map((c) => cowPath(c.name)),
  }
  const out = execFileSync(process.env.PYTHON ?? 'python3', [path.join(__dirname, 'helpers', 'reduce-numpy.py')], {
    input: JSON.stringify(request),
    maxBuffer: 1024 * 2 ** 20,
    encoding: 'utf8',
  })
  answer = JSON.parse(out) as Answer
})

// ----------------------------------------------------------------------------- comparison

const decodeFloat = (v: EncFloat): number => (typeof v === 'number' ? v : v === 'nan' ? NaN : v === 'inf' ? Infinity : -Infinity)

/** float16 ordinal (consecutive integers for consecutive float16 values), or null if x is not a float16 value. */
function f16ord(x: number): number | null {
  if (x === 0) return 0
  const s = x < 0 ? -1 : 1
  const a = Math.abs(x)
  if (a === Infinity) return s * 31 * 1024
  if (a < 2 ** -14) {
    const m = a / 2 ** -24
    return Number.isInteger(m) ? s * m : null
  }
  let e = Math.floor(Math.log2(a))
  if (2 ** e > a) e--
  if (2 ** (e + 1) <= a) e++
  if (e > 15) return null
  const m = (a / 2 ** e - 1) * 1024
  return Number.isInteger(m) ? s * ((e + 15) * 1024 + m) : null
}
const f32 = new Float32Array(1)
const u32 = new Uint32Array(f32.buffer)
function f32ord(x: number): number | null {
  f32[0] = x
  if (f32[0] !== x) return null
  const b = u32[0]!
  return b & 0x80000000 ? -(b & 0x7fffffff) : b
}
const f64v = new Float64Array(1)
const i64 = new BigInt64Array(f64v.buffer)
function f64ord(x: number): bigint {
  f64v[0] = x
  const b = i64[0]!
  return b < 0n ? -(b & 0x7fffffffffffffffn) : b
}

/** ulps between two values of float type `t` (NaN vs NaN: 0; NaN vs number: Infinity), or null if `got` is not a value of `t`. */
function ulps(got: number, exp: number, t: string): number | null {
  if (Number.isNaN(got) || Number.isNaN(exp)) return Number.isNaN(got) && Number.isNaN(exp) ? 0 : Infinity
  if (t === 'float64') {
    const d = f64ord(got) - f64ord(exp)
    return Number(d < 0n ? -d : d)
  }
  const o = t === 'float32' ? f32ord : f16ord
  const g = o(got)
  const e = o(exp)
  if (g === null || e === null) return null
  return Math.abs(g - e)
}

/** Where a result came from, for the ulp table and the bounds. */
type Layout = 'contig' | 'swapped' | 'strided' | 'axis'
function layoutOf(a: NdArray, axis: number | null): Layout {
  if (axis !== null) return 'axis'
  const f = a.flags
  if (!f.cContiguous && !f.fContiguous) return 'strided'
  const native = a.byteOrder === '|' || a.byteOrder === (os.endianness() === 'LE' ? '<' : '>')
  return native && f.aligned ? 'contig' : 'swapped'
}

/**
 * complex `prod` along an axis that NumPy multiplies row by row: NumPy's SIMD complex
 * multiply uses FMA (on this CPU: re = fma(ar, xr, -ai*xi), im = fma(ar, xi, ai*xr)),
 * mmnpy (and NumPy's own scalar loop) rounds each product; allowed: |got - NumPy| <=
 * CPROD_AXIS_BOUND * eps * |NumPy|, and non-finite where NumPy's is non-finite.
 */
const CPROD_AXIS_BOUND = 16

/** Worst ulps seen: `${result dtype} ${layout} ${op}` -> [ulps, where]. */
const worst = new Map<string, [number, string]>()
function note(key: string, u: number, where: string): void {
  const w = worst.get(key)
  if (w === undefined || u > w[0]) worst.set(key, [u, where])
}

function showScalar(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v)
  if (typeof v === 'object' && v !== null && 're' in v) {
    const c = v as unknown as { re: unknown; im: unknown }
    return `(${showScalar(c.re)}, ${showScalar(c.im)}j)`
  }
  return String(v)
}

interface Ctx {
  failures: string[]
  where: string
  op: Op
  layout: Layout
}

/** One element of a result against NumPy's: JS type by dtype, integers exact, floats by ulps. */
function compareValue(got: unknown, exp: Enc, t: string, ctx: Ctx): void {
  const fail = (why: string): void => {
    ctx.failures.push(`${ctx.where}: ${why} (got ${showScalar(got)}, NumPy ${JSON.stringify(exp)} ${t})`)
  }
  const float = (g: unknown, e: EncFloat, ft: string, part: string): void => {
    if (typeof g !== 'number') return fail(`${part}expected a number`)
    const ev = decodeFloat(e)
    const u = ulps(g, ev, ft)
    if (u === null) return fail(`${part}not a ${ft} value`)
    note(`${t} ${ctx.layout} ${ctx.op}`, u, ctx.where)
    // exact: same bits (any NaN for NaN), -0 is not 0
    if (!MEASURE && !Object.is(g, ev) && !(Number.isNaN(g) && Number.isNaN(ev))) fail(`${part}${u} ulps`)
  }
  if (ctx.op === 'argmin' || ctx.op === 'argmax') {
    // NumPy's intp index: a number for axis none, int64 (bigint) elements of an axis result
    if (ctx.layout === 'axis' ? got !== BigInt(exp as string) : got !== Number(exp)) fail('wrong index')
    return
  }
  if (t === 'bool') {
    if (got !== exp) fail('wrong bool')
  } else if (t === 'int64' || t === 'uint64') {
    if (typeof got !== 'bigint' || got !== BigInt(exp as string)) fail('wrong bigint')
  } else if (/int/.test(t)) {
    if (typeof got !== 'number' || got !== exp) fail('wrong integer')
  } else if (t.startsWith('float')) {
    float(got, exp as EncFloat, t, '')
  } else {
    const c = got as { re?: unknown; im?: unknown }
    if (typeof got !== 'object' || got === null || !('re' in c)) return fail('expected { re, im }')
    const [re, im] = exp as [EncFloat, EncFloat]
    const ft = t === 'complex64' ? 'float32' : 'float64'
    if (ctx.op === 'prod' && ctx.layout === 'axis') return complexProdAxis(c.re, c.im, decodeFloat(re), decodeFloat(im), ft, fail, ctx)
    float(c.re, re, ft, 're: ')
    float(c.im, im, ft, 'im: ')
  }
}

function complexProdAxis(gr: unknown, gi: unknown, er: number, ei: number, ft: string, fail: (why: string) => void, ctx: Ctx): void {
  if (typeof gr !== 'number' || typeof gi !== 'number') return fail('expected numbers')
  if (ulps(gr, gr, ft) === null || ulps(gi, gi, ft) === null) return fail(`not ${ft} values`)
  const mag = Math.hypot(er, ei)
  if (!Number.isFinite(mag)) {
    if (Number.isFinite(gr) && Number.isFinite(gi)) fail('finite where NumPy is not')
    return
  }
  const eps = ft === 'float32' ? 2 ** -23 : 2 ** -52
  const err = Math.hypot(gr - er, gi - ei)
  const rel = err === 0 ? 0 : mag === 0 || !Number.isFinite(err) ? Infinity : Math.ceil(err / mag / eps)
  note(`${ft === 'float32' ? 'complex64' : 'complex128'} axis prod |err|/|z|/eps`, rel, ctx.where)
  if (!MEASURE && rel > CPROD_AXIS_BOUND) fail(`|error| = ${rel} eps * |z| (bound ${CPROD_AXIS_BOUND})`)
}

/** The value a reduction produced: a scalar, an NdArray, or what it threw. */
type Outcome = { ok: true; v: Scalar | NdArray } | { ok: false; err: unknown }
const describeErr = (e: unknown) => (e instanceof Error ? `${e.constructor.name} ${(e as { code?: string }).code ?? ''} ${e.message}` : String(e))

function compareOutcome(out: Outcome, exp: Expected, axis: number | null, ctx: Ctx): void {
  const fail = (why: string): void => {
    ctx.failures.push(`${ctx.where}: ${why}`)
  }
  if ('e' in exp) {
    if (out.ok) return fail(`NumPy raised ${exp.e} (${exp.m}) but mmnpy returned ${out.v instanceof NdArray ? 'an array' : showScalar(out.v)}`)
    const e = out.err as { code?: string; message?: string }
    if (!(out.err instanceof MmnpyError) || e.code !== 'ERR_MMNPY_INVALID_ARG') return fail(`threw ${describeErr(out.err)}, expected ERR_MMNPY_INVALID_ARG`)
    if (exp.e === 'ValueError' && /zero-size/.test(exp.m) && !/zero-size/.test(e.message ?? '')) fail(`message lacks 'zero-size': ${e.message}`)
    return
  }
  if (!out.ok) return fail(`threw ${describeErr(out.err)}; NumPy gives ${JSON.stringify(exp)}`)
  if ('s' in exp) {
    if (axis !== null || out.v instanceof NdArray) return fail('expected a scalar')
    compareValue(out.v, exp.s, exp.t, ctx)
    return
  }
  const r = out.v
  if (!(r instanceof NdArray)) return fail(`expected an NdArray, got ${showScalar(r)}`)
  if (r.dtype !== exp.t) fail(`dtype ${r.dtype}, NumPy ${exp.t}`)
  if (r.shape.join() !== exp.sh.join() || r.ndim !== exp.sh.length) return fail(`shape [${r.shape}], NumPy [${exp.sh}]`)
  if (r.mode !== null) fail(`an axis result should be in memory, mode ${r.mode}`)
  const walk = (g: unknown, e: Enc, depth: number): void => {
    if (depth === exp.sh.length) return compareValue(g, e, exp.t, ctx)
    const ga = g as unknown[]
    const ea = e as Enc[]
    if (!Array.isArray(ga) || ga.length !== ea.length) return fail('toArray() nesting differs')
    for (let i = 0; i < ea.length; i++) walk(ga[i], ea[i]!, depth + 1)
  }
  walk(r.toArray(), exp.a, 0)
}

/** Same value (NaN equal to NaN, -0 not 0), for sync vs async. */
function sameResult(a: Outcome, b: Outcome): boolean {
  if (a.ok !== b.ok) return false
  if (!a.ok || !b.ok) {
    const [x, y] = [(a as { err: Error }).err, (b as { err: Error }).err]
    return (x as { code?: string }).code === (y as { code?: string }).code && x.message === y.message
  }
  const eq = (x: unknown, y: unknown): boolean => {
    if (Array.isArray(x)) return Array.isArray(y) && x.length === y.length && x.every((v, i) => eq(v, y[i]))
    if (typeof x === 'object' && x !== null) return typeof y === 'object' && y !== null && eq((x as { re: number }).re, (y as { re: number }).re) && eq((x as { im: number }).im, (y as { im: number }).im)
    return Object.is(x, y)
  }
  if (a.v instanceof NdArray || b.v instanceof NdArray) {
    if (!(a.v instanceof NdArray && b.v instanceof NdArray)) return false
    return a.v.dtype === b.v.dtype && a.v.shape.join() === b.v.shape.join() && eq(a.v.toArray(), b.v.toArray())
  }
  return eq(a.v, b.v)
}

function options(a: NdArray, c: Call, axis: number | null): VarOptions {
  const o: VarOptions = {}
  if (axis !== null) o.axis = axis
  if (c.dtype !== undefined) o.dtype = c.dtype
  if (c.ddof !== undefined) o.ddof = c.ddof
  if (c.release) o.release = true
  if (c.mean !== undefined) o.mean = c.mean === 'own' ? (axis === null ? (a.mean() as number) : (a.mean({ axis }) as NdArray)) : c.mean
  return o
}

function runSync(a: NdArray, c: Call, axis: number | null): Outcome {
  try {
    const o = options(a, c, axis)
    return { ok: true, v: (a[c.op] as (o: VarOptions) => Scalar | NdArray).call(a, o) }
  } catch (err) {
    return { ok: false, err }
  }
}

async function runAsync(a: NdArray, c: Call, axis: number | null): Promise<Outcome> {
  try {
    const o = options(a, c, axis)
    return { ok: true, v: await (a[`${c.op}Async`] as (o: VarOptions) => Promise<Scalar | NdArray>).call(a, o) }
  } catch (err) {
    return { ok: false, err }
  }
}

// ----------------------------------------------------------------------------- per source

const stats = { cases: 0, asyncCases: 0 }

/**
 * Mode 'r': every view, axis none and every axis, sync and async. Read into memory: the
 * whole array and one strided view (the same kernels over another storage). Negative
 * axes: on the whole array.
 */
async function checkSource(t: ExecutionContext, src: Source): Promise<void> {
  const failures: string[] = []
  let cases = 0
  const mine = ARRAYS.map((ac, k) => [ac, k] as const).filter(([ac]) => ac.src === src)
  for (const mode of src.light || src.raw ? (['r'] as const) : (['r', 'memory'] as const)) {
    const base = src.raw ? memmap(src.file, { ...src.raw, mode: 'r' }) : mode === 'r' ? loadNpy(src.file, { mmapMode: 'r' }) : loadNpy(src.file)
    try {
      for (const [ac, k] of mode === 'r' ? mine : mine.slice(0, 2)) {
        const view = applyView(base, ac.ops)
        const res = answer.results[k]!
        const pending: Promise<void>[] = []
        ac.calls.forEach((c, ci) => {
          const axes: (number | null)[] = [null]
          if (!src.light && !src.noAxes) {
            for (let ax = 0; ax < view.ndim; ax++) axes.push(ax)
            if (ac.ops.length === 0) for (let ax = 0; ax < view.ndim; ax++) axes.push(ax - view.ndim)
          }
          for (const axis of axes) {
            const exp = res[ci]![axis === null ? 0 : 1 + (axis < 0 ? axis + view.ndim : axis)]!
            const where = `${src.title} ${mode} ${viewName(ac.ops)} ${callName(c)} axis=${axis}`
            const ctx: Ctx = { failures, where, op: c.op, layout: layoutOf(view, axis) }
            const sync = runSync(view, c, axis)
            compareOutcome(sync, exp, axis, ctx)
            cases++
            if (mode === 'r') {
              pending.push(
                runAsync(view, c, axis).then((asy) => {
                  stats.asyncCases++
                  if (!sameResult(sync, asy)) failures.push(`${where}: async differs from sync: ${asy.ok ? showScalar(asy.v) : describeErr(asy.err)} vs ${sync.ok ? showScalar(sync.v) : describeErr(sync.err)}`)
                }),
              )
            }
          }
        })
        await Promise.all(pending)
      }
    } finally {
      base.close()
    }
  }
  stats.cases += cases
  t.true(cases > 0)
  t.deepEqual(failures.slice(0, 12), [], `${failures.length} of ${cases} cases differ from NumPy`)
}

for (const src of SOURCES) {
  const modes = src.raw ? 'memmap r' : src.light ? 'r' : 'r and memory'
  test(`${src.title}: every reduction, axis and view vs NumPy, ${modes}, async = sync`, (t) => checkSource(t, src))
}


// ----------------------------------------------------------------------------- rules, spelled out

test('NumPy rules spelled out: result types, wrapping, float32 stays float32, NaN first, empty arrays', async (t) => {
  const f = (xs: number[], dtype: string) => array(xs, { dtype })
  // integer and bool sums/prods: 64-bit, wrapping, bigint
  t.is(f([100, 100, 100], 'int8').sum(), 300n)
  t.is(f([127, 127, 127], 'int8').prod(), 2048383n)
  t.is(array([2n ** 64n - 1n, 2n], { dtype: 'uint64' }).sum(), 1n)
  t.is(array([2n ** 63n - 1n, 1n], { dtype: 'int64' }).sum(), -(2n ** 63n))
  t.is(f([1, 0, 1, 1], 'bool').sum(), 3n)
  t.is(f([1, 0, 1, 1], 'bool').min(), false)
  t.is(f([1, 0, 1, 1], 'bool').max(), true)
  // min/max: bigint for int64/uint64, number for narrower ints; arg*: numbers
  t.is(array([5n, -7n, 3n], { dtype: 'int64' }).min(), -7n)
  t.is(array([5n, 2n ** 64n - 1n], { dtype: 'uint64' }).max(), 2n ** 64n - 1n)
  t.is(f([5, -7, 3], 'int32').min(), -7)
  t.is(f([5, -7, 3], 'int32').argmin(), 1)
  t.is(typeof f([5, -7, 3], 'int64').argmax(), 'number')
  // mean of ints is float64; float32 results are float32 values; dtype float64 accumulates in float64
  t.is(f([1, 2], 'int16').mean(), 1.5)
  const x32 = f([0.1, 0.2, 0.7], 'float32')
  const [a, b, c] = [Math.fround(0.1), Math.fround(0.2), Math.fround(0.7)]
  t.is(x32.sum(), Math.fround(Math.fround(a + b) + c))
  t.is(x32.sum({ dtype: 'float64' }), a + b + c)
  t.is(x32.mean({ dtype: 'float64' }), (a + b + c) / 3)
  t.is(x32.max(), c)
  // var/std with ddof
  const v = f([1, 2, 3, 4], 'float64')
  t.is(v.var(), 1.25)
  t.is(v.var({ ddof: 1 }), 5 / 3)
  t.is(v.std({ ddof: 1 }), Math.sqrt(5 / 3))
  t.true(Number.isNaN(f([1], 'float64').var({ ddof: 1 }) as number))
  // NaN propagates; arg* give the first NaN
  const n = f([1, NaN, -5, NaN], 'float64')
  t.true(Number.isNaN(n.min() as number))
  t.true(Number.isNaN(n.max() as number))
  t.is(n.argmin(), 1)
  t.is(n.argmax(), 1)
  // complex: { re, im }
  t.deepEqual(array([{ re: 1, im: 2 }, { re: 3, im: -1 }]).sum(), { re: 4, im: 1 })
  t.deepEqual(array([{ re: 1, im: 2 }, { re: 3, im: -1 }]).max(), { re: 3, im: -1 })
  // empty: sum 0, prod 1, mean NaN; min/max/argmin/argmax refuse (NumPy raises ValueError)
  const e = f([], 'float64')
  t.is(e.sum(), 0)
  t.is(e.prod(), 1)
  t.true(Number.isNaN(e.mean() as number))
  t.is(f([], 'int32').sum(), 0n)
  t.is(f([], 'uint8').prod(), 1n)
  for (const op of ['min', 'max', 'argmin', 'argmax'] as const) {
    const err = t.throws(() => e[op](), { instanceOf: MmnpyError, code: 'ERR_MMNPY_INVALID_ARG' })
    t.regex(err?.message ?? '', /zero-size/, op)
    const rej = await t.throwsAsync(e[`${op}Async`](), { instanceOf: MmnpyError, code: 'ERR_MMNPY_INVALID_ARG' })
    t.regex(rej?.message ?? '', /zero-size/, `${op}Async`)
  }
  // along an axis: a zero-length reduced axis refuses, an empty output does not
  const e03 = array(new Float64Array(0), { shape: [0, 3] })
  t.throws(() => e03.min({ axis: 0 }), { code: 'ERR_MMNPY_INVALID_ARG', message: /zero-size/ })
  await t.throwsAsync(e03.argmaxAsync({ axis: 0 }), { code: 'ERR_MMNPY_INVALID_ARG', message: /zero-size/ })
  t.deepEqual((e03.min({ axis: 1 }) as NdArray).shape, [0])
  t.deepEqual((e03.sum({ axis: 0 }) as NdArray).toArray(), [0, 0, 0])
  t.deepEqual((e03.prod({ axis: 0 }) as NdArray).toArray(), [1, 1, 1])
})

test('dtype= casts that lose the kind are refused (NumPy casts unsafely: float -> int truncates each element, complex -> float drops the imaginary part)', async (t) => {
  const x = array([1.7, 2.6, -3.5], { dtype: 'float64' })
  t.throws(() => x.sum({ dtype: 'int32' }), { code: 'ERR_MMNPY_INVALID_ARG' })
  t.throws(() => x.mean({ dtype: 'int64' }), { code: 'ERR_MMNPY_INVALID_ARG' })
  const z = array([{ re: 1, im: 2 }])
  t.throws(() => z.sum({ dtype: 'float64' }), { code: 'ERR_MMNPY_INVALID_ARG' })
  await t.throwsAsync(z.meanAsync({ dtype: 'float64' }), { code: 'ERR_MMNPY_INVALID_ARG' })
  t.throws(() => x.min({ dtype: 'float64' }), { code: 'ERR_MMNPY_INVALID_ARG' })
})

// ----------------------------------------------------------------------------- close() while summing

const CLOSE_CHILD = `
const mm = require(process.argv[1])
const file = process.argv[2]
const N = 32 * 2 ** 20 // 256 MiB of float64
const a = mm.openNpy(file, { mode: 'w+', dtype: 'float64', shape: [N] })
const d = a.data
for (let i = 0; i < N; i++) d[i] = i % 1000
const cols = new Float64Array(1024) // expected column sums of the (N / 1024, 1024) view
for (let i = 0; i < N; i++) cols[i % 1024] += i % 1000
const expectedSum = Math.floor(N / 1000) * 499500 + ((N % 1000) * (N % 1000 - 1)) / 2
const jobs = [a.sumAsync(), a.meanAsync(), a.argmaxAsync(), a.maxAsync(), a.reshape(N / 1024, 1024).sumAsync({ axis: 0 })]
const t0 = Date.now()
while (Date.now() - t0 < 3) {} // let the workers start
const after = {}
try { a.close() } catch (e) { after.closeThrew = e.message }
Object.assign(after, { closed: a.closed, detached: d.length === 0 })
try { a.sum(); after.sync = 'no throw' } catch (e) { after.sync = e.code }
a.sumAsync().then(() => 'no rejection', (e) => e.code).then((asyncCode) => {
  after.async = asyncCode
  return Promise.all(jobs)
}).then(([sum, mean, argmax, max, colSums]) => {
  const got = colSums.toArray()
  const colsOk = got.length === 1024 && got.every((v, i) => v === cols[i])
  process.stdout.write('RESULT ' + JSON.stringify({ sum, expectedSum, mean, expectedMean: expectedSum / N, argmax, max, colsOk, after }) + '\\n')
}, (e) => { process.stdout.write('RESULT ' + JSON.stringify({ error: String(e) }) + '\\n') })
`

test('close() while sumAsync() and friends run over a 256 MiB w+ mapping: the promises resolve with the right values, later calls throw ERR_MMNPY_CLOSED, no crash', (t) => {
  const file = path.join(tmp, 'close-256m.npy')
  const r = spawnSync(process.execPath, ['-e', CLOSE_CHILD, path.join(__dirname, '..', 'index.js'), file], { encoding: 'utf8', timeout: 60_000 })
  fs.rmSync(file, { force: true })
  t.is(r.signal, null, `child killed by ${r.signal}: ${r.stderr}`)
  t.is(r.status, 0, r.stderr)
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '))
  if (!line) return t.fail(`no result: ${r.stdout} ${r.stderr}`)
  const res = JSON.parse(line.slice(7))
  t.is(res.error, undefined)
  t.is(res.sum, res.expectedSum)
  t.is(res.mean, res.expectedMean)
  t.is(res.argmax, 999)
  t.is(res.max, 999)
  t.true(res.colsOk, 'column sums of the axis-0 reduction')
  t.is(res.after.closeThrew, undefined, 'close() with async reductions pending')
  t.deepEqual(res.after, { closed: true, detached: true, sync: 'ERR_MMNPY_CLOSED', async: 'ERR_MMNPY_CLOSED' })
})

// ----------------------------------------------------------------------------- copy-on-write

test("copy-on-write normalization: mode 'c', m = a.mean(), x - m written through data, reductions equal NumPy's (x - x.mean()), file unchanged", (t) => {
  for (const c of COW) {
    const file = cowPath(c.name)
    const before = createHash('sha256').update(fs.readFileSync(file)).digest('hex')
    const expected = answer.cow[file]!
    const a = loadNpy(file, { mmapMode: 'c' })
    t.is(a.mode, 'c')
    const m = a.mean() as number
    t.is(m, decodeFloat(expected.mean), `${c.name} mean`)
    const d = a.data as Float64Array | Float32Array
    for (let i = 0; i < d.length; i++) d[i] = d[i]! - m
    for (const op of ['sum', 'mean', 'std', 'var', 'min', 'max'] as const) {
      t.is((a[op] as () => Scalar).call(a), decodeFloat(expected.after[op]!), `${c.name} ${op} after normalizing`)
    }
    a.close()
    const r = loadNpy(file, { mmapMode: 'r' })
    t.is(r.mean(), m, 'the file still holds the original values')
    r.close()
    t.is(createHash('sha256').update(fs.readFileSync(file)).digest('hex'), before, `${c.name} sha256`)
  }
})

test.after.always(() => {
  const rows = [...worst.entries()].filter(([, [u]]) => u > 0 || MEASURE).sort()
  console.log(`reduce.spec: ${stats.cases} sync cases, ${stats.asyncCases} async cases; nonzero worst differences (result dtype, layout, op):`)
  for (const [k, [u, w]] of rows) console.log(`  ${k.padEnd(36)} ${String(u).padStart(4)}  ${w}`)
})
