// HDF5 files written by mmnpy, checked by h5py (__test__/fixtures/check_h5_written.py): every dtype in both
// byte orders, contiguous (aligned at 64, mappable) and chunked datasets with gzip / shuffle / fletcher32,
// fill values, maxshape and resize, strided and partial writes (read-modify-write of chunks), attributes of
// every kind set and deleted, nested groups; h5py's own files (both libver settings) changed in 'r+' and
// 'a'; h5py then changing files mmnpy wrote; reads seeing earlier writes; the modes' rules; clear errors.
// The expected values come from NdArrays given the same assignments (NdArray is checked against NumPy).
import test from 'ava'
import type { ExecutionContext } from 'ava'
import { execFileSync, spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import { openH5, array, arange, zeros, full, saveNpy, loadNpy, arrayEqual, NdArray, Dataset, Group } from '../index'
import { py, sha256, tmpDir } from './helpers/numpy'

const FIXTURES = path.join(__dirname, 'fixtures')
const CHECKER = path.join(FIXTURES, 'check_h5_written.py')
const GENERATED = path.join(FIXTURES, 'generated', 'h5')
if (!fs.existsSync(path.join(GENERATED, 'manifest.json'))) {
  execFileSync('python3', [path.join(FIXTURES, 'make_h5_fixtures.py'), GENERATED], { stdio: 'inherit' })
}

type Check = Record<string, unknown>

/** Collects h5py checks in a folder, then runs them all in one python3. */
class Checks {
  readonly list: Check[] = []
  private n = 0
  constructor(readonly dir: string) {}
  npy(a: NdArray): string {
    const name = `expect-${this.n++}.npy`
    saveNpy(path.join(this.dir, name), a)
    return name
  }
  dataset(file: string, p: string, expect: NdArray, props: Check = {}): void {
    this.list.push({ file, kind: 'dataset', path: p, npy: this.npy(expect), ...props })
  }
  add(c: Check): void {
    this.list.push(c)
  }
  run(t: ExecutionContext, atLeast: number): void {
    const m = path.join(this.dir, 'checks.json')
    fs.writeFileSync(m, JSON.stringify({ checks: this.list }))
    const out = execFileSync('python3', [CHECKER, m], { encoding: 'utf8', maxBuffer: 64 << 20 })
    const r = JSON.parse(out.trim().split('\n').pop()!) as { checked: number; failures: { check: Check; message: string }[] }
    for (const f of r.failures) t.fail(`h5py: ${JSON.stringify(f.check)}: ${f.message}`)
    t.true(r.checked >= atLeast, `${r.checked} checks`)
  }
}

/** A fresh folder for a test's files, with the h5py checks collected there. */
function workspace(t: ExecutionContext, prefix = 'mmnpy-h5w-'): { dir: string; checks: Checks; at: (name: string) => string } {
  const dir = tmpDir(t, prefix)
  return { dir, checks: new Checks(dir), at: (name) => path.join(dir, name) }
}

const CODES = ['bool', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float16', 'float32', 'float64', 'complex64', 'complex128']
const SHORT: Record<string, string> = { bool: 'b1', int8: 'i1', uint8: 'u1', int16: 'i2', uint16: 'u2', int32: 'i4', uint32: 'u4', int64: 'i8', uint64: 'u8', float16: 'f2', float32: 'f4', float64: 'f8', complex64: 'c8', complex128: 'c16' }

/** Deterministic values of a dtype: arange cast (wrapping as NumPy's astype does). */
function values(dtype: string, shape: number[], seed = 0): NdArray {
  const n = shape.reduce((a, b) => a * b, 1)
  const base = arange(n).reshape(shape)
  if (dtype === 'bool') return base.astype('int64').astype('bool')
  const scaled = dtype.startsWith('float') || dtype.startsWith('complex') ? base.astype('float64') : base
  const a = zeros(shape, { dtype })
  a.assign(scaled)
  if (seed) {
    const s = full(shape, seed, { dtype: dtype.startsWith('uint') || dtype === 'bool' ? 'uint8' : 'int8' })
    a.assign(s)
  }
  return a
}

test("'w': every dtype in both byte orders, contiguous and chunked, reads back here and in h5py", (t) => {
  const file = 'dtypes.h5'
  const { checks, at } = workspace(t)
  const f = openH5(at(file), { mode: 'w' })
  t.true(f.writable)
  for (const dtype of CODES) {
    for (const order of dtype === 'bool' || dtype.endsWith('int8') ? ['|'] : ['<', '>']) {
      const spec = order === '|' ? dtype : `${order}${SHORT[dtype]}`
      const v = values(dtype, [13, 7])
      const name = `${dtype}_${order === '>' ? 'be' : 'le'}`
      const c = f.createDataset(`contig/${name}`, { shape: [13, 7], dtype: spec })
      c.write(null, v)
      const k = f.createDataset(`chunked/${name}`, { data: v, dtype: spec, chunks: [4, 3], compression: 'gzip', shuffle: true, fletcher32: true })
      t.is(c.dtype as string, dtype)
      t.is(k.byteOrder as string, order)
      t.true(arrayEqual(c.read(), v), name)
      t.true(arrayEqual(k.read(), v), name)
      const expect = order === '>' ? v.astype(spec) : v
      checks.dataset(file, `/contig/${name}`, expect, { chunks: null, aligned: true, compression: null, shuffle: false, fletcher32: false })
      checks.dataset(file, `/chunked/${name}`, expect, { chunks: [4, 3], compression: 'gzip', compression_opts: 4, shuffle: true, fletcher32: true, maxshape: [13, 7] })
    }
  }
  checks.add({ file, kind: 'group', path: '/', keys: ['chunked', 'contig'] })
  f.close()
  checks.add({ file, kind: 'h5py_changes' })
  checks.run(t, 50)
})

test("'w': layouts, chunk guesses, fill values, maxshape, resize and strided writes match h5py's semantics", (t) => {
  const file = 'layouts.h5'
  const { checks, at } = workspace(t)
  using f = openH5(at(file), { mode: 'w' })
  // Scalar and empty datasets.
  const s = f.createDataset('scalar', { shape: [], dtype: 'float64' })
  s.write(null, 2.5)
  t.is(s.read().get(), 2.5)
  checks.dataset(file, '/scalar', full([], 2.5))
  f.createDataset('empty', { shape: [0, 5], dtype: 'int32' })
  checks.dataset(file, '/empty', zeros([0, 5], { dtype: 'int32' }))
  // h5py's guess_chunk, as h5py computes it for the same shapes (compression forces chunks).
  const guess: [number[], string, number][] = [
    [[1000, 1000], 'float64', 8],
    [[100], 'int32', 4],
    [[10_000_000], 'float32', 4],
    [[0, 64], 'float64', 8],
    [[3, 5000, 7], 'int16', 2],
    [[1 << 20, 2, 2], 'complex128', 16],
  ]
  const want = py('from h5py._hl.filters import guess_chunk\nout([list(guess_chunk(tuple(s), None, n)) for s, n in inp])', guess.map(([s, , n]) => [s, n])) as number[][]
  guess.forEach(([shape, dtype], i) => {
    const d = f.createDataset(`guess/${shape.join('x')}`, { shape, dtype, compression: 'gzip' })
    t.deepEqual(d.chunks, want[i], `guess_chunk(${shape})`)
  })
  // Fill values: chunks never written, and a contiguous dataset never written.
  const fv = f.createDataset('fill/chunked', { shape: [20, 20], dtype: 'int16', chunks: [8, 8], fillValue: -3 })
  fv.write('2:5, 9:17', 4)
  const fe = full([20, 20], -3, { dtype: 'int16' })
  fe.slice('2:5, 9:17').assign(4)
  t.true(arrayEqual(fv.read(), fe))
  checks.dataset(file, '/fill/chunked', fe, { fillvalue: -3, chunks: [8, 8] })
  const fc = f.createDataset('fill/contig', { shape: [5], dtype: 'float32', fillValue: 1.5 })
  t.true(arrayEqual(fc.read(), full([5], 1.5, { dtype: 'float32' })))
  checks.dataset(file, '/fill/contig', full([5], 1.5, { dtype: 'float32' }), { fillvalue: 1.5 })
  // Strided, reversed and dropped-axis writes into chunked and contiguous data (read-modify-write).
  for (const chunks of [[5, 4], null]) {
    const name = chunks ? 'strided/chunked' : 'strided/contig'
    const d = f.createDataset(name, { shape: [17, 11], dtype: 'float64', chunks, compression: chunks ? 'gzip' : null })
    const e = zeros([17, 11])
    const ops: [string, NdArray | number][] = [
      ['::3, 1::2', values('float64', [6, 5], 0)],
      ['-1, :', arange(11).astype('float64')],
      [':, 3', 9],
      ['10:2:-2, ::-3', values('float64', [4, 4], 0)],
      ['4:9, 2:10', 0.5],
    ]
    for (const [spec, v] of ops) {
      d.write(spec, v)
      e.slice(spec).assign(v)
      t.true(arrayEqual(d.read(), e), `${name} after ${spec}`)
    }
    checks.dataset(file, `/${name}`, e)
  }
  // Unlimited axes: grown slab by slab, shrunk (the cut part reads as the fill value when grown again).
  const g = f.createDataset('grow', { shape: [0, 6], maxshape: [null, 6], dtype: 'int64', chunks: [7, 6], compression: 'gzip', compressionOpts: 9, fillValue: 5 })
  const parts: NdArray[] = []
  for (let k = 0; k < 5; k++) {
    const slab = values('int64', [9, 6], 0)
    slab.assign(slab.astype('float64'))
    const n = g.shape[0]!
    g.resize(n + 9, 0)
    g.write(`${n}:`, slab)
    parts.push(slab)
  }
  t.deepEqual([...g.shape], [45, 6])
  g.resize([40, 6])
  g.resize([43, 6])
  const ge = full([43, 6], 5, { dtype: 'int64' })
  for (let k = 0; k < 5; k++) ge.slice([k * 9, Math.min(k * 9 + 9, 40)]).assign(parts[k]!.slice([0, Math.min(9, 40 - k * 9)]))
  t.true(arrayEqual(g.read(), ge))
  checks.dataset(file, '/grow', ge, { maxshape: [null, 6], chunks: [7, 6], compression: 'gzip', compression_opts: 9 })
  const two = f.createDataset('two', { data: values('uint16', [9, 9]), maxshape: [null, null], chunks: true })
  two.resize([12, 15])
  const te = zeros([12, 15], { dtype: 'uint16' })
  te.slice('0:9, 0:9').assign(values('uint16', [9, 9]))
  t.true(arrayEqual(two.read(), te))
  checks.dataset(file, '/two', te, { maxshape: [null, null] })
  f.close()
  checks.add({ file, kind: 'h5py_changes' })
  checks.run(t, 9)
})

test('attributes of every kind are set, replaced and deleted as h5py stores them', (t) => {
  const file = 'attrs.h5'
  const { checks, at } = workspace(t)
  const f = openH5(at(file), { mode: 'w' })
  const g = f.createGroup('a/b')
  const d = f.createDataset('a/d', { shape: [3], dtype: 'int8' })
  f.attrs.title = 'héllo wörld'
  f.attrs.empty = ''
  f.attrs.names = ['x', 'yy', '', 'zzz']
  f.attrs.n = 42
  f.attrs.big = 2n ** 62n
  f.attrs.x = 0.25
  f.attrs.flag = true
  f.attrs.z = { re: 1, im: -2 }
  g.attrs.f32 = new Float32Array([1.5, 2.5])
  g.attrs.m = array([[1, 2, 3], [4, 5, 6]], { dtype: '>i2' })
  d.attrs.units = 'K'
  d.attrs.units = 'm' // replaced
  d.attrs.gone = 1
  delete d.attrs.gone
  for (let i = 0; i < 12; i++) g.attrs[`k${i}`] = i // more than HDF5's 8 compact attributes
  t.is(f.attrs.title, 'héllo wörld')
  t.deepEqual(f.attrs.names, ['x', 'yy', '', 'zzz'])
  t.is(f.attrs.n as unknown, 42n)
  t.is(f.attrs.x, 0.25)
  t.is(f.attrs.flag, true)
  t.deepEqual(f.attrs.z, { re: 1, im: -2 })
  t.is(d.attrs.units, 'm')
  t.false('gone' in d.attrs)
  const err = t.throws(() => {
    delete d.attrs.nothere
  })
  t.is((err as { code?: string }).code, 'ERR_MMNPY_NOT_FOUND')
  f.close()
  checks.add({ file, kind: 'attr', path: '/', name: 'title', str: 'héllo wörld' })
  checks.add({ file, kind: 'attr', path: '/', name: 'empty', str: '' })
  checks.add({ file, kind: 'attr', path: '/', name: 'names', strs: ['x', 'yy', '', 'zzz'] })
  checks.add({ file, kind: 'attr', path: '/', name: 'n', npy: checks.npy(full([], 42, { dtype: 'int64' })) })
  checks.add({ file, kind: 'attr', path: '/', name: 'big', npy: checks.npy(full([], 2n ** 62n, { dtype: 'int64' })) })
  checks.add({ file, kind: 'attr', path: '/', name: 'x', npy: checks.npy(full([], 0.25)) })
  checks.add({ file, kind: 'attr', path: '/', name: 'flag', npy: checks.npy(full([], true)) })
  checks.add({ file, kind: 'attr', path: '/', name: 'z', npy: checks.npy(full([], { re: 1, im: -2 })) })
  checks.add({ file, kind: 'attr', path: '/a/b', name: 'f32', npy: checks.npy(array(new Float32Array([1.5, 2.5]))) })
  checks.add({ file, kind: 'attr', path: '/a/b', name: 'm', npy: checks.npy(array([[1, 2, 3], [4, 5, 6]], { dtype: '>i2' })) })
  for (let i = 0; i < 12; i++) checks.add({ file, kind: 'attr', path: '/a/b', name: `k${i}`, npy: checks.npy(full([], i, { dtype: 'int64' })) })
  checks.add({ file, kind: 'attr', path: '/a/d', name: 'units', str: 'm' })
  checks.add({ file, kind: 'no_attr', path: '/a/d', name: 'gone' })
  checks.add({ file, kind: 'group', path: '/a', keys: ['b', 'd'] })
  checks.add({ file, kind: 'h5py_changes' })
  checks.run(t, 25)
  // And they read back here after reopening.
  const r = openH5(at(file))
  t.teardown(() => r.close())
  t.is(r.attrs.title, 'héllo wörld')
  t.is((r.get('a/b') as Group).attrs.k11, 11n)
})

interface Entry { file: string; path: string; expect: string; chunks: number[] | null; layout: string; dtype: string }
const fixtures: { datasets: Entry[] } = JSON.parse(fs.readFileSync(path.join(GENERATED, 'manifest.json'), 'utf8'))

for (const [libver, mode] of [['earliest', 'r+'], ['latest', 'a']] as const) {
  test(`h5py's files (libver='${libver}') changed in '${mode}': h5py reads the changes and everything else as before`, (t) => {
    const file = `${libver}.h5`
    const { dir, checks, at } = workspace(t)
    fs.copyFileSync(path.join(GENERATED, file), at(file))
    const expect = new Map<string, NdArray>()
    for (const e of fixtures.datasets.filter((x) => x.file === file)) expect.set(e.path, loadNpy(path.join(GENERATED, e.expect)))
    const f = openH5(path.join(dir, file), { mode })
    // A contiguous dataset in place, a chunked gzip one read-modify-write, an unlimited one grown.
    const contig = f.get('contig') as Dataset
    contig.write('10:20, ::5', -1)
    expect.get('/contig')!.slice('10:20, ::5').assign(-1)
    const gz = f.get('chunked/gzip') as Dataset
    gz.write('3:40:3, 5', 123.5)
    expect.get('/chunked/gzip')!.slice('3:40:3, 5').assign(123.5)
    const un = f.get('chunked/unlimited') as Dataset
    const old = expect.get('/chunked/unlimited')!
    un.resize(30, 0)
    un.write('23:', arange(42).reshape(7, 6))
    const ue = zeros([30, 6], { dtype: 'int64' })
    ue.slice([0, 23]).assign(old)
    ue.slice([23, 30]).assign(arange(42).reshape(7, 6))
    expect.set('/chunked/unlimited', ue)
    const grown = f.get('chunked/growing') as Dataset
    grown.resize(grown.shape[0]! - 100, 0)
    expect.set('/chunked/growing', expect.get('/chunked/growing')!.slice([0, grown.shape[0]!]))
    // New members in old groups (a symbol-table group under 'earliest', dense links under 'latest').
    f.createGroup('big/g99/new')
    const nd = (f.get('a/b') as Group).createDataset('c/added', { data: arange(12).reshape(3, 4), chunks: [2, 2], compression: 'gzip' })
    t.is(nd.name, '/a/b/c/added')
    // Attributes: replaced, added, deleted (dense attribute storage under 'latest').
    f.attrs.text = 'changed'
    delete f.attrs.int
    const big = f.get('big') as Group
    big.attrs.k05 = 'five'
    delete big.attrs.k07
    // Reads see the writes before any commit.
    t.true(arrayEqual((f.get('contig') as Dataset).read(), expect.get('/contig')!))
    t.true(arrayEqual(gz.read(), expect.get('/chunked/gzip')!))
    t.true(arrayEqual(un.read(), ue))
    t.is(f.attrs.text, 'changed')
    t.true(f.has('big/g99/new'))
    f.flush()
    gz.write('0, 0', 1) // after a commit: the committed chunk is not overwritten in place
    expect.get('/chunked/gzip')!.slice('0, 0').assign(1)
    f.close()
    for (const [p, e] of expect) {
      if (p.startsWith('/refused/')) continue
      checks.dataset(file, p, e)
    }
    checks.dataset(file, '/a/b/c/added', arange(12).reshape(3, 4), { chunks: [2, 2], compression: 'gzip' })
    checks.add({ file, kind: 'attr', path: '/', name: 'text', str: 'changed' })
    checks.add({ file, kind: 'no_attr', path: '/', name: 'int' })
    checks.add({ file, kind: 'attr', path: '/big', name: 'k05', str: 'five' })
    checks.add({ file, kind: 'no_attr', path: '/big', name: 'k07' })
    checks.add({ file, kind: 'attr', path: '/big', name: 'k06', npy: checks.npy(full([], 6, { dtype: 'int64' })) })
    checks.add({ file, kind: 'attr', path: '/contig', name: 'scale', npy: checks.npy(full([], 0.5)) })
    checks.add({ file, kind: 'group', path: '/big/g99', keys: ['new'] })
    checks.add({ file, kind: 'h5py_changes' })
    checks.run(t, 40)
    // Opened again here: the same.
    const r = openH5(path.join(dir, file))
    t.teardown(() => r.close())
    t.true(arrayEqual((r.get('chunked/gzip') as Dataset).read(), expect.get('/chunked/gzip')!))
    t.deepEqual(r.keys().includes('big'), true)
  })
}

test("files mmnpy wrote, changed again in 'r+' and 'a'; contiguous datasets map zero-copy", (t) => {
  const { dir, checks, at } = workspace(t)
  const p = at('again.h5')
  {
    using f = openH5(p, { mode: 'w-' })
    f.createDataset('x', { data: arange(100).astype('float64').reshape(10, 10) })
    f.createDataset('y', { data: arange(100).reshape(10, 10), chunks: [3, 3], maxshape: [null, 10], shuffle: true, compression: 'gzip' })
  }
  const e = arange(100).astype('float64').reshape(10, 10)
  const ye = zeros([13, 10], { dtype: 'int64' })
  ye.slice([0, 10]).assign(arange(100).reshape(10, 10))
  for (const mode of ['r+', 'a'] as const) {
    using f = openH5(p, { mode })
    const x = f.get('x') as Dataset
    const m = x.mmap()
    t.is(m.offset % 64, 0)
    t.true(arrayEqual(m, e))
    x.write('::2, 1', mode === 'r+' ? 7 : 8)
    e.slice('::2, 1').assign(mode === 'r+' ? 7 : 8)
    t.true(arrayEqual(m, e), 'the map sees writes to contiguous data')
    const y = f.get('y') as Dataset
    if (mode === 'r+') y.resize(13, 0)
    y.write('11:, 4:6', 3)
    ye.slice('11:, 4:6').assign(3)
    f.attrs[`by_${mode}`] = mode
  }
  checks.dataset('again.h5', '/x', e, { aligned: true })
  checks.dataset('again.h5', '/y', ye, { chunks: [3, 3], maxshape: [null, 10], shuffle: true })
  checks.add({ file: 'again.h5', kind: 'attr', path: '/', name: 'by_r+', str: 'r+' })
  checks.add({ file: 'again.h5', kind: 'attr', path: '/', name: 'by_a', str: 'a' })
  checks.add({ file: 'again.h5', kind: 'h5py_changes' })
  checks.run(t, 5)
})

test("'r+' and 'a' leave a file they did not change byte for byte as it was, closed or garbage-collected", (t) => {
  const dir = tmpDir(t, 'mmnpy-h5w-')
  for (const [i, mode] of (['r+', 'a', 'r+'] as const).entries()) {
    const p = path.join(dir, `same-${i}.h5`)
    fs.copyFileSync(path.join(GENERATED, i === 2 ? 'latest.h5' : 'earliest.h5'), p)
    const before = sha256(p)
    const f = openH5(p, { mode })
    t.true(arrayEqual((f.get('chunked/gzip') as Dataset).read(), loadNpy(path.join(GENERATED, fixtures.datasets.find((d) => d.file === (i === 2 ? 'latest.h5' : 'earliest.h5') && d.path === '/chunked/gzip')!.expect))))
    void f.attrs
    f.visit(() => undefined)
    f.flush()
    f.close()
    t.is(sha256(p), before, mode)
  }
})

test("mode rules: 'w-' and 'x' refuse an existing file, 'r+' a missing one, 'w' replaces only when committed", (t) => {
  const dir = tmpDir(t, 'mmnpy-h5w-')
  const p = path.join(dir, 'm.h5')
  for (const mode of ['r+', 'r'] as const) {
    const e = t.throws(() => openH5(p, { mode }))
    t.is((e as { code?: string }).code, 'ERR_MMNPY_IO')
  }
  openH5(p, { mode: 'x' }).close()
  for (const mode of ['w-', 'x'] as const) {
    const e = t.throws(() => openH5(p, { mode }))
    t.is((e as { code?: string }).code, 'ERR_MMNPY_EXISTS')
    t.regex((e as Error).message, /m\.h5/)
  }
  {
    using f = openH5(p, { mode: 'a' })
    f.attrs.v = 'old'
  }
  const f = openH5(p, { mode: 'w' })
  f.attrs.v = 'new'
  // Before the first commit the target is still the old file.
  {
    using r = openH5(p)
    t.is(r.attrs.v, 'old')
  }
  f.flush()
  {
    using r = openH5(p)
    t.is(r.attrs.v, 'new')
  }
  f.attrs.v = 'newer'
  f.close()
  using r = openH5(p)
  t.is(r.attrs.v, 'newer')
  t.deepEqual(fs.readdirSync(dir), ['m.h5'])
})

test('errors: read-only files, taken names, maxshape, dtypes, shapes and closed files', (t) => {
  const dir = tmpDir(t, 'mmnpy-h5w-')
  const p = path.join(dir, 'e.h5')
  const f = openH5(p, { mode: 'w' })
  const d = f.createDataset('d', { shape: [4, 4], dtype: 'int32', chunks: [2, 2], maxshape: [8, 4] })
  const c = f.createDataset('c', { shape: [4], dtype: 'float64' })
  const code = (fn: () => unknown): string | undefined => (t.throws(fn) as { code?: string }).code
  t.is(code(() => f.createGroup('d')), 'ERR_MMNPY_EXISTS')
  t.is(code(() => f.createDataset('d', { shape: [1] })), 'ERR_MMNPY_EXISTS')
  t.is(code(() => f.createGroup('d/x')), 'ERR_MMNPY_INVALID_ARG')
  t.is(code(() => d.resize([9, 4])), 'ERR_MMNPY_INVALID_ARG')
  t.is(code(() => d.resize([4, 5])), 'ERR_MMNPY_INVALID_ARG')
  t.is(code(() => c.resize([5])), 'ERR_MMNPY_INVALID_ARG')
  t.is(code(() => d.write('0:3', zeros([2, 4]))), 'ERR_MMNPY_INVALID_ARG')
  t.is(code(() => d.write(null, 'text' as never)), 'ERR_MMNPY_INVALID_ARG')
  t.is(code(() => d.write('9', 1)), 'ERR_MMNPY_OUT_OF_RANGE')
  t.is(code(() => f.createDataset('s', { shape: [], dtype: 'float64', chunks: true })), 'ERR_MMNPY_INVALID_ARG')
  t.is(code(() => f.createDataset('k', { shape: [4], chunks: [5] })), 'ERR_MMNPY_INVALID_ARG')
  t.is(code(() => f.createDataset('m', { shape: [4], maxshape: [3] })), 'ERR_MMNPY_INVALID_ARG')
  t.is(code(() => f.createDataset('z', { shape: [4], compression: 'lzf' as never })), 'ERR_MMNPY_UNSUPPORTED_FILTER')
  t.is(code(() => f.createDataset('z', { shape: [4], compression: 'gzip', compressionOpts: 10 })), 'ERR_MMNPY_INVALID_ARG')
  t.is(code(() => f.createDataset('u', { shape: [4], dtype: '<U3' })), 'ERR_MMNPY_UNSUPPORTED_DTYPE')
  t.is(code(() => (f.attrs.huge = new Float64Array(10000))), 'ERR_MMNPY_INVALID_ARG')
  d.write(null, 3)
  f.close()
  t.is(code(() => d.write(null, 1)), 'ERR_MMNPY_CLOSED')
  const r = openH5(p)
  t.teardown(() => r.close())
  t.false(r.writable)
  t.is(code(() => (r.get('d') as Dataset).write(null, 1)), 'ERR_MMNPY_READONLY')
  t.is(code(() => r.createGroup('x')), 'ERR_MMNPY_READONLY')
  t.is(code(() => (r.attrs.x = 1)), 'ERR_MMNPY_READONLY')
  t.true(arrayEqual((r.get('d') as Dataset).read(), full([4, 4], 3, { dtype: 'int32' })))
})

const CRASH_WRITER = path.join(__dirname, 'helpers', 'h5-crash-writer.js')

/** Starts a writer, kills it `delay` ms after its first round (or when it ends on its own), resolves when it is gone. */
function killAfter(file: string, mode: string, delay: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CRASH_WRITER, file, mode], { stdio: ['ignore', 'pipe', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), delay))
    child.on('error', reject)
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`writer ended with ${code}: ${err}`))))
  })
}

