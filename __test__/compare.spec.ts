// Comparisons, isnan/isfinite, any/all, arrayEqual, allclose/isclose against NumPy, bit for bit:
// one python3 process writes the inputs into a blob (mapped back with `memmap`) and computes
// every expected result.
import test from 'ava'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import { allclose, allcloseAsync, arrayEqual, arrayEqualAsync, array, equal, isclose, iscloseAsync, isfinite, isnan, less, openNpy } from '../index'
import type { NdArray, OutOptions, Scalar } from '../index'
import { DTYPES, blobReader, differs, noFailures, outcome, outcomeAsync, shaOf, show, tag } from './helpers/expect'
import type { Digest, DT, Enc } from './helpers/expect'
import { py } from './helpers/numpy'

type Op = 'equal' | 'notEqual' | 'less' | 'lessEqual' | 'greater' | 'greaterEqual'
const OPS: Op[] = ['equal', 'notEqual', 'less', 'lessEqual', 'greater', 'greaterEqual']

const EXPECT_PY = String.raw`
import os, sys, warnings
sys.path.insert(0, inp['helpers'])
from npcases import *
warnings.simplefilter('ignore')
DT = inp['dtypes']
rng = np.random.default_rng(20261206)
B = Blob()
OPS = {'equal': np.equal, 'notEqual': np.not_equal, 'less': np.less, 'lessEqual': np.less_equal, 'greater': np.greater, 'greaterEqual': np.greater_equal}
res = {}

def specials(v):
    v = v.copy()
    if v.dtype.kind in 'fc':
        v.flat[3] = np.nan
        v.flat[4] = np.inf
        v.flat[5] = -np.inf
    if v.dtype.kind == 'c':
        v.flat[6] = complex(1.0, np.nan)
        v.flat[7] = complex(np.nan, 1.0)
    return v

A = {d: B.put('A_' + d, specials(vals(rng, d, (4, 5)))) for d in DT}
Bv = {}
for d in DT:
    b = vals(rng, d, (4, 5))
    b[:, :2] = 0
    b[:2, :2] = np.ones((2, 2), d)
    b = specials(b)
    Bv[d] = B.put('B_' + d, b)
    B.put('Bbe_' + d, b.astype(big(d)))
# equal values across dtypes: both sides hold small integers in column 0 and 1
for d in DT:
    a = A[d].copy(); a[:, :2] = np.array([[0, 1], [1, 0], [1, 1], [0, 0]]).astype(d); A[d] = a; B.put('A_' + d, a)
res['pairs'] = {op: {a + ' ' + b: enc(f(A[a], Bv[b])) for a in DT for b in DT} for op, f in OPS.items()}
res['strided'] = {d: enc(np.less(A[d][::-1, ::2], Bv[d][::-1, ::2])) for d in DT}
I = B.put('I', np.array([2**53 + 1, -1, 2**63 - 1, 3], np.int64))
F = B.put('F', np.array([2.0**53, -1.0, 2.0**63, np.nan]))
U = B.put('U', np.array([2**53 + 1, 2**64 - 1, 2**63 - 1, 3], np.uint64))
res['int_float'] = {op: enc(f(I, F)) for op, f in OPS.items()}
res['int_uint'] = {op: enc(f(I, U)) for op, f in OPS.items()}
S = [dec(s) for s in inp['scalars']]
res['scalars'] = {op: {d: [attempt(lambda: f(A[d], s)) for s in S] for d in DT} for op, f in OPS.items()}
R = B.put('R', vals(rng, 'float32', (5,)))
Cc = B.put('Cc', vals(rng, 'int16', (4, 1)))
res['broadcast'] = [enc(np.less(A['float64'], R)), enc(np.greater_equal(Cc, A['int32'])), enc(np.equal(Cc, R))]
res['isnan'] = {d: enc(np.isnan(A[d])) for d in DT}
res['isfinite'] = {d: enc(np.isfinite(A[d])) for d in DT}
T = {}
for d in DT:
    t = np.ones((3, 4, 5), d)
    t[0, 1, :] = 0
    t[1, :, 2] = 0
    t[2] = 0
    if np.dtype(d).kind in 'fc':
        t[2, 3, 4] = np.nan
    T[d] = B.put('T_' + d, t)
    B.put('Tbe_' + d, t.astype(big(d)))
res['any'] = {d: [bool(T[d].any())] + [enc(T[d].any(axis=k)) for k in range(3)] + [bool(T[d][2].any()), bool(T[d][2, :3].any())] for d in DT}
res['all'] = {d: [bool(T[d].all())] + [enc(T[d].all(axis=k)) for k in range(3)] + [bool(T[d][0, 0].all()), bool(T[d][:, 1:3, 0].all())] for d in DT}
N = B.put('N', np.array([1.0, np.nan, 3.0]))
N2 = B.put('N2', np.array([1.0, np.nan, 3.0], np.float32))
NC = B.put('NC', np.array([complex(1, np.nan), 2 + 0j]))
NC2 = B.put('NC2', np.array([complex(np.nan, 5), 2 + 0j]))
res['array_equal'] = {d: [np.array_equal(A[d], A[e]) for e in DT] for d in DT}
res['array_equal_nan'] = [np.array_equal(N, N), np.array_equal(N, N, equal_nan=True), np.array_equal(N, N2, equal_nan=True), np.array_equal(NC, NC2, equal_nan=True), np.array_equal(NC, NC2), np.array_equal(I, F), np.array_equal(I, U), np.array_equal(A['int8'], A['int8'][:2])]
X = {d: B.put('X_' + d, specials(vals(rng, d, (4, 5)))) for d in DT}
Y = {}
for d in DT:
    y = X[d].copy()
    if np.dtype(d).kind in 'fc':
        y = (y * (1 + np.linspace(-3e-5, 3e-5, 20).reshape(4, 5))).astype(d)
        y.flat[10] = X[d].flat[10] + np.array(1e-8).astype(d) if np.dtype(d).kind == 'f' else y.flat[10]
    elif np.dtype(d).kind in 'iu':
        y = y.copy(); y.flat[0:4] = (y.flat[0:4] // 2)
    Y[d] = B.put('Y_' + d, y)
res['isclose'] = {a + ' ' + b: enc(np.isclose(X[a], Y[b])) for a in DT for b in DT}
res['allclose'] = {a + ' ' + b: bool(np.allclose(X[a], Y[b])) for a in DT for b in DT}
res['isclose_opts'] = [enc(np.isclose(X['float64'], Y['float64'], rtol=1e-7, atol=0)), enc(np.isclose(X['float64'], Y['float64'], equal_nan=True)), enc(np.isclose(X['float16'], Y['float16'], rtol=1e-3, atol=1e-2)), enc(np.isclose(X['complex64'], Y['float32'], equal_nan=True)), enc(np.isclose(X['int64'], Y['float64'][0])), bool(np.allclose(X['float64'], Y['float64'], equal_nan=True))]
L = B.put('L', vals(rng, 'float64', (1000, 700)))
res['large_less'] = digest(L < 0.25)
res['large_any0'] = digest((L > 1e7).any(axis=0))
res['large_all1'] = digest((L == L).all(axis=1))
res['large_close'] = bool(np.allclose(L, L * (1 + 1e-9)))
B.write(os.path.join(inp['dir'], 'blob.bin'))
res['manifest'] = B.manifest
out(res)
`

