// Arrays over 4 GiB (more than one TypedArray holds on Node 20): a 5.5 GiB sparse float64 .npy
// file made with openNpy 'w+'; elements before and past the 4 GiB mark via get/set, NumPy,
// chunks(), slices, toArray(); `data` of the whole refuses, naming chunks().
import test from 'ava'
import { constants as bufferConstants } from 'node:buffer'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { performance } from 'node:perf_hooks'

import { openNpy } from '../index'
import { pyAsync } from './helpers/numpy'

type Arr = ReturnType<typeof openNpy>

const GiB = 2 ** 30
const MAX_LENGTH = bufferConstants.MAX_LENGTH
const BYTES = 5.5 * GiB
const N = BYTES / 8 // 738197504 float64
const HEADER = 128
const B4 = 2 ** 29 // first element whose data byte offset is 4 GiB
const F4 = (2 ** 32 - HEADER) / 8 // first element at file offset 4 GiB (2^29 - 16)
const CHUNK_ROWS = (512 * 2 ** 20) / 8 // 2^26 elements per 512 MiB chunk

// Values written before the NumPy and chunk checks: index -> value.
const VALUES = new Map<number, number>([
  [10, 1.25],
  [F4 - 1, -2.5],
  [F4, 3.5],
  [B4 - 1, 4.75],
  [B4 + 7, 42.125],
  [B4 + 100_000_000, -7.5],
  [N - 1, 9.875],
])
// Markers at every 512 MiB chunk start except 0 and B4 (which hold ordinary markers too).
for (let k = 0; k * CHUNK_ROWS < N; k++) VALUES.set(k * CHUNK_ROWS, 1000 + k)

// Sparse files use almost no space, but the file system must hold a few dirty pages.
const TMP = os.tmpdir()
const stats = fs.statfsSync(TMP)
const free = stats.bavail * stats.bsize
const enough = free >= GiB
const maybe = enough ? test.serial : test.serial.skip
if (!enough) {
  test('large arrays (skipped)', (t) => {
    t.log(`only ${(free / GiB).toFixed(2)} GiB free in ${TMP}; the >4 GiB tests need 1 GiB`)
    t.pass()
  })
}

let dir = ''
let file = ''
let a: Arr | undefined
let openMs = 0

