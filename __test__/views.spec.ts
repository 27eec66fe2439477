// NdArray views, element access and copies, with NumPy as the reference.
//
// Random basic-indexing expressions (ints, null, [start, stop, step] with negative and
// out-of-range bounds and negative steps, the string form), chained with transpose/T and
// reshape, are evaluated by NumPy in ONE python3 process (helpers/views-numpy.py) and
// compared field by field: shape, strides, file offset, contiguity flags, toArray(),
// toTypedArray(), copy() and data.
import test from 'ava'
import type { ExecutionContext } from 'ava'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { isDeepStrictEqual } from 'node:util'

import { array, loadNpy, memmap, MmnpyError, openNpy, saveNpy } from '../index'
import { askNumpy, BaseSpec, describeExpr, Expr, f64hex, hexf64, int, NumpyView, Op, randomExpr, rng } from './helpers/views-numpy'

type Arr = ReturnType<typeof loadNpy>

// The window limit lives in the compiled module that ../index loads (dist/), not in lib/.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const distStorage = require('../dist/storage.js') as typeof import('../lib/storage')

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmnpy-views-'))
test.after.always(() => {
  distStorage.setWindowLimitForTests()
  fs.rmSync(tmp, { recursive: true, force: true })
})

// ----------------------------------------------------------------------------- NumPy reference

const BASES: BaseSpec[] = [
  { name: 'c4', dtype: '<i4', shape: [2, 3, 4, 5], order: 'C' },
  { name: 'f4', dtype: '<f8', shape: [2, 3, 4, 5], order: 'F' },
  { name: 'be4', dtype: '>f8', shape: [2, 3, 4, 5], order: 'C' },
  { name: 'bef3', dtype: '>i2', shape: [3, 4, 5], order: 'F' },
  { name: 'u2', dtype: '|u1', shape: [6, 7], order: 'C' },
  { name: 'v1', dtype: '<i2', shape: [11], order: 'C' },
  { name: 'e03', dtype: '<i4', shape: [0, 3], order: 'C' },
  { name: 'z0', dtype: '<f8', shape: [], order: 'C' },
  { name: 'k3', dtype: '<i2', shape: [7, 6, 5], order: 'C' },
]
const base = (name: string): BaseSpec => BASES.find((b) => b.name === name)!
const bigEndian = (b: BaseSpec) => b.dtype.startsWith('>')
const COUNTS: Record<string, number> = { c4: 110, f4: 90, be4: 70, bef3: 50, u2: 40, v1: 40, e03: 15, z0: 8 }

const r = rng(20240611)
const randomExprs: Expr[] = []
for (const [name, n] of Object.entries(COUNTS)) {
  for (let i = 0; i < n; i++) randomExprs.push(randomExpr(r, name, base(name).shape))
}

/** Valid slice strings, checked against NumPy's `a[...]` on c4. */
const STRINGS = [
  '1:, ::-2', '...', '..., 1', '0, ..., ::-1', ' -1 : : -1 , 1:3 ', '::-1, ::-1, ::-1, ::-1', '1, 2, 3, 4',
  ':', '::', '..., ::2, :', '-2:', '+1, -3', ':, :, :, :, ...', '5:-7:-1', '1:1', '-100:100:3, ..., 100:-100:-4',
]
const stringExprs: Expr[] = STRINGS.map((s) => ({ array: 'c4', ops: [{ op: 'str', s }] }))

/** float64 values to round to float16: specials, boundaries, exact ties and random values. */
function halfInputs(): number[] {
  const h = rng(7)
  const half = (bits: number): number => {
    const e = (bits >> 10) & 0x1f
    const m = bits & 0x3ff
    const v = e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15)
    return bits & 0x8000 ? -v : v
  }
  const xs = [
    0, -0, 1, -1, 0.1, -0.1, 1 / 3, Math.PI, 65504, -65504, 65505, 65519, 65519.99, 65520, -65520, 65536, 1e5, -1e9,
    Infinity, -Infinity, 2 ** -24, -(2 ** -24), 2 ** -25, -(2 ** -25), 2 ** -25 * (1 + 2 ** -52), 2 ** -26, 1.5 * 2 ** -24,
    2.5 * 2 ** -24, 3.5 * 2 ** -24, 2 ** -14, 2 ** -14 - 2 ** -25, 2 ** -14 - 2 ** -24, 5e-8, 6e-8, 1e-10, 1e-300, 5e-324,
    2049, 2050, 2051, 2053, 4097, 4098, 4099, 4101, 0.5 + 2 ** -12, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 1 - 2 ** -12,
    Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE,
  ]
  for (let i = 0; i < 120; i++) {
    // exact midpoints between neighbouring float16 values (subnormal and normal), and just around them
    const bits = (h() < 0.3 ? int(h, 0, 0x3ff) : int(h, 0x400, 0x7bfe)) | (h() < 0.5 ? 0x8000 : 0)
    const mid = (half(bits) + half(bits + 1)) / 2
    xs.push(mid)
    if (i % 3 === 0) xs.push(mid * (1 + 2 ** -40), mid * (1 - 2 ** -40))
  }
  for (let i = 0; i < 150; i++) {
    xs.push((h() < 0.5 ? -1 : 1) * (1 + h()) * 2 ** int(h, -28, 17))
  }
  return xs
}
const HALF = halfInputs()

const numpy = askNumpy(tmp, BASES, [...randomExprs, ...stringExprs], HALF)
const npyPath = (name: string) => path.join(tmp, `${name}.npy`)
const headerLen = (name: string) => numpy.arrays[name]!.offset

/** A private copy of a base file, for tests that write. */
function copyOf(name: string): string {
  const dir = fs.mkdtempSync(path.join(tmp, 'w-'))
  const p = path.join(dir, `${name}.npy`)
  fs.copyFileSync(npyPath(name), p)
  return p
}

// ----------------------------------------------------------------------------- helpers

function applyOps(a: Arr, ops: Op[]): Arr {
  let v = a
  for (const o of ops) {
    switch (o.op) {
      case 'slice':
        v = v.slice(...o.specs)
        break
      case 'str':
        v = v.slice(o.s)
        break
      case 'T':
        v = v.T
        break
      case 'transpose':
        v = o.spread ? v.transpose(...o.axes) : v.transpose(o.axes)
        break
      case 'reshape':
        v = o.spread ? v.reshape(...o.shape) : v.reshape(o.shape)
        break
    }
  }
  return v
}

function show(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x))
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f()
  } catch (e) {
    return (e as { code?: string }).code ?? `(no code: ${String(e)})`
  }
  return undefined
}

