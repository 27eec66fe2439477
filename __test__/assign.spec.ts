// `assign`: NumPy's setitem (`dst[...] = src`) with NumPy as the reference, bit for bit.
//
// ONE python3 process (EXPECT_PY) writes every input into a blob (mapped back here with
// `memmap`, in both byte orders) and computes every expected destination, whole, so that
// elements outside the assigned view are checked to be untouched too. A second python3
// process reads the files mmnpy filled (the seeds' `fp[:, i] = n` patterns).
import test from 'ava'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import { array, loadNpy, memmap, openNpy } from '../index'
import type { NdArray } from '../index'
import { DTYPES, blobReader, differs, hexOf, noFailures, sameError, shaOf, show, tag } from './helpers/expect'
import type { Digest, DT, Enc } from './helpers/expect'
import { py, pyAsync, sha256 } from './helpers/numpy'

const EXPECT_PY = String.raw`
import os, sys, warnings
sys.path.insert(0, inp['helpers'])
from npcases import *
warnings.simplefilter('ignore')
D = inp['dir']
DT = inp['dtypes']
rng = np.random.default_rng(20261205)
B = Blob()
res = {}

# --- every dtype pair: a contiguous assignment, and a transposed big-endian source into a
# negative-step view of a big-endian destination
pairs = {}
for s in DT:
    for d in DT:
        src = cast_src(rng, s, d, 24).reshape(4, 6)
        B.put('S_%s_%s' % (s, d), src)
        B.put('SFbe_%s_%s' % (s, d), src.T.astype(big(s)))
        z = np.zeros((4, 6), d)
        z[...] = src
        x = B.put('D_%s_%s' % (s, d), vals(rng, d, (8, 12)))
        B.put('Dbe_%s_%s' % (s, d), x.astype(big(d)))
        x = x.copy()
        x[7::-2, 11::-2] = src
        pairs[s + ' ' + d] = [enc(z), enc(x)]
res['pairs'] = pairs

# --- scalars (Python ints and floats, bools, complex) into a slice of every dtype
S = [dec(v) for v in inp['scalars']]
def put_scalar(d, v):
    z = np.zeros(5, d)
    z[1:4] = v
    return z
res['scalars'] = {d: [attempt(lambda: put_scalar(d, v)) for v in S] for d in DT}

# --- nested lists: each element converted into the destination dtype
def put_list(d, v):
    z = np.zeros((2, 3), d)
    z[...] = v
    return z
res['lists'] = [attempt(lambda: put_list(c['dtype'], dec(c['value']))) for c in inp['lists']]
T32 = np.array(inp['typed'], dtype=np.float32)
z = np.zeros((2, 4), np.int16); z[...] = T32.reshape(2, 4); res['typed'] = enc(z)

# --- broadcasting
R = B.put('R', vals(rng, 'int32', (6,)))
Cc = B.put('Cc', vals(rng, 'float32', (4, 1)))
Z = B.put('Z', np.array(-7, dtype=np.int64))
U = B.put('U', vals(rng, 'uint8', (1, 1, 6)))
bc = {}
for k, v in {'R': R, 'Cc': Cc, 'Z': Z, 'U': U}.items():
    z = np.zeros((4, 6)); z[...] = v; bc[k] = enc(z)
res['broadcast'] = bc
res['bad_broadcast'] = [attempt(lambda: np.zeros((4, 6)).__setitem__(Ellipsis, np.zeros(4))), attempt(lambda: np.zeros((4, 6)).__setitem__(Ellipsis, np.zeros((2, 2, 6))))]

# --- overlap: source and destination share memory
V = B.put('V', vals(rng, 'float64', (50,)))
M = B.put('M', vals(rng, 'int32', (6, 6)))
ov = {}
v = V.copy(); v[1:] = v[:-1]; ov['v[1:] = v[:-1]'] = enc(v)
v = V.copy(); v[:-1] = v[1:]; ov['v[:-1] = v[1:]'] = enc(v)
v = V.copy(); v[:] = v[::-1]; ov['v[:] = v[::-1]'] = enc(v)
v = V.copy(); v[::2] = v[1::2]; ov['v[::2] = v[1::2]'] = enc(v)
v = V.copy(); v[...] = v; ov['v[...] = v'] = enc(v)
m = M.copy(); m[...] = m.T; ov['m[...] = m.T'] = enc(m)
m = M.copy(); m[:, ::-1] = m; ov['m[:, ::-1] = m'] = enc(m)
m = M.copy(); m[1:] = m[0:1]; ov['m[1:] = m[0:1]'] = enc(m)
m = M.copy(); m[::-2, :3] = m[:3, 3:]; ov['m[::-2, :3] = m[:3, 3:]'] = enc(m)
m = M.copy(); m[:, 0] = m[0, :]; ov['m[:, 0] = m[0, :]'] = enc(m)
res['overlap'] = ov

# --- the seeds' patterns: a memmap filled column by column, row by row
N = [B.put('N%d' % i, vals(rng, dt, (300,)) if dt != 'float64' else rng.uniform(-1e6, 1e6, 300)) for i, dt in enumerate(['int64', 'float64', 'int16', 'float32', 'uint8', 'bool', 'float64', 'int32'])]
fp = np.zeros((300, 8), np.float32)
for i, n in enumerate(N):
    fp[:, i] = n
res['columns'] = enc(fp)
Trow = [B.put('T%d' % i, rng.uniform(-1e4, 1e4, 50)) for i in range(20)]
a = np.zeros((20, 50), '>i4')
for i in range(20):
    if i % 3 == 0:
        a[i, :] = i
    else:
        a[i, :] = Trow[i]
res['rows'] = enc(a)
raw = np.zeros((100, 7), '>f8')
for i in range(7):
    raw[:, i] = N[i][:100]
res['raw_columns'] = enc(raw)

# --- large (parallel, long rows, conversions) and streaming
L = B.put('L', vals(rng, 'float32', (3000, 700)))
t = np.zeros((700, 3000)); t.T[...] = L; res['large_T'] = digest(t)
Li = B.put('Li', vals(rng, 'int16', (600000,)))
h = np.zeros(600000, '>f2'); h[::-1] = Li; res['large_rev'] = digest(h)
res['large_copy'] = digest(L)

B.write(os.path.join(D, 'blob.bin'))
np.save(os.path.join(D, 'ro.npy'), M)
np.save(os.path.join(D, 'cow.npy'), M)
res['manifest'] = B.manifest
out(res)
`

