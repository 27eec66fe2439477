// Selection and joining against NumPy, bit for bit: `a[mask]`/`compress`, `take`, `nonzero`,
// `argwhere`, `where`, `concatenate`, `stack`. One python3 process writes the inputs into a blob
// (mapped back with `memmap`: native and big-endian, C order and Fortran-order views through `.T`,
// strided and negative-step views) and computes every expected result; a second one reads back
// the files mmnpy filled.
import test from 'ava'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import { array, concatenate, concatenateAsync, loadNpy, openNpy, stack, stackAsync, where, whereAsync } from '../index'
import type { NdArray } from '../index'
import { DTYPES, blobReader, differs, noFailures, shaOf, tag } from './helpers/expect'
import type { Digest, DT, Enc } from './helpers/expect'
import { py, pyAsync } from './helpers/numpy'

const EXPECT_PY = String.raw`
import os, sys, warnings
sys.path.insert(0, inp['helpers'])
from npcases import *
warnings.simplefilter('ignore')
D = inp['dir']
DT = inp['dtypes']
rng = np.random.default_rng(20261207)
B = Blob()
res = {}

def specials(v):
    v = v.copy()
    if v.dtype.kind in 'fc':
        v.flat[3] = np.nan
        v.flat[4] = -0.0
        v.flat[5] = np.inf
    if v.dtype.kind == 'c':
        v.flat[6] = complex(-0.0, 0.0)
        v.flat[7] = complex(0.0, np.nan)
    v.flat[8:11] = 0
    return v

M = B.put('M', rng.random((4, 6)) < 0.5)
M2 = B.put('M2', rng.random((4, 3)) < 0.5)
M1 = B.put('M1', np.array([True, False, True, True]))
C1 = B.put('C1', np.array([False, True, True, False, False, True]))
MI = B.put('MI', rng.integers(-2, 3, (4, 6)).astype(np.int8))
mf = rng.choice([0.0, -0.0, np.nan, 1e-300, -2.0, 0.0], (4, 6))
MF = B.put('MF', mf)
B.put('MFbe', mf.astype('>f8'))
IDX = [np.array([0, -1, 5, 23, -24]), np.array([[3, -1], [0, 2]]), np.array([2, 0, -3]), np.array([-30, 7, 100])]
for i, x in enumerate(IDX):
    B.put('I%d' % i, x.astype(np.int32 if i % 2 else np.int64))
B.put('I3be', IDX[3].astype('>i2'))
sel = {}
for d in DT:
    a = specials(vals(rng, d, (4, 6)))
    B.put('A_' + d, a)
    B.put('Abe_' + d, a.astype(big(d)))
    B.put('AT_' + d, np.ascontiguousarray(a.T))
    B.put('ATbe_' + d, np.ascontiguousarray(a.T).astype(big(d)))
    sel[d] = {
        'mask': enc(a[M]), 'view': enc(a[::-1, ::2][M2]), 'rows': enc(a[M1]), 'axis1': enc(np.compress(C1, a, axis=1)),
        'intmask': enc(a[MI.astype(bool)]), 'floatmask': enc(a[MF.astype(bool)]),
        'take': enc(a.take(IDX[0])), 'take0': enc(a.take(IDX[1], axis=0)), 'takeview': enc(a[::-1, ::2].take(IDX[2], axis=1)),
        'wrap': enc(a.take(IDX[3], mode='wrap')), 'clip': enc(a.take(IDX[3], axis=1, mode='clip')),
        'nonzero': [enc(x) for x in np.nonzero(a)], 'nonzero_view': [enc(x) for x in np.nonzero(a[::-1, 1::2])],
        'argwhere': enc(np.argwhere(a)), 'argwhere_T': enc(np.argwhere(a.T)),
    }
res['sel'] = sel
W = B.put('W', rng.random((4, 6)) < 0.5)
X = {d: B.put('X_' + d, specials(vals(rng, d, (4, 6)))) for d in DT}
Y = {}
for d in DT:
    Y[d] = B.put('Y_' + d, vals(rng, d, (1, 6)))
    B.put('Ybe_' + d, Y[d].astype(big(d)))
res['where'] = {x + ' ' + y: enc(np.where(W, X[x], Y[y])) for x in DT for y in DT}
S = [dec(s) for s in inp['scalars']]
res['where_scalar'] = {d: [attempt(lambda: np.where(W, X[d], s)) for s in S] for d in DT}
res['where_two'] = [enc(np.where(W, 1, 2.5)), enc(np.where(W, True, 0)), enc(np.where(W, True, False))]
P = {d: B.put('P_' + d, vals(rng, d, (2, 3))) for d in DT}
Q = {d: B.put('Q_' + d, vals(rng, d, (1, 3))) for d in DT}
res['concat'] = {a + ' ' + b: enc(np.concatenate([P[a], Q[b]])) for a in DT for b in DT}
res['concat3'] = [enc(np.concatenate([P['int8'], Q['uint8'], Q['float16']])), enc(np.concatenate([P['int8'], Q['uint16'], P['float16']]))]
res['concat_axis'] = [enc(np.concatenate([X['float32'], X['float32'][:, :2]], axis=1)), enc(np.concatenate([X['int16'].T, X['int16'][::-1].T], axis=-1)),
                      enc(np.concatenate([X['float64'], X['float64']], axis=None)), enc(np.concatenate([X['complex128'][::2]] * 3))]
res['stack'] = [enc(np.stack([X['float32'], Y['float32'].repeat(4, 0), X['float32'][::-1]], axis=k)) for k in range(3)] + [enc(np.stack([X['int8'], X['uint8']], axis=-1))]

# large: a mask over a mapped file, selection with out into a 'w+' file
L = rng.standard_normal(3_000_000)
np.save(os.path.join(D, 'L.npy'), L)
np.save(os.path.join(D, 'Lm.npy'), L > 0.3)
np.save(os.path.join(D, 'L2.npy'), L.reshape(3000, 1000).astype('>f4'))
res['large'] = {'count': int((L > 0.3).sum()), 'sel': digest(L[L > 0.3]), 'nonzero': digest(np.nonzero(L > 0.3)[0]),
                'col': digest(L.reshape(3000, 1000).astype('>f4')[:, ::-3][L.reshape(3000, 1000)[:, ::-3] < -1]),
                'where': digest(np.where(L > 0.3, L, 0.0)), 'take': digest(L.take(np.arange(2_999_999, -1, -7, dtype=np.int32))),
                'argwhere': digest(np.argwhere(L.reshape(3000, 1000) > 2))}
B.write(os.path.join(D, 'blob.bin'))
res['manifest'] = B.manifest
out(res)
`

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmnpy-select-'))
test.after.always(() => fs.rmSync(tmp, { recursive: true, force: true }))

