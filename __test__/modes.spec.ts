// The four mapping modes ('r', 'c', 'r+', 'w+' and their long names) of loadNpy, openNpy and
// memmap: what reaches the file, what other mappings (same process, a worker thread, NumPy) see,
// sparse creation, and the refusals (w+ in loadNpy, unknown modes, short files).
import test from 'ava'
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { performance } from 'node:perf_hooks'
import { Worker } from 'node:worker_threads'

import { loadNpy, openNpy, memmap } from '../index'
import { py, pyAsync, sha256, tmpDir } from './helpers/numpy'

const ROOT = path.resolve(__dirname, '..')
const WORKER = path.join(__dirname, 'helpers', 'map-worker.js')

// A (3, 4) '<f8' file written by NumPy: element [i, j] = 1 + 1.5 * (4 i + j).
const templates = fs.mkdtempSync(path.join(os.tmpdir(), 'mmnpy-modes-'))
const BASE = path.join(templates, 'base.npy')
const val = (i: number, j: number) => 1 + 1.5 * (4 * i + j)
const BASE_LIST = [0, 1, 2].map((i) => [0, 1, 2, 3].map((j) => val(i, j)))

test.before(() => {
  py(`np.save(inp, (1 + 1.5 * np.arange(12, dtype='<f8')).reshape(3, 4))`, BASE)
})
test.after.always(() => fs.rmSync(templates, { recursive: true, force: true }))

/** A private copy of the NumPy base file in a fresh temporary folder. */
function copyBase(t: Parameters<typeof tmpDir>[0], name = 'a.npy'): string {
  const p = path.join(tmpDir(t), name)
  fs.copyFileSync(BASE, p)
  return p
}

/** A raw file of int32 0, 1, ..., n-1 (little-endian). */
function rawInt32(dir: string, n: number, name = 'raw.bin'): string {
  const p = path.join(dir, name)
  fs.writeFileSync(p, Buffer.from(new Int32Array(Array.from({ length: n }, (_, i) => i)).buffer))
  return p
}

function runWorker(data: unknown): Promise<{ values: unknown[] }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER, { workerData: data })
    let result: { values: unknown[] } | undefined
    w.once('message', (m) => (result = m))
    w.once('error', reject)
    w.once('exit', (code) => {
      if (code !== 0) reject(new Error(`worker exited with code ${code}`))
      else if (result === undefined) reject(new Error('worker posted nothing'))
      else resolve(result)
    })
  })
}

// ----------------------------------------------------------------------------- 'r'

test("'r': set throws ERR_MMNPY_READONLY and the file is unchanged", (t) => {
  const p = copyBase(t)
  const before = sha256(p)
  for (const open of [() => loadNpy(p, { mmapMode: 'r' }), () => openNpy(p, { mode: 'r' })]) {
    const a = open()
    t.is(a.mode, 'r')
    t.false(a.flags.writeable)
    const err = t.throws(() => a.set(0, 0, 42), { code: 'ERR_MMNPY_READONLY' })
    t.true(err?.message.includes('assignment destination is read-only'), err?.message)
    t.throws(() => a.slice(1).set(2, 42), { code: 'ERR_MMNPY_READONLY' }, 'a view of a read-only array is read-only')
    t.is(a.get(0, 0), val(0, 0))
    t.notThrows(() => a.flush(), 'flush() is a no-op in r')
    a.close()
  }
  const r = memmap(p, { dtype: 'float64', offset: 128, shape: [3, 4], mode: 'r' })
  t.throws(() => r.set(1, 1, 0), { code: 'ERR_MMNPY_READONLY', message: /assignment destination is read-only/ })
  r.close()
  t.is(sha256(p), before)
})