const HELPERS = path.join(__dirname, 'helpers')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmnpy-assign-'))
test.after.always(() => fs.rmSync(tmp, { recursive: true, force: true }))

/** Scalars: Python ints (integral numbers, bigints), floats, bools, complex. */
const SCALARS: unknown[] = [0, 7, -1, 300, 2n ** 40n, 2n ** 63n, 2n ** 64n - 1n, 2.9, -2.9, -0.9, -0, 0.1, 1e20, NaN, Infinity, -Infinity, true, false, 65520, 1 + 2 ** -11 + 2 ** -40, { re: 1.5, im: -2 }]
const LISTS: { dtype: DT; value: unknown[] }[] = [
  { dtype: 'int8', value: [[1.5, -2.7, true], [0, 127, -128]] },
  { dtype: 'uint8', value: [[0.9, 255, 3], [1, 2, 3]] },
  { dtype: 'uint8', value: [[-1, 0, 0], [0, 0, 0]] },
  { dtype: 'int8', value: [[300, 0, 0], [0, 0, 0]] },
  { dtype: 'int64', value: [[2n ** 62n, -3.99, 1e15], [NaN, 0, 0]] },
  { dtype: 'float16', value: [[0.1, 65520, 2n ** 40n], [true, -0, 1e-8]] },
  { dtype: 'bool', value: [[0, 0.5, NaN], [2n, false, -1]] },
  { dtype: 'complex64', value: [[{ re: 1.5, im: -2 }, 3, 0.1], [true, 2n ** 70n, -0]] },
  { dtype: 'float64', value: [1, 2.5, 3] },
  { dtype: 'float64', value: [[1], [2]] },
  { dtype: 'float32', value: [[{ re: 1, im: 1 }, 0, 0], [0, 0, 0]] },
]
const TYPED = [1.5, -2.5, 32767.9, -32768.9, 0.1, -0.1, 1000.5, 7]