type Sel = Record<'mask' | 'view' | 'rows' | 'axis1' | 'intmask' | 'floatmask' | 'take' | 'take0' | 'takeview' | 'wrap' | 'clip' | 'argwhere' | 'argwhere_T', Enc> & { nonzero: Enc[]; nonzero_view: Enc[] }
const SCALARS: unknown[] = [0, 7, -1, 2.5, -0.5, true, { re: 1, im: -2 }, 2n ** 40n]
const E = py(EXPECT_PY, { dir: tmp, helpers: path.join(__dirname, 'helpers'), dtypes: DTYPES, scalars: SCALARS.map(tag) }) as {
  sel: Record<DT, Sel>
  where: Record<string, Enc>
  where_scalar: Record<DT, Enc[]>
  where_two: Enc[]
  concat: Record<string, Enc>
  concat3: Enc[]
  concat_axis: Enc[]
  stack: Enc[]
  large: { count: number; sel: Digest; nonzero: Digest; col: Digest; where: Digest; take: Digest; argwhere: Digest }
  manifest: Record<string, [number, string, number[]]>
}
const inp = blobReader(path.join(tmp, 'blob.bin'), E.manifest)

/** The four layouts of one (4, 6) array: native and big-endian, C order and a Fortran-order view. */
function layouts(d: DT): [string, NdArray][] {
  return [['C', inp(`A_${d}`)], ['C >', inp(`Abe_${d}`)], ['F', inp(`AT_${d}`).T], ['F >', inp(`ATbe_${d}`).T]]
}