for (const [mode, kills] of [['w', 100], ['r+', 60]] as const) {
  const what = mode === 'w' ? 'the file is always the old or a whole new version' : 'chunks and attributes are always a committed version (contiguous data are written in place)'
  test(`'${mode}' killed ${kills} times at random moments: ${what}, in h5py too`, async (t) => {
    const { dir, checks, at } = workspace(t, 'mmnpy-h5crash-')
    const file = at('target.h5')
    const seen = new Map<string, number>()
    if (mode === 'r+') {
      using f = openH5(file, { mode: 'w' })
      f.createDataset('x', { data: full([1 << 16], 1), chunks: [1 << 11], compression: 'gzip', maxshape: [null] })
      f.createDataset('y', { data: full([1 << 16], 1, { dtype: 'int32' }) })
      f.attrs.v = 1
    }
    for (let k = 0; k < kills; k++) {
      await killAfter(file, mode, Math.random() * 60)
      // Each state, for h5py; and here, now.
      const snap = `snap-${k}.h5`
      fs.copyFileSync(file, path.join(dir, snap))
      checks.add({ file: snap, kind: 'opens_as', marker: ['/', 'v'], values: [1, 2], data: mode === 'w' ? ['/x', '/y'] : ['/x'] })
      let what: string
      try {
        using f = openH5(file)
        const v = Number(f.attrs.v)
        const x = (f.get('x') as Dataset).read()
        const y = (f.get('y') as Dataset).read()
        // Contiguous data are written in place ('y' may be half rewritten after a kill in 'r+'); chunks never are.
        const yOk = mode === 'w' ? arrayEqual(y, full(y.shape, v, { dtype: 'int32' })) : Number(y.equal(1).sum()) + Number(y.equal(2).sum()) === y.size
        what = arrayEqual(x, full(x.shape, v)) && yOk ? `v${v}` : `v${v} with other data`
      } catch (e) {
        what = `unreadable: ${(e as Error).message}`
      }
      seen.set(what, (seen.get(what) ?? 0) + 1)
      if (!/^v[12]$/.test(what)) t.fail(`after kill ${k + 1}: ${what}`)
    }
    t.log(Object.fromEntries(seen))
    checks.run(t, kills)
    // The temporaries of killed 'w' writers go with the next write to the folder.
    openH5(path.join(dir, 'other.h5'), { mode: 'w' }).close()
    t.deepEqual(fs.readdirSync(dir).filter((n) => n.endsWith('.mmnpy-tmp')), [])
  })
}