test("'r': writes through data never reach the file and never crash the process", (t) => {
  const p = copyBase(t)
  const raw = rawInt32(path.dirname(p), 16)
  const before = sha256(p)
  const rawBefore = sha256(raw)
  // In a child process, so that a SIGSEGV (a JS write into a PROT_READ page) is reported, not fatal.
  const script = `
    const { loadNpy, memmap } = require(${JSON.stringify(ROOT)})
    const a = loadNpy(process.argv[1], { mmapMode: 'r' })
    const d = a.data
    d[0] = 42
    d.fill(-7, 4)
    a.slice(2).data[3] = 99
    a.flush()
    const m = memmap(process.argv[2], { dtype: 'int32', mode: 'r' })
    m.data[3] = 1234
    m.slice([8, 12]).data.fill(-1)
    m.flush()
    const b = loadNpy(process.argv[1], { mmapMode: 'r' })
    console.log(JSON.stringify({ len: d.length, other: b.get(0, 0), other2: b.get(2, 3) }))
    a.close(); m.close(); b.close()
  `
  const r = spawnSync(process.execPath, ['-e', script, p, raw], { encoding: 'utf8' })
  t.is(r.signal, null, `child killed by ${r.signal}: ${r.stderr}`)
  t.is(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}')
  t.is(out.len, 12)
  t.is(out.other, val(0, 0), 'a second mapping must not see private writes')
  t.is(out.other2, val(2, 3))
  t.is(sha256(p), before, '.npy file changed')
  t.is(sha256(raw), rawBefore, 'raw file changed')
  const b = loadNpy(p)
  t.deepEqual(b.toArray(), BASE_LIST)
})

// ----------------------------------------------------------------------------- 'c'

test("'c': writes are visible in the array, never in the file; flush() is a no-op", (t) => {
  const p = copyBase(t)
  const before = sha256(p)
  const a = loadNpy(p, { mmapMode: 'c' })
  t.is(a.mode, 'c')
  t.true(a.flags.writeable)
  a.set(0, 0, 100)
  a.data[5] = 200 // [1, 1]
  a.slice(2).data[3] = 300 // [2, 3]
  a.slice(0).set(-1, 400) // [0, 3] through a view
  t.is(a.get(0, 0), 100)
  t.is(a.get(1, 1), 200)
  t.is(a.get(2, 3), 300)
  t.is(a.get(0, 3), 400)
  t.is(a.data[0], 100)
  t.is(a.data[11], 300)
  t.notThrows(() => a.flush())
  t.is(sha256(p), before, 'flush() in c must not write the file')
  const other = loadNpy(p, { mmapMode: 'r' })
  t.is(other.get(0, 0), val(0, 0), 'another mapping must not see c writes')
  t.is(other.get(1, 1), val(1, 1))
  other.close()
  a.close()
  t.is(sha256(p), before)
  t.deepEqual(loadNpy(p).toArray(), BASE_LIST)
})

test("'c' on a raw memmap: private writes, file unchanged", (t) => {
  const raw = rawInt32(tmpDir(t), 10)
  const before = sha256(raw)
  const m = memmap(raw, { dtype: 'int32', mode: 'c' })
  m.set(3, -33)
  m.data[4] = -44
  t.is(m.get(3), -33)
  t.is(m.get(4), -44)
  m.flush()
  m.close()
  t.is(sha256(raw), before)
})

// ----------------------------------------------------------------------------- 'r+'

test("'r+': set and data writes are seen at once by a second mapping in the same process", (t) => {
  const p = copyBase(t)
  const a = loadNpy(p, { mmapMode: 'r+' })
  const b = openNpy(p) // default mode 'r+'
  t.is(b.mode, 'r+')
  const view = memmap(p, { dtype: 'float64', offset: 128, shape: [3, 4], mode: 'r' })
  a.set(0, 1, 11.25)
  t.is(b.get(0, 1), 11.25)
  t.is(view.get(0, 1), 11.25, 'a read-only mapping of the same file sees shared writes')
  a.data[6] = -3.5 // [1, 2]
  t.is(b.get(1, 2), -3.5)
  t.is(b.data[6], -3.5)
  b.data[11] = 77 // [2, 3]
  t.is(a.get(2, 3), 77)
  b.slice(':, 0').set(2, 8.5) // [2, 0] through a strided view
  t.is(a.get(2, 0), 8.5)
  a.close()
  b.close()
  view.close()
})