const SCALARS: Scalar[] = [0, 1, -1, 300, 2n ** 63n, 2n ** 64n - 1n, 2n ** 70n, -(2n ** 70n), 0.1, 2.5, -0.5, 16777217, 2049, NaN, Infinity, true, false, { re: 1, im: 0 }, { re: 0.1, im: -2 }]

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmnpy-compare-'))
test.after.always(() => fs.rmSync(tmp, { recursive: true, force: true }))

const E = py(EXPECT_PY, { dir: tmp, helpers: path.join(__dirname, 'helpers'), dtypes: DTYPES, scalars: SCALARS.map(tag) }) as {
  pairs: Record<Op, Record<string, Enc>>
  strided: Record<DT, Enc>
  int_float: Record<Op, Enc>
  int_uint: Record<Op, Enc>
  scalars: Record<Op, Record<DT, Enc[]>>
  broadcast: Enc[]
  isnan: Record<DT, Enc>
  isfinite: Record<DT, Enc>
  any: Record<DT, [boolean, Enc, Enc, Enc, boolean, boolean]>
  all: Record<DT, [boolean, Enc, Enc, Enc, boolean, boolean]>
  array_equal: Record<DT, boolean[]>
  array_equal_nan: boolean[]
  isclose: Record<string, Enc>
  allclose: Record<string, boolean>
  isclose_opts: [Enc, Enc, Enc, Enc, Enc, boolean]
  large_less: Digest
  large_any0: Digest
  large_all1: Digest
  large_close: boolean
  manifest: Record<string, [number, string, number[]]>
}
const inp = blobReader(path.join(tmp, 'blob.bin'), E.manifest)