const E = py(EXPECT_PY, {
  dir: tmp,
  helpers: HELPERS,
  dtypes: DTYPES,
  scalars: SCALARS.map(tag),
  lists: LISTS.map((c) => ({ dtype: c.dtype, value: tag(c.value) })),
  typed: TYPED,
}) as {
  pairs: Record<string, [Enc, Enc]>
  scalars: Record<DT, Enc[]>
  lists: Enc[]
  typed: Enc
  broadcast: Record<string, Enc>
  bad_broadcast: Enc[]
  overlap: Record<string, Enc>
  columns: Enc
  rows: Enc
  raw_columns: Enc
  large_T: Digest
  large_rev: Digest
  large_copy: Digest
  manifest: Record<string, [number, string, number[]]>
}
const BLOB = path.join(tmp, 'blob.bin')

/** An input written by NumPy, mapped read-only from the blob. */
const inp = blobReader(BLOB, E.manifest)

let files = 0
function file(name = 'f'): string {
  return path.join(tmp, `${name}${files++}.npy`)
}

// ----------------------------------------------------------------------------- dtype pairs
test('every dtype pair: dst[...] = src equals NumPy (unsafe cast, float into int truncates)', (t) => {
  const failures: string[] = []
  let n = 0
  for (const s of DTYPES) {
    for (const d of DTYPES) {
      const [plain] = E.pairs[`${s} ${d}`]!
      n++
      const z = array(new Float64Array(24)).astype(d).reshape(4, 6)
      const f = differs(z.assign(inp(`S_${s}_${d}`)), plain)
      if (f) failures.push(`${s} -> ${d}: ${f}`)
    }
  }
  noFailures(t, failures, n, 'pairs')
})

test('every dtype pair: a transposed big-endian source into a negative-step view of a big-endian file, rest untouched', async (t) => {
  const failures: string[] = []
  let n = 0
  for (const s of DTYPES) {
    for (const [k, d] of DTYPES.entries()) {
      const [, view] = E.pairs[`${s} ${d}`]!
      n++
      const dst = inp(`Dbe_${s}_${d}`).copy()
      const src = inp(`SFbe_${s}_${d}`).T
      const v = dst.slice('7::-2, 11::-2')
      if (k % 2) await v.assignAsync(src)
      else t.is(v.assign(src), v)
      const f = differs(dst, view)
      if (f) failures.push(`${s} -> ${d}: ${f}`)
    }
  }
  noFailures(t, failures, n, 'pairs')
})