test("'r+': a worker thread mapping the file itself sees our writes, and we see its writes", async (t) => {
  const p = copyBase(t)
  const a = loadNpy(p, { mmapMode: 'r+' })
  a.set(0, 1, 11.25)
  a.data[6] = -3.5 // [1, 2]
  const seen = await runWorker({ path: p, mode: 'r', reads: [[0, 1], [1, 2], [2, 2]] })
  t.deepEqual(seen.values, [11.25, -3.5, val(2, 2)])
  const d = a.data
  const wrote = await runWorker({ path: p, mode: 'r+', writes: [[[2, 0], 123.5]], reads: [[2, 0]] })
  t.deepEqual(wrote.values, [123.5])
  t.is(a.get(2, 0), 123.5, 'our open mapping sees the worker write')
  t.is(d[8], 123.5, 'and so does the TypedArray handed out before')
  a.close()
})

test("'r+': NumPy sees our writes after flush(), and we see NumPy's", async (t) => {
  const p = copyBase(t)
  const a = loadNpy(p, { mmapMode: 'r+' })
  const d = a.data
  a.set(0, 1, 11.25)
  d[6] = -3.5 // [1, 2]
  a.slice(2).data[3] = 1e300 // [2, 3]
  a.flush()
  const expected = BASE_LIST.map((row) => row.slice())
  expected[0]![1] = 11.25
  expected[1]![2] = -3.5
  expected[2]![3] = 1e300
  const seen = await pyAsync(`m = np.load(inp, mmap_mode='r'); out(m.tolist())`, p)
  t.deepEqual(seen, expected)

  await pyAsync(
    `m = np.load(inp, mmap_mode='r+'); m[1, 0] = -9.75; m[0, 0] = 2.0 ** -1074; m[2, :] = [5, 6, 7, 8]; m.flush(); del m; out(0)`,
    p,
  )
  t.is(a.get(1, 0), -9.75)
  t.is(a.get(0, 0), 2 ** -1074)
  t.is(d[0], 2 ** -1074, 'the TypedArray handed out before sees NumPy writes')
  t.deepEqual(Array.from(a.slice(2).data as Float64Array), [5, 6, 7, 8])
  t.is(a.get(1, 2), -3.5, 'our own earlier write is still there')
  a.close()
})

// ----------------------------------------------------------------------------- refusals

test("loadNpy with mmapMode 'w+' (or 'write') is refused and the file is left unchanged", (t) => {
  const p = copyBase(t)
  const before = sha256(p)
  const size = fs.statSync(p).size
  for (const mode of ['w+', 'write'] as const) {
    const err = t.throws(() => loadNpy(p, { mmapMode: mode }), { code: 'ERR_MMNPY_INVALID_ARG' })
    t.regex(err?.message ?? '', /w\+/, 'the message names the mode')
    t.true(err?.message.includes(path.basename(p)), `the message names the file: ${err?.message}`)
    t.is(fs.statSync(p).size, size)
    t.is(sha256(p), before)
  }
  t.deepEqual(loadNpy(p).toArray(), BASE_LIST)
})

test('unknown mode strings are refused by loadNpy, openNpy and memmap', (t) => {
  const p = copyBase(t)
  const raw = rawInt32(path.dirname(p), 4)
  const before = sha256(p)
  const rawBefore = sha256(raw)
  const bad = ['rw', 'w', 'x', 'R', 'r+ ', 'read', 'readwrite+', 'cow', '']
  for (const mode of bad) {
    const m = mode as 'r'
    t.throws(() => loadNpy(p, { mmapMode: m }), { code: 'ERR_MMNPY_INVALID_ARG' }, `loadNpy mmapMode '${mode}'`)
    t.throws(() => openNpy(p, { mode: m }), { code: 'ERR_MMNPY_INVALID_ARG' }, `openNpy mode '${mode}'`)
    t.throws(() => memmap(raw, { mode: m, dtype: 'int32' }), { code: 'ERR_MMNPY_INVALID_ARG' }, `memmap mode '${mode}'`)
    t.throws(() => memmap(path.join(path.dirname(p), 'new.bin'), { mode: m, shape: [4] }), { code: 'ERR_MMNPY_INVALID_ARG' })
  }
  const err = t.throws(() => openNpy(p, { mode: 'rw' as 'r' }))
  t.regex(err?.message ?? '', /'r'.*'r\+'.*'w\+'.*'c'/, `the message lists the modes: ${err?.message}`)
  t.is(sha256(p), before)
  t.is(sha256(raw), rawBefore)
  t.false(fs.existsSync(path.join(path.dirname(p), 'new.bin')))
})

