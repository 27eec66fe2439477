// HDF5 files h5py wrote, read natively: every dataset (every dtype, both byte orders, compact /
// contiguous / chunked, gzip + shuffle + fletcher32, fill values, resized unlimited datasets)
// compared with h5py's values, hyperslabs compared with NdArray.slice of the same values (the
// string form, steps, negative steps, dropped axes), attributes, groups, visit, refused types
// and filters, mmap of aligned contiguous data, close(), and the hostile corpus in child processes.
//
// The fixtures come from __test__/fixtures/make_h5_fixtures.py (run by the test runner, and
// here when the manifest is missing).
import test from 'ava'
import { execFileSync, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import { openH5, loadNpy, arrayEqual, NdArray, Dataset, Group, H5File } from '../index'

const FIXTURES = path.join(__dirname, 'fixtures')
const GENERATED = path.join(FIXTURES, 'generated', 'h5')
const MANIFEST = path.join(GENERATED, 'manifest.json')
const CHILD = path.join(__dirname, 'helpers', 'h5-child.js')

if (!fs.existsSync(MANIFEST)) {
  execFileSync('python3', [path.join(FIXTURES, 'make_h5_fixtures.py'), GENERATED], { stdio: 'inherit' })
}

interface DatasetEntry {
  file: string
  path: string
  expect: string
  dtype: string
  byteOrder: string
  shape: number[]
  chunks: number[] | null
  compression: string | null
  shuffle: boolean
  fletcher32: boolean
  layout: string
}
interface AttrEntry { file: string; path: string; name: string; kind: string; value: unknown; dtype?: string; shape?: number[] }
const manifest: {
  datasets: DatasetEntry[]
  attrs: AttrEntry[]
  groups: { file: string; path: string; keys: string[] }[]
  refused: { file: string; path: string; code: string; mentions: string }[]
  mappable: { file: string; path: string; offset: number; aligned: boolean }[]
  hostile: { file: string; code: string; mentions: string; at: string }[]
} = JSON.parse(fs.readFileSync(MANIFEST, 'utf8'))

// Every file: libver='earliest' and 'latest' alike.
const files = (_: string) => true

function open(t: import('ava').ExecutionContext, file: string): H5File {
  const f = openH5(path.join(GENERATED, file))
  t.teardown(() => f.close())
  return f
}

const SPECS: ((shape: readonly number[]) => (string | null | number | [number | null, number | null, number | null])[])[] = [
  () => [],
  (s) => (s.length >= 1 ? [`${Math.floor(s[0]! / 3)}:${Math.ceil((s[0]! * 2) / 3)}`] : []),
  (s) => (s.length >= 1 ? ['::-2'] : []),
  (s) => (s.length >= 2 ? [null, s[1]! - 1] : []),
  (s) => (s.length >= 2 ? [[null, null, 3], [1, null, -2]] : []),
  (s) => (s.length >= 1 && s[0]! > 0 ? [-1] : []),
  (s) => (s.length >= 2 ? ['1::4, ...'] : []),
]

test('every dataset h5py wrote reads as h5py reads it, and hyperslabs as NdArray.slice', (t) => {
  let n = 0
  for (const d of manifest.datasets.filter((x) => files(x.file))) {
    const f = open(t, d.file)
    const ds = f.get(d.path) as Dataset
    t.true(ds instanceof Dataset, d.path)
    t.deepEqual([...ds.shape], d.shape, d.path)
    t.is(ds.dtype as string, d.dtype, d.path)
    t.is(ds.byteOrder as string, d.byteOrder, d.path)
    t.deepEqual(ds.chunks === null ? null : [...ds.chunks], d.chunks, d.path)
    t.is(ds.compression, d.compression, d.path)
    t.is(ds.shuffle, d.shuffle, d.path)
    t.is(ds.fletcher32, d.fletcher32, d.path)
    t.is(ds.layout as string, d.layout, d.path)
    const expect = loadNpy(path.join(GENERATED, d.expect))
    const all = ds.read()
    t.deepEqual([...all.shape], d.shape)
    t.is(all.byteOrder, expect.byteOrder, d.path)
    t.true(arrayEqual(all, expect), `${d.file}${d.path}`)
    for (const spec of SPECS) {
      const s = spec(ds.shape)
      if (s.length === 0 && spec !== SPECS[0]) continue
      const got = ds.read(...(s as never[]))
      const want = expect.slice(...(s as never[]))
      t.deepEqual([...got.shape], [...want.shape], `${d.path} ${JSON.stringify(s)}`)
      t.true(arrayEqual(got, want), `${d.file}${d.path} ${JSON.stringify(s)}`)
    }
    n++
  }
  t.true(n >= 40)
})

test('readAsync gives what read gives, off the JS thread', async (t) => {
  const f = open(t, 'earliest.h5')
  const d = f.get('chunked/rows') as Dataset
  const [a, b] = await Promise.all([d.readAsync('10:200:3, ::-1'), d.readAsync()])
  t.true(arrayEqual(a, d.read('10:200:3, ::-1')))
  t.true(arrayEqual(b, d.read()))
  const err = await t.throwsAsync(() => (f.get('refused/lzf') as Dataset).readAsync())
  t.is((err as { code?: string }).code, 'ERR_MMNPY_UNSUPPORTED_FILTER')
})

/** Chunks the reader has read and decoded since the file was opened (its diagnostic counter). */
function chunksRead(f: H5File): number {
  return (f as unknown as { _h: { live(): { chunksRead(): number } } })._h.live().chunksRead()
}

test('a hyperslab read decodes each chunk it intersects once, and no other', (t) => {
  const f = open(t, 'latest.h5')
  // Per axis [start, stop, step] (positive steps): the chunks intersected, from the chunk grid.
  const cases: [string, [number, number, number][]][] = [
    ['chunked/rows', [[0, 256, 1], [0, 1, 1]]], // one column of a row-chunked dataset: every row chunk
    ['chunked/rows', [[10, 20, 1], [5, 6, 1]]],
    ['chunked/rows', [[3, 256, 50], [0, 64, 1]]],
    ['chunked/cube', [[0, 4, 1], [0, 1, 1], [0, 1, 1]]],
    ['chunked/cube', [[1, 13, 5], [2, 11, 3], [0, 9, 4]]],
    ['chunked/plain', [[0, 100, 1], [36, 37, 1]]],
    ['chunked/plain', [[15, 17, 1], [7, 9, 1]]],
    ['chunked/shuffle_gzip', [[0, 100, 1], [0, 37, 1]]],
    ['chunked/all', [[5, 6, 1], [0, 30, 1]]],
    ['chunked/many', [[5, 25, 1]]],
    ['chunked/many', [[0, 3000, 1000]]],
  ]
  for (const [p, sel] of cases) {
    const d = f.get(p) as Dataset
    const chunks = d.chunks!
    let want = 1
    for (let ax = 0; ax < sel.length; ax++) {
      const [a, b, s] = sel[ax]!
      const hit = new Set<number>()
      for (let i = a; i < b; i += s) hit.add(Math.floor(i / chunks[ax]!))
      want *= hit.size
    }
    const before = chunksRead(f)
    const got = d.read(...(sel as never[]))
    t.is(chunksRead(f) - before, want, `${p} ${JSON.stringify(sel)}`)
    t.true(arrayEqual(got, d.read().slice(...(sel as never[]))), `${p} ${JSON.stringify(sel)}`)
  }
  // A whole read decodes every stored chunk once.
  const rows = f.get('chunked/rows') as Dataset
  const before = chunksRead(f)
  rows.read()
  t.is(chunksRead(f) - before, 256)
})

test('readAsync decodes off the JS thread: the event loop turns meanwhile', async (t) => {
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'mmnpy-h5async-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'big.h5')
  const w = openH5(file, { mode: 'w' })
  const n = 1 << 23 // 64 MiB of float64 in 1 MiB chunks
  const v = new Float64Array(n)
  for (let i = 0; i < n; i++) v[i] = Math.sin(i) * 1000
  w.createDataset('x', { data: v, chunks: [1 << 17], compression: 'gzip' })
  w.close()
  const f = openH5(file)
  t.teardown(() => f.close())
  const d = f.get('x') as Dataset
  const want = d.read()
  // A read done on the JS thread would settle before any setImmediate callback runs; one on
  // other threads lets the event loop turn while it decodes. Up to 5 tries, for a busy machine.
  let turned = false
  let attempts = 0
  for (; attempts < 5 && !turned; attempts++) {
    let settled = false
    let ticks = 0
    const p = d.readAsync().then((a) => {
      settled = true
      return a
    })
    const spin = (): void => {
      if (settled) return
      ticks++
      setImmediate(spin)
    }
    setImmediate(spin)
    const got = await p
    t.true(arrayEqual(got, want))
    turned = ticks > 0
  }
  t.true(turned, 'the event loop never turned while readAsync decoded 64 MiB')
  // Each read, sync or async, decoded the 64 chunks once.
  t.is(chunksRead(f), 64 * (1 + attempts))
})

test('attributes are what h5py returns', (t) => {
  const decode = (v: unknown, kind: string): unknown => {
    if (kind === 'bigint') return BigInt(v as string)
    if (v === 'nan') return Number.NaN
    return v
  }
  let n = 0
  for (const a of manifest.attrs.filter((x) => files(x.file))) {
    const f = open(t, a.file)
    const o = a.path === '/' ? f : (f.get(a.path) as Group | Dataset)
    const got = o.attrs[a.name]
    if (a.kind === 'array') {
      t.true(got instanceof NdArray, `${a.path}@${a.name}`)
      const arr = got as NdArray
      t.is(arr.dtype as string, a.dtype!)
      t.deepEqual([...arr.shape], a.shape)
      t.is(arr.size, (a.value as unknown[]).length)
    } else if (a.kind === 'complex') {
      const [re, im] = a.value as [number, number]
      t.deepEqual(got, { re, im })
    } else if (a.kind === 'number' && typeof got === 'number' && typeof a.value === 'number') {
      // float32 attributes come back as the float32 value h5py holds.
      t.is(Math.fround(got), Math.fround(a.value), `${a.path}@${a.name}`)
    } else {
      t.deepEqual(got, decode(a.value, a.kind), `${a.path}@${a.name}`)
    }
    n++
  }
  t.true(n >= 15)
  const f = open(t, 'earliest.h5')
  t.is(f.attrs.text, 'héllo wörld')
  t.is(f.attrs.big, 2n ** 60n + 1n)
  t.deepEqual(f.attrs.texts, ['a', 'bb', 'ccc'])
  t.is(f.attrs.flag, true)
  t.is((f.get('a') as Group).attrs.units, 'K')
})

test('groups list, walk and resolve paths as h5py does', (t) => {
  for (const g of manifest.groups.filter((x) => files(x.file))) {
    const f = open(t, g.file)
    const grp = g.path === '/' ? f : (f.get(g.path) as Group)
    t.true(grp instanceof Group)
    t.deepEqual(grp.keys(), g.keys, g.path)
    t.deepEqual([...grp], g.keys)
  }
  const f = open(t, 'earliest.h5')
  const a = f.get('a') as Group
  t.is(a.name, '/a')
  t.is((a.get('b/c/leaf') as Dataset).name, '/a/b/c/leaf')
  t.is((a.get('/contig') as Dataset).name, '/contig')
  t.true(f.has('a/b/c') && !f.has('a/x'))
  const seen: string[] = []
  t.is(a.visit((name) => { seen.push(name) }), undefined)
  t.deepEqual(seen, ['b', 'b/c', 'b/c/leaf'])
  t.is(f.visit((name) => (name.endsWith('leaf') ? name : undefined)), 'a/b/c/leaf')
  const e = t.throws(() => f.get('a/nope'))
  t.is((e as { code?: string }).code, 'ERR_MMNPY_NOT_FOUND')
  t.regex(e!.message, /earliest\.h5.*nope/)
})

test('types and filters mmnpy does not read are refused, naming them', (t) => {
  for (const r of manifest.refused.filter((x) => files(x.file))) {
    const f = open(t, r.file)
    const e = t.throws(() => (f.get(r.path) as Dataset).read(), undefined, r.path)
    t.is((e as { code?: string }).code, r.code, `${r.path}: ${e?.message}`)
    t.true(e!.message.includes(r.mentions), `${r.path}: ${e?.message}`)
    t.true(e!.message.includes(r.file), e?.message)
  }
  const f = open(t, 'earliest.h5')
  t.is((f.get('refused/lzf') as Dataset).compression, 'lzf')
})

test('contiguous datasets at aligned offsets map zero-copy; the others say why not', (t) => {
  let mapped = 0
  for (const m of manifest.mappable.filter((x) => files(x.file))) {
    const f = open(t, m.file)
    const d = f.get(m.path) as Dataset
    if (m.aligned) {
      const a = d.mmap()
      t.is(a.mode, 'r')
      t.is(a.offset, m.offset)
      t.true(arrayEqual(a, d.read()), m.path)
      mapped++
    } else {
      const e = t.throws(() => d.mmap())
      t.is((e as { code?: string }).code, 'ERR_MMNPY_NOT_MAPPABLE')
      t.regex(e!.message, /not a multiple of/)
    }
  }
  t.true(mapped >= 10)
  const f = open(t, 'aligned.h5')
  const d = f.get('f8') as Dataset
  const c = d.mmap({ mode: 'c' })
  const before = d.read()
  c.set(0, 0, 12345)
  t.is(c.get(0, 0), 12345)
  t.true(arrayEqual(d.read(), before), "'c' never writes the file")
  t.is(d.mmap().data.length, 300 * 7)
  const e = t.throws(() => (f.get('chunked') as Dataset).mmap())
  t.is((e as { code?: string }).code, 'ERR_MMNPY_NOT_MAPPABLE')
  t.regex(e!.message, /chunked/)
})

test('close() detaches mapped and read arrays; nothing crashes afterwards', (t) => {
  const r = spawnSync(process.execPath, [CHILD, 'close', path.join(GENERATED, 'aligned.h5'), 'f8'], { encoding: 'utf8' })
  t.is(r.status, 0, r.stderr)
  const line = r.stdout.split('\n').find((l) => l.startsWith('MMNPY-H5-RESULT '))!
  const out = JSON.parse(line.slice('MMNPY-H5-RESULT '.length))
  t.deepEqual(out, { mapClosed: true, readClosed: true, dataLength: 0, get: 'ERR_MMNPY_CLOSED', reread: 'ERR_MMNPY_CLOSED' })
})

test('hostile files are refused with clear errors, in a child process', (t) => {
  for (const h of manifest.hostile) {
    const r = spawnSync(process.execPath, [CHILD, 'walk', path.join(GENERATED, h.file)], { encoding: 'utf8', timeout: 60_000 })
    t.is(r.status, 0, `${h.file}: ${r.stderr}`)
    const line = r.stdout.split('\n').find((l) => l.startsWith('MMNPY-H5-RESULT '))
    t.truthy(line, `${h.file}: ${r.stdout} ${r.stderr}`)
    const out = JSON.parse(line!.slice('MMNPY-H5-RESULT '.length))
    const err = out.ok ? out.errors[0] : out
    t.truthy(err, `${h.file} was read without an error`)
    t.is(err.code, h.code, `${h.file}: ${err.message}`)
    t.true(err.message.includes(h.mentions), `${h.file}: ${err.message}`)
    t.true(err.message.includes(h.file), `${h.file}: ${err.message}`)
  }
})