/** Collects differences from NumPy's results. */
function checker() {
  const failures: string[] = []
  let n = 0
  const check = (what: string, got: NdArray, exp: Enc) => {
    n++
    const f = differs(got, exp)
    if (f) failures.push(`${what}: ${f}`)
  }
  return { failures, check, count: () => n }
}

test('a[mask] and compress over every dtype x byte order x order x view, like NumPy (any mask dtype: NaN true, -0.0 false)', async (t) => {
  const { failures, check, count } = checker()
  for (const d of DTYPES) {
    const e = E.sel[d]
    for (const [k, a] of layouts(d)) {
      check(`${d} ${k} a[M]`, a.compress(inp('M')), e.mask)
      check(`${d} ${k} a[::-1, ::2][M2]`, k === 'F' ? await a.slice('::-1, ::2').compressAsync(inp('M2')) : a.slice('::-1, ::2').compress(inp('M2')), e.view)
      check(`${d} ${k} a[M1] (rows)`, a.compress(inp('M1')), e.rows)
      check(`${d} ${k} compress(C1, axis=1)`, k === 'C >' ? await a.compressAsync(inp('C1'), { axis: 1 }) : a.compress(inp('C1'), { axis: -1 }), e.axis1)
      check(`${d} ${k} int8 mask`, a.compress(inp('MI')), e.intmask)
      check(`${d} ${k} float mask`, a.compress(inp(k.includes('>') ? 'MFbe' : 'MF')), e.floatmask)
      if (k === 'C >' && a.itemsize > 1 && a.compress(inp('M')).byteOrder !== '>') failures.push(`${d}: a[mask] keeps the byte order in NumPy`)
    }
  }
  noFailures(t, failures, count(), 'selections')
  t.deepEqual(array([1, 2, 3]).compress([true, false, true]).toArray(), [1n, 3n], 'nested-array mask')
  t.throws(() => inp('A_float64').compress(inp('M1').slice(':3')), { code: 'ERR_MMNPY_INVALID_ARG', message: /boolean index did not match indexed array along axis 0; size of axis is 4 but size of corresponding boolean axis is 3/ } as never)
  t.throws(() => inp('A_float64').compress(inp('C1').reshape(1, 6), { axis: 0 }), { code: 'ERR_MMNPY_INVALID_ARG', message: /1-d/ } as never)
  t.throws(() => inp('A_float64').compress([true, true, true, true, true], { axis: 0 }), { instanceOf: RangeError, message: /index 4 is out of bounds for axis 0 with size 4/ })
  t.deepEqual(array([1, 2, 3]).compress([false, true, false, false], { axis: 0 }).toArray(), [2n], 'a longer mask with false beyond the axis, as NumPy')
  t.deepEqual(array(5).compress(true).shape, [1], '0-d mask on a 0-d array: NumPy adds an axis')
})