/** The first difference between the mmnpy view and NumPy's, or null. */
function compareView(v: Arr, e: Exclude<NumpyView, { error: string }>, opts: { bigEndian: boolean; fileBacked: boolean }): string | null {
  if (!isDeepStrictEqual([...v.shape], e.shape)) return `shape ${show(v.shape)}, NumPy ${show(e.shape)}`
  if (!isDeepStrictEqual([...v.strides], e.strides)) return `strides ${show(v.strides)}, NumPy ${show(e.strides)}`
  if (opts.fileBacked && v.offset !== e.offset) return `offset ${v.offset}, NumPy ${e.offset}`
  if (v.flags.cContiguous !== e.c) return `flags.cContiguous ${v.flags.cContiguous}, NumPy ${e.c}`
  if (v.flags.fContiguous !== e.f) return `flags.fContiguous ${v.flags.fContiguous}, NumPy ${e.f}`
  if (v.size !== e.flat.length) return `size ${v.size}, NumPy ${e.flat.length}`
  const list = v.toArray()
  if (!isDeepStrictEqual(list, e.list)) return `toArray() ${show(list)}, NumPy tolist() ${show(e.list)}`
  const ta = v.toTypedArray()
  if (!isDeepStrictEqual(Array.from(ta as ArrayLike<number>), e.flat)) return `toTypedArray() ${show(Array.from(ta as ArrayLike<number>))}, NumPy ${show(e.flat)}`
  const c = v.copy()
  if (c.mode !== null || !c.flags.cContiguous || !isDeepStrictEqual([...c.shape], e.shape) || !isDeepStrictEqual(c.toArray(), e.list)) {
    return `copy(): mode ${c.mode}, cContiguous ${c.flags.cContiguous}, shape ${show(c.shape)}, values ${show(c.toArray())}`
  }
  c.close()
  const dataCode = codeOf(() => v.data)
  if (e.mem === null) {
    if (dataCode !== 'ERR_MMNPY_NOT_CONTIGUOUS') return `data of a non-contiguous view: ${dataCode ?? 'no error'}, expected ERR_MMNPY_NOT_CONTIGUOUS`
  } else if (opts.bigEndian) {
    if (dataCode !== 'ERR_MMNPY_BYTE_ORDER') return `data of a big-endian view: ${dataCode ?? 'no error'}, expected ERR_MMNPY_BYTE_ORDER`
  } else {
    if (dataCode !== undefined) return `data of a contiguous view threw ${dataCode}`
    const mem = Array.from(v.data as ArrayLike<number>)
    if (!isDeepStrictEqual(mem, e.mem)) return `data ${show(mem)}, NumPy memory order ${show(e.mem)}`
  }
  return null
}

/** Compares each expression with NumPy; returns the mismatches and what kinds of views were seen. */
function runExprs(t: ExecutionContext, a: Arr, b: BaseSpec, items: { expr: Expr; np: NumpyView }[], fileBacked: boolean) {
  const bad: string[] = []
  const seen = { ok: 0, copyRefused: 0, contiguous: 0, strided: 0, empty: 0 }
  for (const { expr, np } of items) {
    const name = describeExpr(expr)
    let v: Arr
    try {
      v = applyOps(a, expr.ops)
    } catch (err) {
      const code = (err as { code?: string }).code
      if ('error' in np) {
        if (np.error === 'copy') {
          seen.copyRefused++
          if (code !== 'ERR_MMNPY_NOT_CONTIGUOUS' || !(err instanceof MmnpyError)) bad.push(`${name}: NumPy needs a copy; mmnpy threw ${code} ${String(err)}`)
        } else if (np.error === 'index' && !(err instanceof RangeError)) {
          bad.push(`${name}: NumPy IndexError (${np.message}); mmnpy threw ${String(err)}, not a RangeError`)
        }
      } else {
        bad.push(`${name}: mmnpy threw ${code} ${String(err)}, NumPy gives shape ${show(np.shape)}`)
      }
      continue
    }
    if ('error' in np) {
      bad.push(`${name}: NumPy raised (${np.error}: ${np.message}) but mmnpy gave shape ${show(v.shape)} strides ${show(v.strides)}`)
      continue
    }
    seen.ok++
    if (np.mem !== null) seen.contiguous++
    else seen.strided++
    if (np.flat.length === 0) seen.empty++
    const m = compareView(v, np, { bigEndian: bigEndian(b), fileBacked })
    if (m) bad.push(`${name}: ${m}`)
  }
  t.deepEqual(bad.slice(0, 8), [], `${bad.length} of ${items.length} expressions differ from NumPy`)
  return seen
}

const itemsFor = (name: string) =>
  randomExprs.map((expr, i) => ({ expr, np: numpy.exprs[i]! })).filter((x) => x.expr.array === name)

// ----------------------------------------------------------------------------- random views vs NumPy

test('the random expressions cover the interesting cases', (t) => {
  const all = randomExprs.map((expr, i) => ({ expr, np: numpy.exprs[i]! }))
  const ok = all.filter((x) => !('error' in x.np))
  const copy = all.filter((x) => 'error' in x.np && x.np.error === 'copy')
  const other = all.filter((x) => 'error' in x.np && x.np.error !== 'copy')
  t.true(all.length >= 400, `${all.length} expressions`)
  t.deepEqual(other.map((x) => `${describeExpr(x.expr)}: ${'error' in x.np ? x.np.message : ''}`), [], 'the generator only makes valid NumPy expressions')
  t.true(copy.length >= 15, `${copy.length} reshapes need a copy`)
  const strided = ok.filter((x) => !('error' in x.np) && x.np.mem === null).length
  const negative = ok.filter((x) => !('error' in x.np) && x.np.strides.some((s) => s < 0)).length
  const empty = ok.filter((x) => !('error' in x.np) && x.np.flat.length === 0).length
  const zeroD = ok.filter((x) => !('error' in x.np) && x.np.shape.length === 0).length
  const strOps = all.filter((x) => x.expr.ops.some((o) => o.op === 'str')).length
  t.log(show({ ok: ok.length, copy: copy.length, strided, negative, empty, zeroD, strOps }))
  t.true(strided >= 100 && negative >= 60 && empty >= 10 && zeroD >= 10 && strOps >= 50, show({ strided, negative, empty, zeroD, strOps }))
})

for (const name of Object.keys(COUNTS)) {
  for (const mode of ['r', null] as const) {
    test(`${name} (${mode ?? 'memory'}): ${COUNTS[name]} random views match NumPy`, (t) => {
      const b = base(name)
      const a = mode === null ? loadNpy(npyPath(name)) : loadNpy(npyPath(name), { mmapMode: mode })
      t.is(a.offset, headerLen(name))
      runExprs(t, a, b, itemsFor(name), true)
      a.close()
    })
  }
}