// ----------------------------------------------------------------------------- 'w+'

test("openNpy 'w+' of 1 GiB is O(1), sparse, zero-filled for NumPy, and flushed values reach NumPy", async (t) => {
  const p = path.join(tmpDir(t), 'big.npy')
  const n = 2 ** 27
  const t0 = performance.now()
  const a = openNpy(p, { mode: 'w+', shape: [n], dtype: 'float64' })
  const ms = performance.now() - t0
  t.teardown(() => a.close())
  t.true(ms < 1000, `openNpy w+ of 1 GiB took ${ms.toFixed(0)} ms`)
  t.is(a.mode, 'w+')
  t.is(a.dtype, 'float64')
  t.deepEqual([...a.shape], [n])
  t.is(a.offset, 128)
  const st = fs.statSync(p)
  t.is(st.size, 128 + 8 * n)
  t.true(st.blocks * 512 < 16 * 2 ** 20, `allocated ${st.blocks * 512} bytes for a 1 GiB file`)
  t.is(a.get(0), 0)
  t.is(a.get(-1), 0)
  a.set(123456, 2.5)
  a.set(-1, -1.25)
  a.data[7] = 3.75
  a.flush()
  t.true(fs.statSync(p).blocks * 512 < 16 * 2 ** 20, 'still sparse after a few writes')
  const r = await pyAsync(
    `m = np.load(inp, mmap_mode='r')
out({'shape': list(m.shape), 'descr': m.dtype.str, 'fortran': bool(m.flags.f_contiguous and not m.flags.c_contiguous),
     'nonzero': int(np.count_nonzero(m[:1 << 20]) + np.count_nonzero(m[1 << 20:-(1 << 20):4099]) + np.count_nonzero(m[-(1 << 20):])), 'a': float(m[123456]), 'b': float(m[-1]), 'c': float(m[7])})`,
    p,
  )
  // 7 and 123456 lie in the first MiB, n - 1 in the last; the middle is sampled every 4099 elements.
  t.deepEqual(r, { shape: [n], descr: '<f8', fortran: false, nonzero: 3, a: 2.5, b: -1.25, c: 3.75 })
})

test("openNpy 'w+' without a shape throws and creates nothing", (t) => {
  const dir = tmpDir(t)
  const p = path.join(dir, 'none.npy')
  t.throws(() => openNpy(p, { mode: 'w+', dtype: 'float64' }), { code: 'ERR_MMNPY_INVALID_ARG', message: /shape/ })
  t.throws(() => openNpy(p, { mode: 'write' }), { code: 'ERR_MMNPY_INVALID_ARG', message: /shape/ })
  t.false(fs.existsSync(p))
  const q = copyBase(t)
  const before = sha256(q)
  t.throws(() => openNpy(q, { mode: 'w+' }), { code: 'ERR_MMNPY_INVALID_ARG' })
  t.is(sha256(q), before, 'an existing file is left alone')
})

// Creation in every order and byte order: the file is byte-identical to what NumPy's
// open_memmap makes with the same values, NumPy reads the values back, and NumPy's writes
// are seen by our still-open mapping.
const CREATE_CASES: { dtype: string; fortranOrder: boolean }[] = [
  { dtype: '>i4', fortranOrder: true },
  { dtype: '>i4', fortranOrder: false },
  { dtype: '<i4', fortranOrder: true },
  { dtype: '>f8', fortranOrder: true },
  { dtype: '<f4', fortranOrder: true },
  { dtype: '>u2', fortranOrder: false },
]