const SYNC = (op: Op) => (a: NdArray, b: NdArray | Scalar, o?: OutOptions) => a[op](b, o)
const ASYNC = (op: Op) => (a: NdArray, b: NdArray | Scalar, o?: OutOptions) => a[`${op}Async`](b, o)

test('every comparison over all 14x14 dtype pairs equals NumPy (NaN, inf, complex order, exact integers)', async (t) => {
  const failures: string[] = []
  let n = 0
  for (const op of OPS) {
    for (const [i, a] of DTYPES.entries()) {
      for (const [j, b] of DTYPES.entries()) {
        n++
        const exp = E.pairs[op][`${a} ${b}`]!
        const f = differs(SYNC(op)(inp(`A_${a}`), inp(`B_${b}`)), exp)
        if (f) failures.push(`${a} ${op} ${b}: ${f}`)
        // big-endian right side, async for a third of the pairs
        const g = (i + j) % 3 === 0 ? differs(await ASYNC(op)(inp(`A_${a}`), inp(`Bbe_${b}`)), exp) : differs(SYNC(op)(inp(`A_${a}`), inp(`Bbe_${b}`)), exp)
        if (g) failures.push(`${a} ${op} '>' ${b}: ${g}`)
      }
    }
  }
  noFailures(t, failures, n, 'comparisons')
  for (const d of DTYPES) t.is(differs(inp(`A_${d}`).slice('::-1, ::2').less(inp(`B_${d}`).slice('::-1, ::2')), E.strided[d]), null, `strided ${d}`)
})

test('int64 with float64 compares in float64 like NumPy (2^53 + 1 == 2.0^53); int64 with uint64 exactly', (t) => {
  for (const op of OPS) {
    t.is(differs(SYNC(op)(inp('I'), inp('F')), E.int_float[op]), null, `${op} int64 float64`)
    t.is(differs(SYNC(op)(inp('I'), inp('U')), E.int_uint[op]), null, `${op} int64 uint64`)
  }
  t.deepEqual(inp('I').equal(inp('F')).toArray(), [true, true, true, false], '2^63 - 1 rounds to 2.0^63 in float64, as in NumPy')
  t.deepEqual(inp('I').less(inp('U')).toArray(), [false, true, false, false])
})

test("scalars follow NumPy 2's weak rules: exact integers of any size, float32(0.1), float16(2049)", async (t) => {
  const failures: string[] = []
  let n = 0
  for (const op of OPS) {
    for (const d of DTYPES) {
      for (const [i, s] of SCALARS.entries()) {
        n++
        const exp = E.scalars[op][d][i]!
        const f = i % 4 === 0 ? await outcomeAsync(() => ASYNC(op)(inp(`A_${d}`), s), exp) : outcome(() => SYNC(op)(inp(`A_${d}`), s), exp)
        if (f) failures.push(`${d} ${op} ${show(s)}: ${f}`)
      }
    }
  }
  noFailures(t, failures, n, 'scalar comparisons')
  t.deepEqual(array([0.1], { dtype: 'float32' }).equal(0.1).toArray(), [true])
  t.deepEqual(array([1, -5, 100], { dtype: 'int8' }).less(300).toArray(), [true, true, true])
  t.deepEqual(less(0, array([-1, 0, 1])).toArray(), [false, false, true], 'scalar on the left mirrors')
  t.deepEqual(equal(array([1, 2]), 2).toArray(), [false, true])
  t.throws(() => array([1]).less('1' as unknown as number), { instanceOf: TypeError })
})