test.before(() => {
  if (!enough) return
  dir = fs.mkdtempSync(path.join(TMP, 'mmnpy-large-'))
  file = path.join(dir, 'big.npy')
  const t0 = performance.now()
  a = openNpy(file, { mode: 'w+', dtype: 'float64', shape: [N] })
  openMs = performance.now() - t0
})
test.after.always(() => {
  a?.close()
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

const arr = (): Arr => {
  if (!a) throw new Error('the array was not created')
  return a
}

maybe('openNpy w+ of 5.5 GiB is fast and sparse', (t) => {
  const x = arr()
  t.true(openMs < 2000, `openNpy took ${openMs.toFixed(0)} ms`)
  t.deepEqual([...x.shape], [N])
  t.is(x.size, N)
  t.is(x.nbytes, BYTES)
  t.is(x.offset, HEADER)
  const st = fs.statSync(file)
  t.is(st.size, HEADER + BYTES)
  t.true(st.blocks * 512 < 64 * 2 ** 20, `allocated ${st.blocks * 512} bytes`)
})

maybe('set and get before and past the 4 GiB mark', (t) => {
  const x = arr()
  t.is(x.get(B4 + 7), 0, 'a fresh w+ array reads zeros past 4 GiB')
  t.is(x.get(N - 1), 0)
  for (const [i, v] of VALUES) x.set(i, v)
  for (const [i, v] of VALUES) t.is(x.get(i), v, `get(${i})`)
  t.is(x.get(-1), VALUES.get(N - 1)!)
  t.is(x.get(BigInt(B4 + 7)), 42.125, 'bigint index')
  x.set(BigInt(B4 + 8), 0.5)
  t.is(x.get(B4 + 8), 0.5)
  x.set(B4 + 8, 0)
  t.is(x.get(B4 + 6), 0, 'the neighbours are untouched')
  t.is(x.get(B4 + 9), 0)
  t.throws(() => x.get(N), { instanceOf: RangeError })
  t.throws(() => x.set(N, 1), { instanceOf: RangeError })
})

maybe('flush(), then NumPy reads the values before and past 4 GiB', async (t) => {
  const x = arr()
  x.flush()
  const idx = [...VALUES.keys()]
  const r = await pyAsync(
    `path, idx = inp
m = np.load(path, mmap_mode='r')
out({'shape': list(m.shape), 'descr': m.dtype.str, 'values': [float(m[i]) for i in idx], 'zeros': [float(m[i + 1]) for i in idx[:1]]})`,
    [file, idx],
  )
  t.deepEqual(r.shape, [N])
  t.is(r.descr, '<f8')
  t.deepEqual(r.values, [...VALUES.values()])
  t.deepEqual(r.zeros, [0])
  t.true(fs.statSync(file).blocks * 512 < 64 * 2 ** 20, 'still sparse after the writes')
})

// The largest ArrayBuffer is the runtime's (Node 20: 4 GiB; Node 22 and later: 2^53 - 1 bytes):
// `data` over 4 GiB throws where the runtime cannot hold it, and works where it can.
// (Never hand ava a 5 GiB TypedArray to print: compare lengths and elements.)
maybe(`data of the whole array follows the runtime's buffer limit (${MAX_LENGTH} bytes here)`, (t) => {
  const x = arr()
  if (BYTES > MAX_LENGTH) {
    const err = t.throws(() => x.data, { code: 'ERR_MMNPY_TOO_LARGE' })
    t.true(err?.message.includes('chunks()'), err?.message)
    t.throws(() => x.slice([0, B4 + 1]).data, { code: 'ERR_MMNPY_TOO_LARGE', message: /chunks\(\)/ }, 'a view over 4 GiB')
  } else {
    let d: Float64Array | undefined
    t.notThrows(() => {
      d = x.data as Float64Array
    })
    t.is(d?.length, N)
    for (const [i, v] of VALUES) t.is(d?.[i], v, `data[${i}]`)
    const v = x.slice([0, B4 + 1]).data as Float64Array
    t.is(v.length, B4 + 1, 'a view over 4 GiB')
    t.is(v[B4 - 1], VALUES.get(B4 - 1))
  }
  t.throws(() => x.slice('::2').data, { message: /chunks\(\)/ }, 'a strided view')
})

maybe('chunks({ bytes: 512 MiB }) covers the array exactly once', (t) => {
  const x = arr()
  let total = 0
  let k = 0
  const starts: number[] = []
  for (const c of x.chunks({ bytes: 512 * 2 ** 20 })) {
    t.is(c.ndim, 1)
    starts.push(total)
    t.is(c.get(0), VALUES.get(total)!, `chunk ${k} starts at element ${total}`)
    if (total <= F4 && F4 < total + c.size) {
      // This chunk straddles file offset 4 GiB.
      t.is(c.get(F4 - 1 - total), -2.5)
      t.is(c.get(F4 - total), 3.5)
      t.is(c.get(B4 - 1 - total), 4.75)
      t.is(c.get(-1), 4.75)
    }
    if (total === B4) {
      t.is(c.get(7), 42.125)
      t.is(c.data[7], 42.125, 'data of a 512 MiB chunk past 4 GiB')
      t.is(c.data.length, CHUNK_ROWS)
    }
    total += c.size
    k++
  }
  t.is(total, N)
  t.is(k, Math.ceil(N / CHUNK_ROWS))
  t.deepEqual(starts, Array.from({ length: k }, (_, i) => i * CHUNK_ROWS))
})

maybe('a chunk straddling the 4 GiB data boundary reads and writes correctly, also through data', (t) => {
  const x = arr()
  const rows = 3 * 2 ** 24 + 1 // 384 MiB + 8 bytes: the boundaries fall anywhere, the last chunk is short
  let start = 0
  let total = 0
  let straddled = false
  for (const c of x.chunks({ rows })) {
    t.is(c.size, Math.min(rows, N - start))
    if (start < B4 && B4 < start + c.size) {
      straddled = true
      t.is(c.get(B4 - 1 - start), 4.75)
      t.is(c.get(B4 + 7 - start), 42.125)
      const d = c.data as Float64Array
      t.is(d.length, c.size)
      t.is(d[B4 - 1 - start], 4.75)
      t.is(d[B4 + 7 - start], 42.125)
      t.is(d[B4 - start], VALUES.get(B4))
      d[B4 + 3 - start] = -0.25
      t.is(x.get(B4 + 3), -0.25, 'a write through the chunk data is seen by the array')
      x.set(B4 + 3, 0)
      t.is(d[B4 + 3 - start], 0)
    }
    if (start + c.size === N) t.is(c.get(-1), 9.875)
    start += c.size
    total += c.size
  }
  t.true(straddled, 'no chunk straddled the 4 GiB boundary')
  t.is(total, N)
})

maybe('slices past 4 GiB: data and toArray()', (t) => {
  const x = arr()
  const v = x.slice([B4, B4 + 10])
  t.deepEqual([...v.shape], [10])
  t.is(v.offset, HEADER + 2 ** 32)
  const d = v.data as Float64Array
  t.is(d.length, 10)
  t.is(d[7], 42.125)
  t.is(d[0], VALUES.get(B4))
  t.deepEqual(x.slice([B4 + 5, B4 + 9]).toArray(), [0, 0, 42.125, 0])
  t.deepEqual(x.slice('-3:').toArray(), [0, 0, 9.875])
  t.deepEqual(x.slice([B4 + 8, B4 + 5, -1]).toArray(), [0, 42.125, 0])
  t.deepEqual(Array.from(x.slice([N - 2, N]).toTypedArray() as Float64Array), [0, 9.875])
  const far = x.slice([B4 + 100_000_000 - 1, B4 + 100_000_000 + 2])
  t.deepEqual(far.toArray(), [0, -7.5, 0])
  t.deepEqual(Array.from(far.data as Float64Array), [0, -7.5, 0])
})

maybe('close() detaches everything; the file keeps the values', async (t) => {
  const x = arr()
  const d = x.slice([B4, B4 + 10]).data
  x.close()
  t.true(x.closed)
  t.is(d.length, 0, 'a TypedArray handed out is detached')
  t.throws(() => x.get(B4 + 7), { code: 'ERR_MMNPY_CLOSED' })
  const r = await pyAsync(`m = np.load(inp[0], mmap_mode='r'); out([float(m[i]) for i in inp[1]])`, [file, [B4 + 7, N - 1]])
  t.deepEqual(r, [42.125, 9.875])
})