for (const c of CREATE_CASES) {
  test(`openNpy 'w+' ${c.dtype} ${c.fortranOrder ? 'Fortran' : 'C'} order round-trips through NumPy`, async (t) => {
    const dir = tmpDir(t)
    const p = path.join(dir, 'mine.npy')
    const v = (i: number, j: number) => 10 * i + j + 1
    const a = openNpy(p, { mode: 'w+', dtype: c.dtype, shape: [3, 4], fortranOrder: c.fortranOrder })
    t.teardown(() => a.close())
    t.is(a.byteOrder, c.dtype[0] as '<' | '>')
    t.is(a.flags.fContiguous, c.fortranOrder)
    t.is(a.flags.cContiguous, !c.fortranOrder)
    for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) a.set(i, j, v(i, j))
    a.flush()
    const r = await pyAsync(
      `import os
p, ref, descr, fortran = inp
m = np.load(p)
with open(p, 'rb') as f:
    version = np.lib.format.read_magic(f)
    shape, fo, dt = (np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0)(f)
want = np.array([[10 * i + j + 1 for j in range(4)] for i in range(3)], dtype=descr)
mm = np.lib.format.open_memmap(ref, mode='w+', dtype=descr, shape=(3, 4), fortran_order=fortran)
mm[...] = want
mm.flush(); del mm
same = open(p, 'rb').read() == open(ref, 'rb').read()
w = np.load(p, mmap_mode='r+'); w[...] = w * 2 + 1; w.flush(); del w
out({'values': m.tolist(), 'descr': m.dtype.str, 'fortran': fo, 'shape': list(shape), 'identical': same})`,
      [p, path.join(dir, 'ref.npy'), c.dtype, c.fortranOrder],
    )
    const want = [0, 1, 2].map((i) => [0, 1, 2, 3].map((j) => v(i, j)))
    t.deepEqual(r.values, want)
    t.is(r.descr, c.dtype)
    t.is(r.fortran, c.fortranOrder)
    t.deepEqual(r.shape, [3, 4])
    t.true(r.identical, 'file differs from np.lib.format.open_memmap with the same values')
    // NumPy doubled (+1) every element through its own mapping: our open mapping sees it.
    t.deepEqual(a.toArray(), want.map((row) => row.map((x) => 2 * x + 1)))
    const again = openNpy(p, { mode: 'r' })
    t.is(again.get(2, 3), 2 * v(2, 3) + 1)
    t.is(again.flags.fContiguous, c.fortranOrder)
    again.close()
  })
}

// ----------------------------------------------------------------------------- memmap (raw)

test('memmap: shape defaults to the whole file after offset; a size not a multiple of the itemsize errors', (t) => {
  const dir = tmpDir(t)
  const raw = rawInt32(dir, 10) // 40 bytes
  const a = memmap(raw, { dtype: 'int32', mode: 'r' })
  t.deepEqual([...a.shape], [10])
  t.is(a.get(9), 9)
  a.close()
  const b = memmap(raw, { dtype: 'int32', mode: 'r', offset: 8 })
  t.deepEqual([...b.shape], [8])
  t.is(b.get(0), 2)
  t.is(b.offset, 8)
  b.close()
  const u = memmap(raw, { mode: 'r' }) // dtype uint8
  t.is(u.dtype, 'uint8')
  t.deepEqual([...u.shape], [40])
  u.close()
  const f8 = memmap(raw, { dtype: 'float64', mode: 'r' }) // 40 = 5 * 8
  t.deepEqual([...f8.shape], [5])
  f8.close()

  const odd = path.join(dir, 'odd.bin')
  fs.writeFileSync(odd, Buffer.alloc(42))
  t.throws(() => memmap(odd, { dtype: 'int32', mode: 'r' }), { message: /multiple/ })
  t.throws(() => memmap(raw, { dtype: 'int32', mode: 'r', offset: 2 }), { message: /multiple/ }, '38 bytes after offset 2')
  t.throws(() => memmap(raw, { dtype: 'complex128', mode: 'r+' }), { message: /multiple/ })
  t.is(fs.statSync(odd).size, 42)
  t.is(fs.statSync(raw).size, 40)
})