// ----------------------------------------------------------------------------- scalars, lists, TypedArrays
test('scalars convert as Python scalars in setitem: truncation, OverflowError as RangeError, NaN and complex refused', async (t) => {
  const failures: string[] = []
  let n = 0
  for (const d of DTYPES) {
    for (const [i, v] of SCALARS.entries()) {
      n++
      const exp = E.scalars[d][i]!
      const z = array([0, 0, 0, 0, 0], { dtype: d })
      try {
        if (i % 2) await z.slice('1:4').assignAsync(v as number)
        else z.slice('1:4').assign(v as number)
      } catch (e) {
        const f = 'error' in exp ? sameError(e, exp) : `threw ${(e as Error).message}`
        if (f) failures.push(`${d} <- ${show(v)}: ${f}`)
        if (hexOf(z) !== '00'.repeat(5 * z.itemsize)) failures.push(`${d} <- ${show(v)}: refused but written`)
        continue
      }
      const f = differs(z, exp)
      if (f) failures.push(`${d} <- ${show(v)}: ${f}`)
    }
  }
  noFailures(t, failures, n, 'scalar assignments')
  // The headline cases, spelled out.
  t.deepEqual(array([0, 0, 0], { dtype: 'int32' }).assign(2.9).toArray(), [2, 2, 2])
  t.deepEqual(array([0, 0, 0], { dtype: 'int32' }).assign(-2.9).toArray(), [-2, -2, -2])
  t.throws(() => array([0], { dtype: 'uint8' }).assign(-1), { instanceOf: RangeError, message: /-1 is out of bounds for uint8/ })
  t.throws(() => array([0], { dtype: 'int16' }).assign(NaN), { code: 'ERR_MMNPY_INVALID_ARG', message: /NaN/ } as never)
  t.throws(() => array([0], { dtype: 'float32' }).assign({ re: 1, im: 1 }), { instanceOf: TypeError })
  t.throws(() => array([0]).assign('1' as unknown as number), { instanceOf: TypeError })
  t.throws(() => array([0]).assign(null as unknown as number), { instanceOf: TypeError })
})

test('nested arrays convert element by element into the destination dtype; TypedArrays assign as arrays of their type', (t) => {
  const failures: string[] = []
  LISTS.forEach((c, i) => {
    const exp = E.lists[i]!
    const z = array([[0, 0, 0], [0, 0, 0]], { dtype: c.dtype })
    try {
      z.assign(c.value as never)
    } catch (e) {
      const f = 'error' in exp ? sameError(e, exp) : `threw ${(e as Error).message}`
      if (f) failures.push(`${c.dtype} <- ${show(c.value)}: ${f}`)
      return
    }
    const f = differs(z, exp)
    if (f) failures.push(`${c.dtype} <- ${show(c.value)}: ${f}`)
  })
  noFailures(t, failures, LISTS.length, 'lists')
  const w = array(new Int16Array(8)).reshape(2, 4)
  w.assign(array(Float32Array.from(TYPED)).reshape(2, 4))
  t.is(differs(w, E.typed), null, 'float32 array into int16')
  const u = array(new Int16Array(8)).reshape(2, 4)
  u.slice(0).assign(Float32Array.from(TYPED.slice(0, 4)))
  u.slice(1).assign(Float32Array.from(TYPED.slice(4)))
  t.is(differs(u, E.typed), null, 'Float32Array rows into int16')
})

// ----------------------------------------------------------------------------- broadcasting
test("broadcasting: a row, a column, a 0-d array, leading length-1 axes; NumPy's error otherwise", (t) => {
  for (const k of ['R', 'Cc', 'Z', 'U']) {
    const z = array(new Float64Array(24)).reshape(4, 6)
    t.is(differs(z.assign(inp(k)), E.broadcast[k]!), null, k)
  }
  const bad: [unknown, Enc][] = [[array(new Float64Array(4)), E.bad_broadcast[0]!], [array(new Float64Array(24)).reshape(2, 2, 6), E.bad_broadcast[1]!]]
  for (const [src, exp] of bad) {
    const z = array(new Float64Array(24)).reshape(4, 6)
    const e = t.throws(() => z.assign(src as NdArray), { code: 'ERR_MMNPY_INVALID_ARG' } as never) as Error
    t.true('error' in exp && exp.msg === e.message, `mmnpy: ${e.message}\nNumPy: ${'error' in exp ? exp.msg : ''}`)
  }
})