test('slice strings match NumPy', (t) => {
  const a = loadNpy(npyPath('c4'), { mmapMode: 'r' })
  const items = stringExprs.map((expr, i) => ({ expr, np: numpy.exprs[randomExprs.length + i]! }))
  const seen = runExprs(t, a, base('c4'), items, true)
  t.is(seen.ok, STRINGS.length)
  a.close()
})

test('invalid slice strings and specs throw with a code', (t) => {
  const a = loadNpy(npyPath('c4'), { mmapMode: 'r' })
  const invalid = ['1:x', '1:2:3:4', '..., ...', '1.5', 'a', '[1]', '1::2::', '1 2', '0x1', '1e2', '--1', '1:2 3']
  for (const s of invalid) {
    const err = t.throws(() => a.slice(s), undefined, `'${s}'`)
    t.regex(String((err as { code?: string } | undefined)?.code), /^ERR_MMNPY_/, `'${s}' has a code`)
  }
  // out of range / too many indices are IndexErrors in NumPy: RangeError here
  for (const s of ['5', '-3', '0, 3', '0, 0, 0, 0, 0', '0, ..., 0, 0, 0, 0']) {
    t.throws(() => a.slice(s), { instanceOf: RangeError }, `'${s}'`)
  }
  t.throws(() => a.slice(0, 0, 0, 0, 0), { instanceOf: RangeError }, 'too many indices')
  t.throws(() => a.slice(null, null, null, null, null), { instanceOf: RangeError }, 'too many nulls')
  t.throws(() => a.slice(2), { instanceOf: RangeError }, 'index 2 on an axis of 2')
  t.throws(() => a.slice(-3), { instanceOf: RangeError }, 'index -3 on an axis of 2')
  // step 0, as a spec and as text
  for (const f of [() => a.slice([0, 2, 0]), () => a.slice(null, [null, null, 0]), () => a.slice('::0'), () => a.slice(':, 1:3:0')]) {
    const err = t.throws(f, { code: 'ERR_MMNPY_INVALID_ARG' })
    t.regex(err?.message ?? '', /step/)
  }
  t.throws(() => a.slice([0.5, 2]), { code: 'ERR_MMNPY_INVALID_ARG' }, 'fractional bound')
  t.throws(() => a.slice(1.5), { code: 'ERR_MMNPY_INVALID_ARG' }, 'fractional index')
  t.throws(() => a.slice([0, 1, 2, 3] as never), { code: 'ERR_MMNPY_INVALID_ARG' }, 'four numbers in a range')
  t.throws(() => a.slice('1:', 0 as never), { code: 'ERR_MMNPY_INVALID_ARG' }, 'a string plus other specs')
  t.throws(() => a.slice({} as never), { code: 'ERR_MMNPY_INVALID_ARG' }, 'an object spec')
  // transpose / reshape argument errors
  t.throws(() => a.transpose(0, 1), { code: 'ERR_MMNPY_INVALID_ARG' })
  t.throws(() => a.transpose(0, 0, 1, 2), { code: 'ERR_MMNPY_INVALID_ARG' })
  t.throws(() => a.transpose(0, 1, 2, 4), { instanceOf: RangeError })
  t.throws(() => a.reshape(7, -1), { code: 'ERR_MMNPY_INVALID_ARG' })
  t.throws(() => a.reshape(-1, -1, 2), { code: 'ERR_MMNPY_INVALID_ARG' })
  t.throws(() => a.reshape(121), { code: 'ERR_MMNPY_INVALID_ARG' })
  t.throws(() => a.reshape(2.5, 48), { code: 'ERR_MMNPY_INVALID_ARG' })
  const rErr = t.throws(() => a.T.reshape(120), { code: 'ERR_MMNPY_NOT_CONTIGUOUS' })
  t.true(rErr instanceof MmnpyError)
  a.close()
})

// ----------------------------------------------------------------------------- get / set

/** Value of c4 (arange, C order) at an index with negative parts resolved. */
function c4Value(idx: number[]): number {
  const shape = [2, 3, 4, 5]
  return idx.reduce((acc, i, d) => acc * shape[d]! + (i < 0 ? i + shape[d]! : i), 0)
}

test('get with negative and bigint indices; RangeError out of range or non-integer', (t) => {
  const a = loadNpy(npyPath('c4'), { mmapMode: 'r' })
  const g = rng(99)
  let bad = ''
  for (let k = 0; k < 300 && !bad; k++) {
    const idx = [2, 3, 4, 5].map((n) => int(g, -n, n - 1))
    const args = idx.map((i) => (g() < 0.3 ? BigInt(i) : i))
    const got = a.get(...args)
    if (got !== c4Value(idx)) bad = `get(${args.join(', ')}) = ${String(got)}, expected ${c4Value(idx)}`
  }
  t.is(bad, '')
  t.is(a.get(-1, -1, -1, -1), 119)
  t.is(a.get(1n, -2n, 3, -5n), 95)
  const outOfRange: (number | bigint)[][] = [
    [2, 0, 0, 0], [-3, 0, 0, 0], [0, 3, 0, 0], [0, -4, 0, 0], [0, 0, 0, 5], [0, 0, 0, -6], [2n, 0, 0, 0], [-3n, 0, 0, 0],
    [2 ** 53, 0, 0, 0], [0, 0, 0, 2n ** 70n],
    [0.5, 0, 0, 0], [0, 1.5, 0, 0], [-0.5, 0, 0, 0], [NaN, 0, 0, 0], [Infinity, 0, 0, 0], [-Infinity, 0, 0, 0],
  ]
  for (const idx of outOfRange) {
    t.throws(() => a.get(...idx), { instanceOf: RangeError }, `get(${idx.join(', ')})`)
  }
  for (const idx of [[], [0], [0, 0, 0], [0, 0, 0, 0, 0]]) {
    t.throws(() => a.get(...idx), { instanceOf: RangeError }, `get with ${idx.length} indices`)
  }
  t.throws(() => a.get('1' as never, 0, 0, 0))
  const v1 = loadNpy(npyPath('v1'), { mmapMode: 'r' })
  t.is(v1.get(-11), 0)
  t.is(v1.get(10n), 10)
  t.throws(() => v1.get(11), { instanceOf: RangeError })
  t.throws(() => v1.get(-12n), { instanceOf: RangeError })
  t.throws(() => v1.get(0.25), { instanceOf: RangeError })
  t.throws(() => v1.get(), { instanceOf: RangeError })
  t.throws(() => v1.get(0, 0), { instanceOf: RangeError })
  v1.close()
  a.close()
})