test('memmap: offset as a number and as a bigint', (t) => {
  const raw = rawInt32(tmpDir(t), 10)
  for (const offset of [12, 12n]) {
    const a = memmap(raw, { dtype: 'int32', mode: 'r', offset, shape: [2, 3] })
    t.is(a.offset, 12)
    t.deepEqual(a.toArray(), [[3, 4, 5], [6, 7, 8]])
    a.close()
    const f = memmap(raw, { dtype: 'int32', mode: 'r', offset, shape: [2, 3], order: 'F' })
    t.deepEqual(f.toArray(), [[3, 5, 7], [4, 6, 8]])
    f.close()
  }
  const z = memmap(raw, { dtype: 'int32', mode: 'r', offset: 40n })
  t.deepEqual([...z.shape], [0], 'offset at the end: an empty array')
  z.close()
  t.throws(() => memmap(raw, { dtype: 'int32', mode: 'r', offset: 44n }), { code: 'ERR_MMNPY_TRUNCATED' })
  t.throws(() => memmap(raw, { dtype: 'int32', mode: 'r', offset: 2n ** 60n }))
  t.throws(() => memmap(raw, { dtype: 'int32', mode: 'r', offset: -4 }))
})

test("memmap 'w+' creates a file of offset + nbytes that NumPy reads", async (t) => {
  const dir = tmpDir(t)
  const p = path.join(dir, 'new.bin')
  const a = memmap(p, { mode: 'w+', dtype: 'float32', shape: [5, 3], offset: 100 })
  t.is(a.mode, 'w+')
  t.is(fs.statSync(p).size, 160)
  t.is(a.get(4, 2), 0)
  a.set(4, 2, 1.5)
  a.data[0] = -2
  a.flush()
  const r = await pyAsync(
    `p = inp
m = np.memmap(p, dtype='<f4', mode='r', offset=100, shape=(5, 3))
out({'a': float(m[4, 2]), 'b': float(m[0, 0]), 'nz': int(np.count_nonzero(m)), 'head': int(np.count_nonzero(np.fromfile(p, dtype='u1', count=100)))})`,
    p,
  )
  t.deepEqual(r, { a: 1.5, b: -2, nz: 2, head: 0 })
  a.close()

  // Overwriting a longer existing file: exactly offset + nbytes, like NumPy's w+.
  fs.writeFileSync(p, Buffer.alloc(1000, 0xff))
  const b = memmap(p, { mode: 'w+', dtype: 'int64', shape: [4], offset: 16n })
  t.is(fs.statSync(p).size, 48)
  t.is(b.get(3), 0n)
  b.close()
  const w = memmap(p, { mode: 'write', dtype: 'uint8', shape: [7] })
  t.is(w.mode, 'w+')
  t.is(fs.statSync(p).size, 7)
  w.close()

  const q = path.join(dir, 'noshape.bin')
  t.throws(() => memmap(q, { mode: 'w+', dtype: 'float32' }), { message: /shape/ })
  t.false(fs.existsSync(q))
})