// ----------------------------------------------------------------------------- overlap
test('overlapping source and destination: shifted, reversed, transposed, broadcast row, column from row', async (t) => {
  const V = () => inp('V').copy()
  const M = () => inp('M').copy()
  const cases: Record<string, () => NdArray> = {
    'v[1:] = v[:-1]': () => { const v = V(); v.slice('1:').assign(v.slice(':-1')); return v },
    'v[:-1] = v[1:]': () => { const v = V(); v.slice(':-1').assign(v.slice('1:')); return v },
    'v[:] = v[::-1]': () => { const v = V(); v.assign(v.slice('::-1')); return v },
    'v[::2] = v[1::2]': () => { const v = V(); v.slice('::2').assign(v.slice('1::2')); return v },
    'v[...] = v': () => { const v = V(); v.assign(v); return v },
    'm[...] = m.T': () => { const m = M(); m.assign(m.T); return m },
    'm[:, ::-1] = m': () => { const m = M(); m.slice(':, ::-1').assign(m); return m },
    'm[1:] = m[0:1]': () => { const m = M(); m.slice('1:').assign(m.slice('0:1')); return m },
    'm[::-2, :3] = m[:3, 3:]': () => { const m = M(); m.slice('::-2, :3').assign(m.slice(':3, 3:')); return m },
    'm[:, 0] = m[0, :]': () => { const m = M(); m.slice(null, 0).assign(m.slice(0)); return m },
  }
  const failures: string[] = []
  for (const [k, f] of Object.entries(cases)) {
    const d = differs(f(), E.overlap[k]!)
    if (d) failures.push(`${k}: ${d}`)
  }
  noFailures(t, failures, Object.keys(cases).length, 'overlap cases')
  const m = M()
  await m.assignAsync(m.T)
  t.is(differs(m, E.overlap['m[...] = m.T']!), null, 'async')
})

// ----------------------------------------------------------------------------- the seeds' patterns
test("fp[:, i] = n and a[i, :] = t into 'w+' files, column by column and row by row; NumPy reads them back", async (t) => {
  // np.lib.format.open_memmap(mode='w+'), float32, filled one column at a time from arrays of other dtypes
  const p1 = file('columns')
  const fp = openNpy(p1, { mode: 'w+', dtype: 'float32', shape: [300, 8] })
  for (let i = 0; i < 8; i++) fp.slice(null, i).assign(inp(`N${i}`))
  t.is(differs(fp, E.columns), null)
  fp.flush()
  fp.close()
  // big-endian int32, row by row: float rows truncate, scalar rows are the row number
  const p2 = file('rows')
  const a = openNpy(p2, { mode: 'w+', dtype: '>i4', shape: [20, 50] })
  for (let i = 0; i < 20; i++) {
    if (i % 3 === 0) a.slice(i).assign(i)
    else await a.slice(i).assignAsync(inp(`T${i}`))
  }
  t.is(differs(a, E.rows), null)
  a.close()
  // np.memmap(mode='w+') of a raw file, big-endian float64 columns
  const p3 = path.join(tmp, 'raw.bin')
  const r = memmap(p3, { dtype: '>f8', mode: 'w+', shape: [100, 7] })
  for (let i = 0; i < 7; i++) r.slice(null, i).assign(inp(`N${i}`).slice(':100'))
  r.close()
  const seen = (await pyAsync(String.raw`
import sys
sys.path.insert(0, inp['helpers'])
from npcases import enc
out([enc(np.load(inp['p1'])), enc(np.load(inp['p2'])), enc(np.memmap(inp['p3'], dtype='>f8', mode='r', shape=(100, 7)))])
`, { helpers: HELPERS, p1, p2, p3 })) as Enc[]
  t.deepEqual(seen[0], E.columns, 'NumPy reads the column-filled float32 file')
  t.deepEqual(seen[1], E.rows, 'NumPy reads the row-filled >i4 file')
  t.deepEqual(seen[2], E.raw_columns, 'NumPy reads the raw >f8 memmap')
})