test('broadcasting, out of another dtype, into a strided view, overlapping out', async (t) => {
  t.is(differs(inp('A_float64').less(inp('R')), E.broadcast[0]!), null)
  t.is(differs(inp('Cc').greaterEqual(inp('A_int32')), E.broadcast[1]!), null)
  t.is(differs(inp('Cc').equal(inp('R')), E.broadcast[2]!), null)
  const o8 = openNpy(path.join(tmp, 'o8.npy'), { mode: 'w+', dtype: 'int8', shape: [4, 5] })
  t.is(inp('A_float64').less(inp('R'), { out: o8 }), o8)
  t.deepEqual(o8.toArray(), inp('A_float64').less(inp('R')).astype('int8').toArray())
  const wide = array(new Uint8Array(40)).astype('bool').reshape(8, 5)
  await inp('A_float64').lessAsync(inp('R'), { out: wide.slice('::2') })
  t.deepEqual(wide.slice('::2').toArray(), inp('A_float64').less(inp('R')).toArray())
  t.deepEqual(wide.slice('1::2').any(), false, 'odd rows untouched')
  const m = array([true, false, true, false])
  m.slice('::-1').notEqual(m, { out: m })
  t.deepEqual(m.toArray(), [true, true, true, true], 'out overlapping an operand in another order')
  t.throws(() => inp('A_float64').less(inp('R'), { out: inp('A_bool') }), { code: 'ERR_MMNPY_READONLY' } as never)
  t.throws(() => inp('A_float64').less(inp('Cc').T), { code: 'ERR_MMNPY_INVALID_ARG', message: /could not be broadcast/ } as never)
})

test('isnan and isfinite: every dtype (integers never NaN, complex by either part)', async (t) => {
  const failures: string[] = []
  for (const d of DTYPES) {
    const f = differs(inp(`A_${d}`).isnan(), E.isnan[d])
    if (f) failures.push(`isnan ${d}: ${f}`)
    const g = differs(await inp(`A_${d}`).isfiniteAsync(), E.isfinite[d])
    if (g) failures.push(`isfinite ${d}: ${g}`)
    const h = differs(isnan(inp(`A_${d}`)), E.isnan[d])
    if (h) failures.push(`isnan() ${d}: ${h}`)
    if (differs(isfinite(inp(`A_${d}`)), E.isfinite[d])) failures.push(`isfinite() ${d}`)
  }
  noFailures(t, failures, DTYPES.length * 4, 'tests')
})

test('any and all: whole, along each axis, of views; NaN is true; every dtype and byte order', async (t) => {
  const failures: string[] = []
  for (const d of DTYPES) {
    for (const name of [`T_${d}`, `Tbe_${d}`]) {
      const a = inp(name)
      for (const which of ['any', 'all'] as const) {
        const exp = E[which][d]
        if (a[which]() !== exp[0]) failures.push(`${name}.${which}()`)
        for (let k = 0; k < 3; k++) {
          const f = differs(k === 1 ? await a[`${which}Async`]({ axis: k }) : a[which]({ axis: k }), exp[k + 1] as Enc)
          if (f) failures.push(`${name}.${which}(axis ${k}): ${f}`)
        }
        const v1 = which === 'any' ? a.slice(2).any() : a.slice(0, 0).all()
        const v2 = which === 'any' ? a.slice('2, :3').any() : await a.slice(':, 1:3, 0').allAsync()
        if (v1 !== exp[4] || v2 !== exp[5]) failures.push(`${name}.${which} of views`)
      }
    }
  }
  noFailures(t, failures, DTYPES.length, 'any/all cases')
  t.is(differs(inp('T_float64').any({ axis: -1 }), E.any.float64[3] as Enc), null, 'negative axis')
  t.throws(() => inp('T_float64').any({ axis: 3 }), { instanceOf: RangeError })
  t.is(array([]).any(), false)
  t.is(array([]).all(), true)
})