test("{ durable: true } writes the same bytes in 'w', 'w-', 'a' and 'r+' (synced commits), and h5py reads them", (t) => {
  const dir = tmpDir(t)
  const write = (name: string, durable: boolean) => {
    const file = path.join(dir, name)
    for (const mode of ['w', 'w-'] as const) {
      if (mode === 'w-') fs.rmSync(file)
      using f = openH5(file, { mode, durable })
      f.createDataset('x', { data: arange(1000), chunks: [100], compression: 'gzip', maxshape: [null] })
      f.createDataset('g/y', { data: full([64], 7, { dtype: 'int32' }) })
      f.attrs.v = 1
    }
    for (const mode of ['a', 'r+'] as const) {
      using f = openH5(file, { mode, durable })
      const x = f.get('x') as Dataset
      x.resize([1100])
      x.write([[1000, 1100]], full([100], mode === 'a' ? 2 : 3))
      ;(f.get('g/y') as Dataset).write([[0, 8]], full([8], 9, { dtype: 'int32' }))
      f.flush()
      f.attrs.v = mode === 'a' ? 2 : 3
    }
    return file
  }
  const plain = write('plain.h5', false)
  const synced = write('synced.h5', true)
  t.deepEqual(fs.readFileSync(synced), fs.readFileSync(plain))
  const r = py(
    `import h5py; f = h5py.File(inp, 'r'); x = f['x'][...]; out([int(f.attrs['v']), float(x[:1000].sum()), float(x[1000:].sum()), int(f['g/y'][...].sum())])`,
    synced,
  )
  t.deepEqual(r, [3, 499500, 300, 8 * 9 + 56 * 7])
  t.deepEqual(fs.readdirSync(dir).sort(), ['plain.h5', 'synced.h5'])
})