test('a file shorter than offset + shape is refused in every mode (r+ included) and is not extended', (t) => {
  const dir = tmpDir(t)
  const raw = rawInt32(dir, 10) // 40 bytes
  const before = sha256(raw)
  const modes = ['r', 'c', 'r+', 'readonly', 'copyonwrite', 'readwrite'] as const
  for (const mode of modes) {
    t.throws(() => memmap(raw, { dtype: 'int32', mode, shape: [11] }), { code: 'ERR_MMNPY_TRUNCATED' }, `shape [11] mode ${mode}`)
    t.throws(() => memmap(raw, { dtype: 'int32', mode, shape: [10], offset: 4 }), { code: 'ERR_MMNPY_TRUNCATED' }, `offset 4 mode ${mode}`)
    t.throws(() => memmap(raw, { dtype: 'int32', mode, offset: 41 }), { code: 'ERR_MMNPY_TRUNCATED' }, `offset past the end, mode ${mode}`)
    t.throws(() => memmap(raw, { dtype: 'float64', mode, shape: [3, 2], offset: 0n }), { code: 'ERR_MMNPY_TRUNCATED' })
    t.is(fs.statSync(raw).size, 40, `mode ${mode} changed the size`)
  }
  t.is(sha256(raw), before)
  const ok = memmap(raw, { dtype: 'int32', mode: 'r+', shape: [10] })
  t.is(ok.get(9), 9, 'an exact fit is fine')
  ok.close()

  // The same for a .npy file whose data is cut short.
  const p = copyBase(t, 'short.npy')
  fs.truncateSync(p, 128 + 8 * 11)
  const shortBefore = sha256(p)
  for (const mode of modes) {
    t.throws(() => loadNpy(p, { mmapMode: mode }), { code: 'ERR_MMNPY_TRUNCATED' }, `loadNpy ${mode}`)
    t.throws(() => openNpy(p, { mode }), { code: 'ERR_MMNPY_TRUNCATED' }, `openNpy ${mode}`)
  }
  t.throws(() => loadNpy(p), { code: 'ERR_MMNPY_TRUNCATED' })
  t.is(fs.statSync(p).size, 128 + 8 * 11)
  t.is(sha256(p), shortBefore)
})

// ----------------------------------------------------------------------------- long names

test("long mode names: 'readonly', 'readwrite', 'copyonwrite', 'write'", (t) => {
  const p = copyBase(t)
  const before = sha256(p)

  const ro = loadNpy(p, { mmapMode: 'readonly' })
  t.is(ro.mode, 'r')
  t.throws(() => ro.set(0, 0, 1), { code: 'ERR_MMNPY_READONLY' })
  const ro2 = openNpy(p, { mode: 'readonly' })
  t.is(ro2.mode, 'r')
  ro2.close()

  const cow = loadNpy(p, { mmapMode: 'copyonwrite' })
  t.is(cow.mode, 'c')
  cow.set(0, 0, -1)
  t.is(cow.get(0, 0), -1)
  const cow2 = openNpy(p, { mode: 'copyonwrite' })
  t.is(cow2.mode, 'c')
  cow2.close()
  cow.close()
  t.is(sha256(p), before, 'copyonwrite wrote the file')

  const rw = loadNpy(p, { mmapMode: 'readwrite' })
  t.is(rw.mode, 'r+')
  rw.set(1, 1, 64)
  t.is(ro.get(1, 1), 64, 'readwrite writes are shared')
  const rw2 = openNpy(p, { mode: 'readwrite' })
  t.is(rw2.mode, 'r+')
  rw2.close()
  rw.close()
  ro.close()

  const q = path.join(path.dirname(p), 'created.npy')
  const w = openNpy(q, { mode: 'write', shape: [2, 2], dtype: 'int16' })
  t.is(w.mode, 'w+')
  t.is(w.dtype, 'int16')
  w.close()
  t.is(fs.statSync(q).size, 128 + 8)

  const raw = rawInt32(path.dirname(p), 4)
  for (const [mode, short] of [['readonly', 'r'], ['readwrite', 'r+'], ['copyonwrite', 'c']] as const) {
    const m = memmap(raw, { dtype: 'int32', mode })
    t.is(m.mode, short)
    m.close()
  }
  const mw = memmap(path.join(path.dirname(p), 'w.bin'), { mode: 'write', dtype: 'int32', shape: [3] })
  t.is(mw.mode, 'w+')
  mw.close()
  t.is(fs.statSync(path.join(path.dirname(p), 'w.bin')).size, 12)
})