test('take: flattened, along an axis, negative indices, wrap and clip, 2-D indices, every dtype and layout', async (t) => {
  const { failures, check, count } = checker()
  for (const d of DTYPES) {
    const e = E.sel[d]
    for (const [k, a] of layouts(d)) {
      check(`${d} ${k} take`, a.take(inp('I0')), e.take)
      check(`${d} ${k} take axis 0`, k === 'F' ? await a.takeAsync(inp('I1'), { axis: 0 }) : a.take(inp('I1'), { axis: 0 }), e.take0)
      check(`${d} ${k} view take axis 1`, a.slice('::-1, ::2').take(inp('I2'), { axis: 1 }), e.takeview)
      check(`${d} ${k} wrap`, a.take(inp(k === 'C' ? 'I3' : 'I3be'), { mode: 'wrap' }), e.wrap)
      check(`${d} ${k} clip`, a.take(inp('I3'), { axis: -1, mode: 'clip' }), e.clip)
    }
  }
  noFailures(t, failures, count(), 'takes')
  const a = inp('A_float64')
  t.is(a.take(-1).ndim, 0, 'one index: a 0-d result')
  t.is(a.take(7).get(), a.get(1, 1))
  t.throws(() => a.take([0, 24]), { instanceOf: RangeError, code: 'ERR_MMNPY_OUT_OF_RANGE', message: 'index 24 is out of bounds for axis 0 with size 24' } as never)
  await t.throwsAsync(a.takeAsync([-5], { axis: 0 }), { instanceOf: RangeError, message: /index -5 is out of bounds for axis 0 with size 4/ })
  t.throws(() => a.take([1.5]), { instanceOf: TypeError, message: /Cannot cast array data from dtype\('float64'\) to dtype\('int64'\)/ })
  t.throws(() => a.take([0], { mode: 'nearest' as never }), { code: 'ERR_MMNPY_INVALID_ARG' } as never)
  t.throws(() => array([]).take([0], { mode: 'wrap' }), { instanceOf: RangeError, message: /non-empty take from an empty axes/ })
  t.is(array([]).take([], { mode: 'wrap' }).size, 0)
  const out = openNpy(path.join(tmp, 'take-out.npy'), { mode: 'w+', dtype: 'int8', shape: [2, 2, 6] })
  t.is(a.take(inp('I1'), { axis: 0, out }), out)
  t.throws(() => a.take(inp('I1'), { out }), { code: 'ERR_MMNPY_INVALID_ARG', message: /out has shape/ } as never)
})

test('nonzero and argwhere: every dtype and layout (NaN counts, -0.0 does not), views, 0-d', async (t) => {
  const failures: string[] = []
  let n = 0
  for (const d of DTYPES) {
    const e = E.sel[d]
    for (const [k, a] of layouts(d)) {
      n++
      const nz = k === 'C >' ? await a.nonzeroAsync() : a.nonzero()
      nz.forEach((x, i) => {
        const f = differs(x, e.nonzero[i]!)
        if (f) failures.push(`${d} ${k} nonzero[${i}]: ${f}`)
      })
      const v = a.slice('::-1, 1::2').nonzero()
      v.forEach((x, i) => {
        const f = differs(x, e.nonzero_view[i]!)
        if (f) failures.push(`${d} ${k} view nonzero[${i}]: ${f}`)
      })
      const f = differs(k === 'F' ? await a.argwhereAsync() : a.argwhere(), e.argwhere)
      if (f) failures.push(`${d} ${k} argwhere: ${f}`)
      const g = differs(a.T.argwhere(), e.argwhere_T)
      if (g) failures.push(`${d} ${k} argwhere of .T: ${g}`)
    }
  }
  noFailures(t, failures, n, 'index lists')
  t.throws(() => array(3).nonzero(), { code: 'ERR_MMNPY_INVALID_ARG', message: /nonzero on 0d arrays/ } as never)
  t.deepEqual(array(3).argwhere().shape, [1, 0])
  t.deepEqual(where(array([0, 2, 0, 3]))[0]!.toArray(), [1n, 3n], 'where(cond) is nonzero(cond)')
  t.deepEqual((await whereAsync([[true, false], [false, true]]))[1]!.toArray(), [0n, 1n])
})