test('set with negative and bigint indices reaches the file; errors', (t) => {
  const p = copyOf('c4')
  const a = loadNpy(p, { mmapMode: 'r+' })
  a.set(-1, -1, -1, -1, -7)
  a.set(1n, -2n, 3, -5n, 123456)
  a.set(0, 0, 0, 0, 2 ** 31 - 1)
  t.is(a.get(1, 2, 3, 4), -7)
  t.is(a.get(1, 1, 3, 0), 123456)
  // through a reversed view
  const v = a.slice('..., ::-1')
  v.set(0, 0, 0, 0, 42)
  t.is(a.get(0, 0, 0, 4), 42)
  a.flush()
  const bytes = fs.readFileSync(p)
  const at = (flat: number) => bytes.readInt32LE(headerLen('c4') + 4 * flat)
  t.is(at(119), -7)
  t.is(at(95), 123456)
  t.is(at(0), 2 ** 31 - 1)
  t.is(at(4), 42)
  t.is(at(1), 1, 'neighbours untouched')

  for (const idx of [[2, 0, 0, 0], [0, 0, 0, -6], [2n, 0, 0, 0], [0.5, 0, 0, 0], [NaN, 0, 0, 0]]) {
    t.throws(() => a.set(...idx, 1), { instanceOf: RangeError }, `set(${idx.join(', ')}, 1)`)
  }
  t.throws(() => a.set(0, 0, 0, 1), { instanceOf: RangeError }, 'three indices')
  t.throws(() => a.set(0, 0, 0, 0, 0, 1), { instanceOf: RangeError }, 'five indices')
  t.throws(() => (a.set as (...x: unknown[]) => void)(), undefined, 'no value')
  t.is(a.get(2 - 2, 0, 0, 0), 2 ** 31 - 1)
  a.close()

  const ro = loadNpy(p, { mmapMode: 'r' })
  const err = t.throws(() => ro.set(0, 0, 0, 0, 1), { code: 'ERR_MMNPY_READONLY' })
  t.regex(err?.message ?? '', /read-only/)
  t.false(ro.flags.writeable)
  t.is(ro.get(0, 0, 0, 0), 2 ** 31 - 1)
  ro.close()
})

test('set refuses out-of-range integers and fractional values (no silent truncation)', (t) => {
  const ints: [Arr['dtype'], number | bigint, number | bigint][] = [
    ['int8', -128, 127], ['uint8', 0, 255], ['int16', -32768, 32767], ['uint16', 0, 65535],
    ['int32', -(2 ** 31), 2 ** 31 - 1], ['uint32', 0, 2 ** 32 - 1],
    ['int64', -(2n ** 63n), 2n ** 63n - 1n], ['uint64', 0n, 2n ** 64n - 1n],
  ]
  for (const [dtype, lo, hi] of ints) {
    const big = typeof lo === 'bigint'
    const a = array([0, 0, 0], { dtype })
    t.is(a.dtype, dtype)
    a.set(0, lo)
    a.set(-1, hi)
    t.is(a.get(0), lo, `${dtype} low end`)
    t.is(a.get(2), hi, `${dtype} high end`)
    const below = big ? (lo as bigint) - 1n : (lo as number) - 1
    const above = big ? (hi as bigint) + 1n : (hi as number) + 1
    for (const v of [below, above]) t.throws(() => a.set(1, v), { instanceOf: RangeError }, `${dtype} ${String(v)}`)
    for (const v of [0.5, -1.5, 2.000001, NaN, Infinity, -Infinity]) {
      t.throws(() => a.set(1, v), undefined, `${dtype} ${v}`)
    }
    t.throws(() => a.set(1, '5' as never), { instanceOf: TypeError }, `${dtype} string`)
    t.is(a.get(1), big ? 0n : 0, `${dtype} unchanged after refused writes`)
    a.set(1, big ? 7 : 7n) // the other numeric type is accepted when exact
    t.is(a.get(1), big ? 7n : 7)
    a.close()
  }
  const i64 = array([0], { dtype: 'int64' })
  i64.set(0, 2 ** 53)
  t.is(i64.get(0), 2n ** 53n)
  const b = array([false, false])
  t.is(b.dtype, 'bool')
  b.set(0, true)
  t.deepEqual(b.toArray(), [true, false])
  const f32 = array([0], { dtype: 'float32' })
  f32.set(0, 0.1)
  t.is(f32.get(0), Math.fround(0.1))
  t.throws(() => f32.set(0, 'x' as never), { instanceOf: TypeError })
})

test('complex values: {re, im}, [re, im] and numbers; big-endian bytes', (t) => {
  for (const dtype of ['complex64', 'complex128'] as const) {
    const round = dtype === 'complex64' ? Math.fround : (x: number) => x
    const a = array([0, 0, 0], { dtype })
    a.set(0, { re: 1.5, im: -2 })
    a.set(1, [0.1, 0.2])
    a.set(-1, 3)
    t.deepEqual(a.get(0), { re: 1.5, im: -2 })
    t.deepEqual(a.get(1), { re: round(0.1), im: round(0.2) })
    t.deepEqual(a.get(2), { re: 3, im: 0 })
    t.deepEqual(Array.from(a.data as Float32Array), [1.5, -2, round(0.1), round(0.2), 3, 0], 'interleaved data')
    for (const v of [[1], [1, 2, 3], { re: 1 }, { im: 1 }, '1', null]) {
      t.throws(() => a.set(0, v as never), { instanceOf: TypeError }, `${dtype} ${show(v)}`)
    }
    t.deepEqual(a.get(0), { re: 1.5, im: -2 })
  }
  // big-endian complex on disk: bytes in big-endian order
  const p = path.join(fs.mkdtempSync(path.join(tmp, 'cx-')), 'c.bin')
  fs.writeFileSync(p, Buffer.alloc(32))
  const m = memmap(p, { dtype: '>c16', mode: 'r+' })
  t.is(m.byteOrder, '>')
  m.set(1, [Math.PI, -0.25])
  t.deepEqual(m.get(1), { re: Math.PI, im: -0.25 })
  m.flush()
  const buf = fs.readFileSync(p)
  t.is(buf.readDoubleBE(16), Math.PI)
  t.is(buf.readDoubleBE(24), -0.25)
  t.deepEqual(Array.from(m.toTypedArray() as Float64Array), [0, 0, Math.PI, -0.25])
  m.close()
})