test('arrayEqual: across dtypes as NumPy, shapes, equalNan (complex NaN in either part)', async (t) => {
  const failures: string[] = []
  for (const d of DTYPES) {
    DTYPES.forEach((e, i) => {
      if (arrayEqual(inp(`A_${d}`), inp(`A_${e}`)) !== E.array_equal[d][i]) failures.push(`${d} ${e}`)
    })
  }
  noFailures(t, failures, DTYPES.length ** 2, 'arrayEqual pairs')
  const got = [
    arrayEqual(inp('N'), inp('N')), arrayEqual(inp('N'), inp('N'), { equalNan: true }), await arrayEqualAsync(inp('N'), inp('N2'), { equalNan: true }),
    arrayEqual(inp('NC'), inp('NC2'), { equalNan: true }), arrayEqual(inp('NC'), inp('NC2')), arrayEqual(inp('I'), inp('F')), arrayEqual(inp('I'), inp('U')),
    arrayEqual(inp('A_int8'), inp('A_int8').slice(':2')),
  ]
  t.deepEqual(got, E.array_equal_nan)
  t.true(arrayEqual([1, 2, 3], new Float64Array([1, 2, 3])), 'nested arrays and TypedArrays as np.asarray')
  t.false(arrayEqual([1, 2, 3], [[1, 2, 3]]))
})

test("isclose and allclose: NumPy's formula with its dtypes (float16 atol is 0), options, broadcasting", async (t) => {
  const failures: string[] = []
  let n = 0
  for (const [i, a] of DTYPES.entries()) {
    for (const b of DTYPES) {
      n++
      const k = `${a} ${b}`
      const f = differs(i % 2 ? await iscloseAsync(inp(`X_${a}`), inp(`Y_${b}`)) : isclose(inp(`X_${a}`), inp(`Y_${b}`)), E.isclose[k]!)
      if (f) failures.push(`isclose ${k}: ${f}`)
      const g = i % 3 ? allclose(inp(`X_${a}`), inp(`Y_${b}`)) : await allcloseAsync(inp(`X_${a}`), inp(`Y_${b}`))
      if (g !== E.allclose[k]) failures.push(`allclose ${k}: ${g}`)
    }
  }
  noFailures(t, failures, n, 'isclose pairs')
  const o = E.isclose_opts
  t.is(differs(isclose(inp('X_float64'), inp('Y_float64'), { rtol: 1e-7, atol: 0 }), o[0]), null)
  t.is(differs(isclose(inp('X_float64'), inp('Y_float64'), { equalNan: true }), o[1]), null)
  t.is(differs(isclose(inp('X_float16'), inp('Y_float16'), { rtol: 1e-3, atol: 1e-2 }), o[2]), null)
  t.is(differs(isclose(inp('X_complex64'), inp('Y_float32'), { equalNan: true }), o[3]), null)
  t.is(differs(isclose(inp('X_int64'), inp('Y_float64').slice(0)), o[4]), null, 'broadcast row')
  t.is(allclose(inp('X_float64'), inp('Y_float64'), { equalNan: true }), o[5])
  const out = array(new Uint8Array(20)).astype('bool').reshape(4, 5)
  t.is(isclose(inp('X_float64'), inp('Y_float64'), { out }), out)
  t.throws(() => allclose(inp('X_float64'), inp('R').slice(':4')), { code: 'ERR_MMNPY_INVALID_ARG' } as never)
  t.throws(() => allclose(inp('X_float64'), inp('Y_float64'), { rtol: '1' as unknown as number }), { instanceOf: TypeError })
})

test('large arrays (parallel walks, early exit) match NumPy', async (t) => {
  const L = inp('L')
  t.is(shaOf(L.less(0.25)), E.large_less.sha)
  t.is(shaOf(await L.lessAsync(0.25)), E.large_less.sha)
  t.is(shaOf(L.greater(1e7).any({ axis: 0 })), E.large_any0.sha)
  t.is(shaOf(L.equal(L).all({ axis: 1 })), E.large_all1.sha)
  t.is(allclose(L, L.mul(1 + 1e-9)), E.large_close)
  t.true(arrayEqual(L, L.copy()))
  t.false(arrayEqual(L, L.slice('::-1')))
})