// ----------------------------------------------------------------------------- modes
test("mode 'r' refuses with the read-only error and the file is unchanged; mode 'c' keeps the file", async (t) => {
  const p = path.join(tmp, 'ro.npy')
  const before = sha256(p)
  const ro = loadNpy(p, { mmapMode: 'r' })
  for (const src of [1, 2.5, [1, 2, 3, 4, 5, 6], new Int32Array(6), inp('M'), ro.T]) {
    const e = t.throws(() => ro.assign(src as never), { code: 'ERR_MMNPY_READONLY' } as never) as Error
    t.regex(e.message, /assignment destination is read-only/)
    await t.throwsAsync(ro.slice(0).assignAsync(src as never), { code: 'ERR_MMNPY_READONLY' } as never)
  }
  t.throws(() => ro.slice(null, 2).assign(ro.slice(null, 3)), { code: 'ERR_MMNPY_READONLY' } as never)
  ro.close()
  t.is(sha256(p), before)

  const q = path.join(tmp, 'cow.npy')
  const qb = sha256(q)
  const c = loadNpy(q, { mmapMode: 'c' })
  c.assign(c.T)
  t.is(differs(c, E.overlap['m[...] = m.T']!), null)
  c.flush()
  c.close()
  t.is(sha256(q), qb, "mode 'c' leaves the file alone")
  // closed destination or source
  const z = array(new Float64Array(4))
  const closed = array(new Float64Array(4))
  closed.close()
  t.throws(() => z.assign(closed), { code: 'ERR_MMNPY_CLOSED' } as never)
  t.throws(() => closed.assign(1), { code: 'ERR_MMNPY_CLOSED' } as never)
  await t.throwsAsync(closed.assignAsync(z), { code: 'ERR_MMNPY_CLOSED' } as never)
  t.throws(() => z.assign(1, { release: 1 as unknown as boolean }), { instanceOf: TypeError })
})

// ----------------------------------------------------------------------------- large, async, streaming
test('large views (parallel, long rows, conversions): sync, async and streaming give NumPy\'s bytes', async (t) => {
  const o = openNpy(file('large'), { mode: 'w+', dtype: 'float64', shape: [700, 3000] })
  o.T.assign(inp('L'))
  t.is(shaOf(o), E.large_T.sha, 'd.T[...] = float32 (3000, 700)')
  o.fill(0)
  await o.T.assignAsync(inp('L'), { release: true })
  t.is(shaOf(o), E.large_T.sha, 'async, streaming')
  o.close()
  const h = openNpy(file('half'), { mode: 'w+', dtype: '>f2', shape: [600000] })
  h.slice('::-1').assign(inp('Li'), { release: true })
  t.is(shaOf(h), E.large_rev.sha, "h[::-1] = int16 into '>f2', streaming")
  h.close()
  const c = openNpy(file('copy'), { mode: 'w+', dtype: 'float32', shape: [3000, 700] })
  c.assign(inp('L'))
  t.is(shaOf(c), E.large_copy.sha, 'a plain copy')
  c.close()
})

const linux = process.platform === 'linux'
;(linux ? test : test.skip)('streaming: filling a 384 MiB file from another keeps the peak RSS bounded (without release: both files resident)', (t) => {
  const out = execFileSync(process.execPath, [path.join(HELPERS, 'assign-stream-child.js'), tmp], { encoding: 'utf8', maxBuffer: 16 * 2 ** 20 })
  const line = out.split('\n').find((l) => l.startsWith('MMNPY-ASSIGN-STREAM '))
  t.truthy(line, out)
  const { threads, cases: r } = JSON.parse(line!.slice('MMNPY-ASSIGN-STREAM '.length)) as { threads: number; cases: Record<string, { sum: number; peak: number }> }
  const MiB = 2 ** 20
  // Two views, each with a window of 8 MiB per thread in flight and one released behind.
  const budget = 32 * MiB * (threads + 1)
  for (const [name, m] of Object.entries(r)) {
    if (name.startsWith('kept')) t.true(m.peak > 384 * MiB, `${name}: without release the peak grows by ${(m.peak / MiB).toFixed(0)} MiB`)
    else t.true(m.peak < budget, `${name}: with release the peak grows by ${(m.peak / MiB).toFixed(0)} MiB (budget ${budget / MiB})`)
    t.is(m.sum, r['kept, contiguous']!.sum, `${name}: every value written`)
  }
})