test("where(cond, x, y): all 14x14 dtype pairs broadcast (NumPy's result type), big-endian operands, scalars by NumPy 2's weak rules", async (t) => {
  const failures: string[] = []
  let n = 0
  for (const [i, x] of DTYPES.entries()) {
    for (const y of DTYPES) {
      n++
      const exp = E.where[`${x} ${y}`]!
      const f = differs(where(inp('W'), inp(`X_${x}`), inp(`Y_${y}`)), exp)
      if (f) failures.push(`${x} ${y}: ${f}`)
      const g = differs(i % 3 ? where(inp('W'), inp(`X_${x}`), inp(`Ybe_${y}`)) : await whereAsync(inp('W'), inp(`X_${x}`), inp(`Ybe_${y}`)), exp)
      if (g) failures.push(`${x} '>' ${y}: ${g}`)
    }
    SCALARS.forEach((s, k) => {
      const exp = E.where_scalar[x][k]!
      if ('error' in exp) return
      n++
      let got: NdArray
      try {
        got = where(inp('W'), inp(`X_${x}`), s as never)
      } catch (e) {
        // NumPy wraps an integer that does not fit an integer array's dtype (int8 with 2**40); mmnpy refuses.
        if (!(e instanceof RangeError && /^u?int/.test(x) && (typeof s === 'bigint' || Number.isInteger(s)))) failures.push(`${x} with scalar ${String(s)}: threw ${String(e)}`)
        return
      }
      const f = differs(got, exp)
      if (f) failures.push(`${x} with scalar ${String(s)}: ${f}`)
    })
  }
  noFailures(t, failures, n, 'where cases')
  t.is(differs(where(inp('W'), 1, 2.5), E.where_two[0]!), null)
  t.is(differs(where(inp('W'), true, 0), E.where_two[1]!), null)
  t.is(differs(where(inp('W'), true, false), E.where_two[2]!), null)
  t.throws(() => where(inp('W'), inp('X_int8'), 300), { instanceOf: RangeError }, 'NumPy wraps 300 into int8; mmnpy refuses')
  // into out, in place, and out overlapping an operand in another order
  const o = array(new Float64Array(24)).reshape(4, 6)
  t.is(where(inp('W'), inp('X_float64'), 0, { out: o }), o)
  const m = array([1, 2, 3, 4])
  where([true, false, true, false], m.slice('::-1'), m, { out: m })
  t.deepEqual(m.toArray(), [4n, 2n, 2n, 4n])
  t.throws(() => (where as (...a: unknown[]) => unknown)(inp('W'), inp('X_int8')), { code: 'ERR_MMNPY_INVALID_ARG' } as never)
  t.throws(() => where(inp('W'), inp('X_int8'), inp('Y_int8').T), { code: 'ERR_MMNPY_INVALID_ARG', message: /could not be broadcast/ } as never)
})