test(`float16 rounding matches NumPy for ${HALF.length} values (array(), set() native and big-endian)`, (t) => {
  t.true(HALF.length >= 300)
  const n = HALF.length
  const viaArray = array(HALF, { dtype: 'float16' })
  const dir = fs.mkdtempSync(path.join(tmp, 'f16-'))
  const le = openNpy(path.join(dir, 'le.npy'), { mode: 'w+', dtype: '<f2', shape: [n] })
  const bePath = path.join(dir, 'be.bin')
  fs.writeFileSync(bePath, Buffer.alloc(2 * n))
  const be = memmap(bePath, { dtype: '>f2', mode: 'r+' })
  HALF.forEach((x, i) => {
    le.set(i, x)
    be.set(i, x)
  })
  be.flush()
  const beBytes = fs.readFileSync(bePath)
  const bad: string[] = []
  const leCopy = le.toTypedArray() as Uint16Array
  HALF.forEach((x, i) => {
    const want = numpy.half[i]!
    const wantValue = hexf64(numpy.halfValue[i]!)
    const got = [(viaArray.data as Uint16Array)[i], (le.data as Uint16Array)[i], beBytes.readUInt16BE(2 * i), leCopy[i]]
    if (got.some((g) => g !== want)) bad.push(`${x} (${f64hex(x)}): bits ${got.map((g) => g?.toString(16)).join('/')}, NumPy ${want.toString(16)}`)
    for (const v of [viaArray.get(i), le.get(i), be.get(i)]) {
      if (!Object.is(v, wantValue)) bad.push(`${x}: get() ${String(v)}, NumPy ${wantValue}`)
    }
  })
  t.deepEqual(bad.slice(0, 10), [], `${bad.length} mismatches`)
  // NaN stays NaN (its sign and payload are not compared)
  le.set(0, NaN)
  const bits = (le.data as Uint16Array)[0]!
  t.true((bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0, `NaN bits ${bits.toString(16)}`)
  t.true(Number.isNaN(le.get(0) as number))
  for (const x of [viaArray, le, be]) x.close()
})

// ----------------------------------------------------------------------------- chunks

/** Nested array sliced along one axis: x[..., start:stop, ...]. */
function takeAxis(x: unknown, axis: number, start: number, stop: number): unknown {
  if (!Array.isArray(x)) throw new Error('not an array')
  if (axis === 0) return x.slice(start, stop)
  return x.map((y) => takeAxis(y, axis - 1, start, stop))
}

function checkChunks(t: ExecutionContext, a: Arr, opts: { axis?: number; rows?: number; bytes?: number }, expectLengths: number[]): void {
  const ax = opts.axis === undefined ? 0 : opts.axis < 0 ? opts.axis + a.ndim : opts.axis
  const whole = a.toArray()
  const chunks = [...a.chunks(opts)]
  t.deepEqual(chunks.map((c) => c.shape[ax]), expectLengths, `chunk lengths for ${show(opts)}`)
  let start = 0
  for (const c of chunks) {
    const len = c.shape[ax]!
    const shape = [...a.shape]
    shape[ax] = len
    t.deepEqual([...c.shape], shape)
    t.deepEqual([...c.strides], [...a.strides], 'chunks are views with the same strides')
    t.is(c.offset, a.offset + start * a.strides[ax]!, 'chunk offset')
    t.deepEqual(c.toArray(), takeAxis(whole, ax, start, start + len))
    start += len
  }
  t.is(start, a.shape[ax]!, 'the chunks cover the axis exactly')
}

test('chunks() with rows, bytes and axis cover the array exactly', (t) => {
  const a = loadNpy(npyPath('k3'), { mmapMode: 'r' }) // int16 (7, 6, 5)
  checkChunks(t, a, { rows: 3 }, [3, 3, 1])
  checkChunks(t, a, { rows: 7 }, [7])
  checkChunks(t, a, { rows: 100 }, [7])
  checkChunks(t, a, { axis: 1, rows: 4 }, [4, 2])
  checkChunks(t, a, { axis: -1, bytes: 2 * 7 * 6 * 2 }, [2, 2, 1])
  checkChunks(t, a, { axis: 2, bytes: 2 * 7 * 6 * 2 + 1 }, [2, 2, 1])
  checkChunks(t, a, { bytes: 6 * 5 * 2 * 2 }, [2, 2, 2, 1])
  checkChunks(t, a, { bytes: 1 }, [1, 1, 1, 1, 1, 1, 1])
  checkChunks(t, a, {}, [7])
  const v = a.slice('::-2, 1:, ::3') // strided, negative strides
  checkChunks(t, v, { rows: 3 }, [3, 1])
  checkChunks(t, v, { axis: 1, rows: 2 }, [2, 2, 1])
  checkChunks(t, a.T, { axis: 0, rows: 2 }, [2, 2, 1])
  // contiguous row chunks give data
  const firstRows = [...a.chunks({ rows: 2 })][1]!
  t.deepEqual(Array.from(firstRows.data as Int16Array), Array.from({ length: 60 }, (_, i) => 60 + i))
  for (const bad of [{ rows: 0 }, { rows: 1.5 }, { rows: -1 }, { bytes: 0 }, { bytes: -5 }, { axis: 3 }, { axis: -4 }, { axis: 0.5 }]) {
    t.throws(() => [...a.chunks(bad)], undefined, show(bad))
  }
  // 0-d: one chunk; zero-size: no chunks along the empty axis
  const z = loadNpy(npyPath('z0'), { mmapMode: 'r' })
  t.deepEqual([...z.chunks({ rows: 1 })].map((c) => c.shape), [[]])
  const e = loadNpy(npyPath('e03'), { mmapMode: 'r' })
  t.is([...e.chunks({ rows: 1 })].length, 0)
  t.deepEqual([...e.chunks({ axis: 1, rows: 2 })].map((c) => [...c.shape]), [[0, 2], [0, 1]])
  for (const x of [a, z, e]) x.close()
})

// ----------------------------------------------------------------------------- copies and data

test('toTypedArray(): C-order copy in native byte order, also big-endian and strided', (t) => {
  const be = loadNpy(npyPath('be4'), { mmapMode: 'r' })
  const ta = be.toTypedArray()
  t.true(ta instanceof Float64Array)
  t.deepEqual(Array.from(ta as Float64Array), Array.from({ length: 120 }, (_, i) => i))
  const v = be.slice('::-1, 1, ::2').T
  const tv = v.toTypedArray() as Float64Array
  t.deepEqual(Array.from(tv), (v.toArray() as number[][][]).flat(2))
  tv[0] = -1
  t.not(v.get(0, 0, 0), -1, 'a copy')
  const bef = loadNpy(npyPath('bef3'), { mmapMode: 'r' }) // big-endian int16, Fortran order
  const tf = bef.toTypedArray()
  t.true(tf instanceof Int16Array)
  t.deepEqual(Array.from(tf as Int16Array), Array.from({ length: 60 }, (_, i) => i), 'C order of a Fortran file')
  const f = loadNpy(npyPath('f4'))
  t.deepEqual(Array.from(f.toTypedArray() as Float64Array), Array.from({ length: 120 }, (_, i) => i))
  const i64 = array([[1n, -2n], [3n, 2n ** 62n]])
  const t64 = i64.T.toTypedArray()
  t.true(t64 instanceof BigInt64Array)
  t.deepEqual(Array.from(t64 as BigInt64Array), [1n, 3n, -2n, 2n ** 62n])
  const u64 = array([2n ** 64n - 1n], { dtype: '>u8' })
  t.deepEqual(Array.from(u64.toTypedArray() as BigUint64Array), [2n ** 64n - 1n])
  const bools = array([true, false, false])
  t.deepEqual(Array.from(bools.slice('::-1').toTypedArray() as Uint8Array), [0, 0, 1])
  t.true(bools.toTypedArray() instanceof Uint8Array)
  const e = loadNpy(npyPath('e03'), { mmapMode: 'r' })
  t.is(e.toTypedArray().length, 0)
  for (const x of [be, bef, f, i64, u64, bools, e]) x.close()
})

test('copy(): in memory, C-contiguous, same dtype and byte order, independent of the source', (t) => {
  const p = copyOf('c4')
  const a = loadNpy(p, { mmapMode: 'r+' })
  const v = a.slice('1, ::-1, 1:3').T // (2, 4, 3)... a strided, transposed view
  const c = v.copy()
  t.is(c.mode, null)
  t.is(c.filename, null)
  t.true(c.flags.cContiguous)
  t.true(c.flags.writeable)
  t.is(c.dtype, 'int32')
  t.deepEqual([...c.shape], [...v.shape])
  t.deepEqual([...c.strides], [4 * v.shape[1]! * v.shape[2]!, 4 * v.shape[2]!, 4])
  t.deepEqual(c.toArray(), v.toArray())
  const before = v.get(0, 0, 0)
  c.set(0, 0, 0, -1)
  t.is(v.get(0, 0, 0), before, 'writing the copy leaves the source alone')
  v.set(1, 1, 1, -2)
  t.not(c.get(1, 1, 1), -2, 'writing the source leaves the copy alone')
  t.deepEqual(Array.from(c.data as Int32Array), (c.toArray() as number[][][]).flat(2), 'copy gives data')
  a.close()
  t.is(c.get(0, 0, 0), -1, 'the copy outlives the source')
  c.close()
  const be = loadNpy(npyPath('be4'), { mmapMode: 'r' })
  const bc = be.slice(':, 0').copy()
  t.is(bc.byteOrder, '>')
  t.deepEqual(bc.toArray(), be.slice(':, 0').toArray())
  be.close()
  t.deepEqual(bc.get(1, 3, 4), 79)
  const f = loadNpy(npyPath('f4'), { mmapMode: 'r' })
  const fc = f.copy()
  t.true(fc.flags.cContiguous && !fc.flags.fContiguous)
  t.deepEqual(Array.from(fc.data as Float64Array), Array.from({ length: 120 }, (_, i) => i))
  f.close()
})

test("data is zero-copy: writes in 'r+' reach get() and the file; 'c' and 'r' keep the file", (t) => {
  const p = copyOf('c4')
  const a = loadNpy(p, { mmapMode: 'r+' })
  const d = a.data as Int32Array
  t.true(d instanceof Int32Array)
  t.is(d.length, 120)
  d[5] = 1234
  t.is(a.get(0, 0, 1, 0), 1234)
  a.set(1, 2, 3, 4, -99)
  t.is(d[119], -99, 'set() is visible through data')
  const row = a.slice(1, 2) // contiguous (4, 5) block
  ;(row.data as Int32Array)[0] = 777
  t.is(a.get(1, 2, 0, 0), 777)
  a.flush()
  const bytes = fs.readFileSync(p)
  t.is(bytes.readInt32LE(headerLen('c4') + 5 * 4), 1234)
  t.is(bytes.readInt32LE(headerLen('c4') + 100 * 4), 777)
  a.close()

  for (const mode of ['c', 'r'] as const) {
    const q = copyOf('c4')
    const before = fs.readFileSync(q)
    const b = loadNpy(q, { mmapMode: mode })
    ;(b.data as Int32Array)[3] = 4321
    if (mode === 'c') {
      t.is(b.get(0, 0, 0, 3), 4321, "'c': private write visible in the array")
      b.set(0, 0, 0, 4, 55)
    }
    b.flush()
    b.close()
    t.deepEqual(fs.readFileSync(q), before, `'${mode}': the file is unchanged`)
  }

  const f = loadNpy(npyPath('f4'), { mmapMode: 'r' })
  t.true(f.flags.fContiguous)
  const fd = f.data as Float64Array
  t.is(fd[1], f.get(1, 0, 0, 0) as number, 'F-contiguous: memory order')
  t.is(fd[2], f.get(0, 1, 0, 0) as number)
  f.close()
})

test('data throws for strided views (naming chunks()), big-endian arrays and misaligned memory', (t) => {
  const a = loadNpy(npyPath('c4'), { mmapMode: 'r' })
  for (const v of [a.slice('..., ::2'), a.slice(':, 1'), a.slice('::-1'), a.T.slice(0)]) {
    const err = t.throws(() => v.data, { code: 'ERR_MMNPY_NOT_CONTIGUOUS' })
    t.true(err instanceof MmnpyError)
    t.regex(err?.message ?? '', /chunks\(\)/)
  }
  t.notThrows(() => a.T.data, 'the transpose of a C array is F-contiguous')
  const be = loadNpy(npyPath('be4'), { mmapMode: 'r' })
  t.throws(() => be.data, { code: 'ERR_MMNPY_BYTE_ORDER' })
  t.is(be.get(1, 2, 3, 4), 119, 'get still works')
  a.close()
  be.close()

  // raw file: 3 junk bytes, then int16 values -> misaligned for Int16Array
  const p = path.join(fs.mkdtempSync(path.join(tmp, 'mis-')), 'raw.bin')
  const buf = Buffer.alloc(3 + 2 * 9)
  buf.write('abc', 0, 'latin1')
  for (let i = 0; i < 9; i++) buf.writeInt16LE(i * 1000 - 4000, 3 + 2 * i)
  fs.writeFileSync(p, buf)
  for (const offset of [3, 3n]) {
    const m = memmap(p, { dtype: 'int16', mode: 'r+', offset })
    t.deepEqual([...m.shape], [9])
    t.false(m.flags.aligned)
    t.is(m.offset, 3)
    const err = t.throws(() => m.data, { code: 'ERR_MMNPY_MISALIGNED' })
    t.regex(err?.message ?? '', /get\(\)|toTypedArray\(\)/)
    t.deepEqual(m.toArray(), Array.from({ length: 9 }, (_, i) => i * 1000 - 4000))
    t.is(m.get(-1), 4000)
    t.deepEqual(Array.from(m.toTypedArray() as Int16Array), Array.from({ length: 9 }, (_, i) => i * 1000 - 4000))
    t.deepEqual(m.slice('::-4').toArray(), [4000, 0, -4000])
    m.set(2, -300)
    t.is(m.get(2), -300)
    m.flush()
    t.is(fs.readFileSync(p).readInt16LE(3 + 4), -300)
    m.set(2, -2000)
    m.close()
  }
  t.deepEqual(fs.readFileSync(p).subarray(0, 3).toString('latin1'), 'abc', 'bytes before the offset untouched')
})

// ----------------------------------------------------------------------------- array(), 0-d, zero-size

test('array() from nested arrays and TypedArrays', (t) => {
  const a = array([[1, 2, 3], [4, 5, 6]])
  t.is(a.dtype, 'int64', 'integers give int64 like np.array')
  t.deepEqual([...a.shape], [2, 3])
  t.deepEqual([...a.strides], [24, 8])
  t.deepEqual(a.toArray(), [[1n, 2n, 3n], [4n, 5n, 6n]])
  t.is(a.mode, null)
  t.is(a.filename, null)
  t.is(array([[1.5, 2]]).dtype, 'float64')
  t.is(array([true, false]).dtype, 'bool')
  t.deepEqual(array([{ re: 1, im: 2 }]).get(0), { re: 1, im: 2 })
  const f = array([[1, 2], [3, 4]], { dtype: 'float32' })
  t.is(f.dtype, 'float32')
  t.deepEqual(Array.from(f.data as Float32Array), [1, 2, 3, 4])
  const be = array([1, -2, 3], { dtype: '>i2' })
  t.is(be.byteOrder, '>')
  t.deepEqual(be.toArray(), [1, -2, 3])
  t.throws(() => be.data, { code: 'ERR_MMNPY_BYTE_ORDER' })

  const src = new Float32Array([1.5, 2.5, 3.5, 4.5, 5.5, 6.5])
  const x = array(src, { shape: [2, 3] })
  t.is(x.dtype, 'float32')
  t.deepEqual(x.toArray(), [[1.5, 2.5, 3.5], [4.5, 5.5, 6.5]])
  src[0] = 99
  t.is(x.get(0, 0), 1.5, 'array() copies the TypedArray')
  const sub = array(new Int16Array([9, 8, 7, 6]).subarray(1, 3))
  t.deepEqual(sub.toArray(), [8, 7], 'respects byteOffset of a subarray')
  t.deepEqual(array(new BigInt64Array([1n, -2n])).toArray(), [1n, -2n])
  t.deepEqual(array(new Uint16Array([0x3c00, 0xc000]), { dtype: 'float16' }).toArray(), [1, -2])
  t.deepEqual(array(new Float64Array([1, 2, 3, 4]), { dtype: 'complex128' }).toArray(), [{ re: 1, im: 2 }, { re: 3, im: 4 }])

  t.throws(() => array([[1, 2], [3]]), { code: 'ERR_MMNPY_INVALID_ARG' }, 'ragged')
  t.throws(() => array([[1, 2], 3] as never), { code: 'ERR_MMNPY_INVALID_ARG' }, 'ragged depth')
  t.throws(() => array([1, 2, 3], { shape: [2, 2] }), { code: 'ERR_MMNPY_INVALID_ARG' }, 'shape mismatch')
  t.throws(() => array([300], { dtype: 'uint8' }), { instanceOf: RangeError })
  t.throws(() => array([1.5], { dtype: 'int32' }))
  t.throws(() => array(new Float32Array(2), { dtype: 'float64' }), { code: 'ERR_MMNPY_INVALID_ARG' }, 'no silent conversion')
  t.throws(() => array([1], { dtype: 'float7' }))
})

test('0-d arrays', (t) => {
  const z = loadNpy(npyPath('z0'), { mmapMode: 'r' })
  t.deepEqual([...z.shape], [])
  t.deepEqual([...z.strides], [])
  t.is(z.ndim, 0)
  t.is(z.size, 1)
  t.is(z.nbytes, 8)
  t.is(z.offset, headerLen('z0'))
  t.true(z.flags.cContiguous && z.flags.fContiguous)
  t.is(z.get(), 0)
  t.is(z.toArray(), 0)
  t.deepEqual(Array.from(z.data as Float64Array), [0])
  t.deepEqual(Array.from(z.toTypedArray() as Float64Array), [0])
  t.throws(() => z.get(0), { instanceOf: RangeError })
  t.throws(() => z.slice(0), { instanceOf: RangeError })
  t.deepEqual([...z.slice().shape], [])
  t.deepEqual([...z.slice('...').shape], [])
  t.deepEqual([...z.T.shape], [])
  t.deepEqual([...z.reshape(1).shape], [1])
  t.deepEqual([...z.reshape(1, 1, 1).strides], [8, 8, 8])
  t.deepEqual([...z.reshape(1).reshape([]).shape], [])
  t.throws(() => z.reshape(2))
  z.close()

  const p = copyOf('z0')
  const w = loadNpy(p, { mmapMode: 'r+' })
  w.set(2.75)
  t.is(w.get(), 2.75)
  t.throws(() => w.set(0, 1), { instanceOf: RangeError }, 'an index on a 0-d array')
  w.close()
  t.is(fs.readFileSync(p).readDoubleLE(headerLen('z0')), 2.75)

  const s = array(3.5)
  t.deepEqual([...s.shape], [])
  t.is(s.dtype, 'float64')
  t.is(s.get(), 3.5)
  t.is(s.copy().toArray(), 3.5)
  const n = array(7)
  t.is(n.get(), 7n)
})

test('zero-size arrays', (t) => {
  const e = loadNpy(npyPath('e03'), { mmapMode: 'r' })
  t.deepEqual([...e.shape], [0, 3])
  t.is(e.size, 0)
  t.is(e.nbytes, 0)
  t.deepEqual(e.toArray(), [])
  t.true(e.data instanceof Int32Array)
  t.is(e.data.length, 0)
  t.throws(() => e.get(0, 0), { instanceOf: RangeError })
  t.throws(() => e.get(-1, 0), { instanceOf: RangeError })
  t.deepEqual(e.T.toArray(), [[], [], []])
  t.deepEqual([...e.reshape(3, 0).shape], [3, 0])
  t.deepEqual([...e.reshape(-1).shape], [0])
  t.throws(() => e.reshape(-1, 0))
  t.deepEqual([...e.slice('1:').shape], [0, 3])
  t.deepEqual([...e.slice(':, ::-1').shape], [0, 3])
  const c = e.copy()
  t.deepEqual([...c.shape], [0, 3])
  t.is(c.toTypedArray().length, 0)
  t.true(e.flags.cContiguous && e.flags.fContiguous)
  e.close()
  const mem = array([], { dtype: 'float32' })
  t.deepEqual([...mem.shape], [0])
  t.is(mem.data.length, 0)
  t.deepEqual(array(new Float64Array(0)).toArray(), [])
})

// ----------------------------------------------------------------------------- small windows

test.serial('small windows (4096 bytes): get, set, toArray, slices and data across window boundaries', (t) => {
  const rows = 100
  const cols = 130 // a row is 1040 bytes: rows straddle the 4096-byte windows
  const n = rows * cols
  const value = (i: number) => i * 0.5 - 7
  const dir = fs.mkdtempSync(path.join(tmp, 'win-'))
  const le = path.join(dir, 'le.npy')
  const be = path.join(dir, 'be.npy')
  saveNpy(le, array(Float64Array.from({ length: n }, (_, i) => value(i)), { shape: [rows, cols] }))
  saveNpy(be, Array.from({ length: n }, (_, i) => value(i)), { dtype: '>f8', shape: [rows, cols] })
  const raw = path.join(dir, 'raw.bin') // misaligned int16 (DataView windows)
  const rawBuf = Buffer.alloc(3 + 2 * n)
  for (let i = 0; i < n; i++) rawBuf.writeInt16LE((i % 20000) - 10000, 3 + 2 * i)
  fs.writeFileSync(raw, rawBuf)
  t.true(fs.statSync(le).size > 100_000)

  const expected = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => value(i * cols + j)))
  distStorage.setWindowLimitForTests(4096)
  try {
    // 'r+' on le last: the earlier passes expect the original values
    for (const [file, mode] of [[le, null], [le, 'c'], [be, 'r+'], [le, 'r+']] as const) {
      const label = `${path.basename(file)} ${mode ?? 'memory'}`
      const a = mode === null ? loadNpy(file) : loadNpy(file, { mmapMode: mode })
      t.is((a as unknown as { _s: { windowBytes: number } })._s.windowBytes, 4096, `${label}: the small window is in effect`)
      t.deepEqual(a.toArray(), expected, `${label}: toArray`)
      let bad = ''
      for (let i = 0; i < rows && !bad; i++) {
        for (let j = 0; j < cols; j++) {
          if (a.get(i, j) !== expected[i]![j]) {
            bad = `get(${i}, ${j}) = ${String(a.get(i, j))}`
            break
          }
        }
      }
      t.is(bad, '', label)
      const sl = a.slice('::-3, 7::11')
      t.deepEqual(sl.toArray(), expected.filter((_, i) => (rows - 1 - i) % 3 === 0).reverse().map((r) => r.filter((_, j) => j >= 7 && (j - 7) % 11 === 0)), `${label}: strided slice`)
      t.deepEqual(Array.from(a.T.slice(5).toTypedArray() as Float64Array), expected.map((r) => r[5]), `${label}: column`)
      // elements next to window boundaries (512 float64 per window)
      for (const k of [511, 512, 513, 1023, 1024, 4095, 4096, n - 1]) {
        const [i, j] = [Math.floor(k / cols), k % cols]
        a.set(i, j, -k)
        t.is(a.get(i, j), -k, `${label}: set/get element ${k}`)
      }
      if (file === le) {
        let dataBad = ''
        let start = 0
        for (const c of a.chunks({ rows: 3 })) {
          const d = Array.from(c.data as Float64Array)
          const want = Array.from({ length: d.length }, (_, q) => a.get(Math.floor((start + q) / cols), (start + q) % cols))
          if (!isDeepStrictEqual(d, want) || d.length !== c.size) dataBad = `chunk at ${start}`
          start += c.size
        }
        t.is(dataBad, '', `${label}: data of every chunk`)
        t.is(start, n)
        const c = a.slice('3:7') // rows 3..6: bytes 3120..7280, across a window boundary
        ;(c.data as Float64Array)[2 * cols - 1] = 0.125
        t.is(a.get(4, cols - 1), 0.125, `${label}: write through data across a boundary`)
        const whole = a.data as Float64Array
        t.is(whole.length, n)
        t.is(whole[513], -513)
      } else {
        t.throws(() => a.slice('3:7').data, { code: 'ERR_MMNPY_BYTE_ORDER' })
      }
      a.close()
    }
    // the writes in 'r+' reached the files
    distStorage.setWindowLimitForTests()
    const leBack = loadNpy(le, { mmapMode: 'r' })
    const beBack = loadNpy(be, { mmapMode: 'r' })
    t.is(leBack.get(3, 123), -513)
    t.is(beBack.get(3, 123), -513)
    t.is(leBack.get(4, cols - 1), 0.125)
    t.is(beBack.get(0, 0), -7)
    leBack.close()
    beBack.close()
    distStorage.setWindowLimitForTests(4096)

    const m = memmap(raw, { dtype: 'int16', mode: 'r+', offset: 3 })
    t.false(m.flags.aligned)
    let rawBad = ''
    for (let i = 0; i < n && !rawBad; i++) if (m.get(i) !== (i % 20000) - 10000) rawBad = `get(${i})`
    t.is(rawBad, '')
    for (const k of [2047, 2048, 2049, n - 1]) {
      m.set(k, 1234)
      t.is(m.get(k), 1234)
    }
    t.deepEqual(m.slice([2040, 2060, 4]).toArray(), [2040 - 10000, 2044 - 10000, 1234, 2052 - 10000, 2056 - 10000])
    m.close()
    t.is(fs.readFileSync(raw).readInt16LE(3 + 2 * 2048), 1234)
  } finally {
    distStorage.setWindowLimitForTests()
  }
})