test("concatenate and stack: NumPy's result_type over all dtype pairs and non-associative triples, axes, views, errors", async (t) => {
  const failures: string[] = []
  let n = 0
  for (const [i, a] of DTYPES.entries()) {
    for (const b of DTYPES) {
      n++
      const got = i % 4 ? concatenate([inp(`P_${a}`), inp(`Q_${b}`)]) : await concatenateAsync([inp(`P_${a}`), inp(`Q_${b}`)], { axis: -2 })
      const f = differs(got, E.concat[`${a} ${b}`]!)
      if (f) failures.push(`${a} ${b}: ${f}`)
    }
  }
  noFailures(t, failures, n, 'concatenations')
  t.is(differs(concatenate([inp('P_int8'), inp('Q_uint8'), inp('Q_float16')]), E.concat3[0]!), null, 'int8, uint8, float16 -> float16')
  t.is(differs(concatenate([inp('P_int8'), inp('Q_uint16'), inp('P_float16')]), E.concat3[1]!), null, 'int8, uint16, float16 -> float32')
  const X = (d: string) => inp(`X_${d}`)
  t.is(differs(concatenate([X('float32'), X('float32').slice(':, :2')], { axis: 1 }), E.concat_axis[0]!), null)
  t.is(differs(concatenate([X('int16').T, X('int16').slice('::-1').T], { axis: -1 }), E.concat_axis[1]!), null)
  t.true(concatenate([X('int16').T, X('int16').T], { axis: -1 }).flags.fContiguous, 'Fortran-order inputs give a Fortran-order result, as NumPy')
  t.is(differs(concatenate([X('float64'), X('float64')], { axis: null }), E.concat_axis[2]!), null)
  t.is(differs(concatenate([X('complex128').slice('::2'), X('complex128').slice('::2'), X('complex128').slice('::2')]), E.concat_axis[3]!), null)
  const third = inp('Y_float32').slice([0, 1]).copy()
  const rep = concatenate([third, third, third, third])
  for (let k = 0; k < 3; k++) t.is(differs(stack([X('float32'), rep, X('float32').slice('::-1')], { axis: k }), E.stack[k]!), null, `stack axis ${k}`)
  t.is(differs(await stackAsync([X('int8'), X('uint8')], { axis: -1 }), E.stack[3]!), null)
  const inv = { code: 'ERR_MMNPY_INVALID_ARG' } as never
  t.throws(() => concatenate([inp('P_int8'), inp('Q_int8').T]), { ...(inv as object), message: /along dimension 1, the array at index 0 has size 3 and the array at index 1 has size 1/ } as never)
  t.throws(() => concatenate([inp('P_int8'), inp('Q_int8').slice(0)]), { message: /same number of dimensions, but the array at index 0 has 2 dimension\(s\) and the array at index 1 has 1/ })
  t.throws(() => concatenate([]), { message: /need at least one array/ })
  t.throws(() => concatenate([array(1), array(2)]), { message: /zero-dimensional arrays cannot be concatenated/ })
  t.throws(() => concatenate([inp('P_int8')], { axis: 2 }), { instanceOf: RangeError, message: /axis 2 is out of bounds for array of dimension 2/ })
  t.throws(() => stack([inp('P_int8'), inp('Q_int8')]), { message: /all input arrays must have the same shape/ })
  t.throws(() => concatenate([inp('P_float64')], { out: array(new Int32Array(6)).reshape(2, 3) }), { instanceOf: TypeError, message: /according to the rule 'same_kind'/ })
  t.throws(() => concatenate([inp('P_float64')], { out: array(new Float64Array(4)).reshape(2, 2) }), { code: 'ERR_MMNPY_INVALID_ARG' } as never)
})

test("many files join into one 'w+' file (concatenate and stack with out, streaming); NumPy reads them back", async (t) => {
  const dir = path.join(tmp, 'join')
  fs.mkdirSync(dir)
  await pyAsync(`
import os
rng = np.random.default_rng(5)
for i, (dt, n) in enumerate([('<f4', 700), ('>i2', 1), ('<f8', 2300), ('|u1', 40)]):
    np.save(os.path.join(inp, 'part%d.npy' % i), (rng.standard_normal((n, 8)) * 100).astype(dt))
`, dir)
  const parts = [0, 1, 2, 3].map((i) => loadNpy(path.join(dir, `part${i}.npy`), { mmapMode: 'r' }))
  const total = parts.reduce((s, p) => s + p.shape[0]!, 0)
  const out = openNpy(path.join(dir, 'all.npy'), { mode: 'w+', dtype: 'float64', shape: [total, 8] })
  t.is(concatenate(parts, { out, release: true }), out)
  out.close()
  const cols = openNpy(path.join(dir, 'cols.npy'), { mode: 'w+', dtype: '>f8', shape: [700, 8, 2] })
  await stackAsync([parts[0]!, parts[2]!.slice([0, 700])], { axis: 2, out: cols })
  cols.close()
  const ok = await pyAsync(`
import os
p = [np.load(os.path.join(inp, 'part%d.npy' % i)) for i in range(4)]
a = np.load(os.path.join(inp, 'all.npy'))
c = np.load(os.path.join(inp, 'cols.npy'))
out([bool(np.array_equal(a, np.concatenate(p).astype('<f8'))), a.dtype.str, bool(np.array_equal(c, np.stack([p[0], p[2][:700]], axis=2))), c.dtype.str])
`, dir)
  t.deepEqual(ok, [true, '<f8', true, '>f8'])
  for (const p of parts) p.close()
})

test('a mask over a mapped file against a[a > t]: in memory, into a w+ file with release, from a mapped bool file; large take, where, nonzero', async (t) => {
  const L = loadNpy(path.join(tmp, 'L.npy'), { mmapMode: 'r' })
  const e = E.large
  t.is(shaOf(L.compress(L.greater(0.3))), e.sel.sha)
  t.is(shaOf(await L.compressAsync(L.greater(0.3))), e.sel.sha)
  const mask = loadNpy(path.join(tmp, 'Lm.npy'), { mmapMode: 'r' })
  const outFile = path.join(tmp, 'sel.npy')
  const out = openNpy(outFile, { mode: 'w+', dtype: 'float64', shape: [e.count] })
  t.is(L.compress(mask, { out, release: true }), out)
  out.close()
  const back = await pyAsync(`import hashlib\nout(hashlib.sha256(np.load(inp).tobytes()).hexdigest())`, outFile)
  t.is(back, e.sel.sha, 'NumPy reads the selection mmnpy wrote')
  const wrong = openNpy(path.join(tmp, 'wrong.npy'), { mode: 'w+', dtype: 'float64', shape: [e.count - 1] })
  t.throws(() => L.compress(mask, { out: wrong }), { code: 'ERR_MMNPY_INVALID_ARG', message: new RegExp(`out has shape \\(${e.count - 1},\\), the result \\(${e.count},\\)`) } as never)
  t.is(shaOf(mask.nonzero()[0]!), e.nonzero.sha)
  const L2 = loadNpy(path.join(tmp, 'L2.npy'), { mmapMode: 'r' })
  const v = L2.slice(null, [null, null, -3])
  t.is(shaOf(v.compress(v.less(-1))), e.col.sha, 'big-endian float32 strided negative-step view')
  t.is(shaOf(await whereAsync(L.greater(0.3), L, 0)), e.where.sha)
  t.is(shaOf(L.take(array(new Int32Array(Array.from({ length: Math.ceil(3_000_000 / 7) }, (_, i) => 2_999_999 - 7 * i))))), e.take.sha)
  t.is(shaOf(L.reshape(3000, 1000).greater(2).argwhere()), e.argwhere.sha)
  for (const a of [L, mask, L2, wrong]) a.close()
})

const linux = process.platform === 'linux'
;(linux ? test : test.skip)("streaming: a mask over a 384 MiB mapped file selects into a 'w+' file with a bounded peak RSS (without release: the files resident)", (t) => {
  const out = execFileSync(process.execPath, [path.join(__dirname, 'helpers', 'select-stream-child.js'), tmp], { encoding: 'utf8', maxBuffer: 16 * 2 ** 20 })
  const line = out.split('\n').find((l) => l.startsWith('MMNPY-SELECT-STREAM '))
  t.truthy(line, out)
  const { threads, cases: r } = JSON.parse(line!.slice('MMNPY-SELECT-STREAM '.length)) as { threads: number; cases: Record<'kept' | 'released', { sum: number; peak: number; count: number }> }
  const MiB = 2 ** 20
  // Three views (mask, array, out), each with a window of 8 MiB per thread in flight and one released behind.
  const budget = 48 * MiB * (threads + 1)
  t.true(r.kept.peak > 384 * MiB, `without release the peak grows by ${(r.kept.peak / MiB).toFixed(0)} MiB`)
  t.true(r.released.peak < budget, `with release the peak grows by ${(r.released.peak / MiB).toFixed(0)} MiB (budget ${budget / MiB})`)
  t.is(r.released.sum, r.kept.sum, 'every selected value written')
  t.true(r.kept.count > 0)
})
