// Calls on small arrays go through the small-call path (`crates/node/src/window.rs`): the
// kernels run on the arrays' memory passed as ArrayBuffers, and new small results live in
// plain ArrayBuffers (`Storage.small`) until something needs their native array. Results
// must equal NumPy's; a result is one array whatever happens to it (handed-out memory,
// writes, native calls, async calls, workers' transfers), and operands that share memory
// with `out` are computed as NumPy computes them.
import test from 'ava'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import { array, zeros, saveNpy, loadNpy } from '../index'
import type { NdArray } from '../index'
import { py } from './helpers/numpy'

const f64 = (n: number, f: (i: number) => number) => array(Float64Array.from({ length: n }, (_, i) => f(i)))
const bitsOf = (a: NdArray) => Array.from(new Uint8Array(a.astype('float64').toTypedArray().buffer))

test('small results: values, then handed-out memory, writes and native calls all see one array', (t) => {
  const a = f64(1000, (i) => (i % 7) * 0.1)
  const b = f64(1000, (i) => 1 / (i + 1))
  const r = a.add(b)
  t.is(r.dtype, 'float64')
  t.deepEqual(r.shape, [1000])
  const want = py(`a = np.arange(1000) % 7 * 0.1; b = 1 / (np.arange(1000) + 1.0); out(list(np.frombuffer((a + b).tobytes(), np.uint8).tolist()))`)
  t.deepEqual(bitsOf(r), want)
  // Written before anything native exists, read back by a kernel, then by `data`.
  r.set(3, 100)
  t.is(r.get(3), 100)
  const s = r.sum()
  const d = r.data as Float64Array
  t.is(d[3], 100)
  // Written through `data` (memory handed out): every reader sees it.
  d[4] = -5
  t.is(r.get(4), -5)
  t.is(r.max(), 100)
  t.not(r.sum(), s)
  t.is(r.slice([4, 5]).sum(), -5)
  // An async call takes the native array.
  return r.sumAsync().then((v) => t.is(v, r.sum()))
})

test('small axis reductions and chains of small results equal NumPy', (t) => {
  // Math.sin and np.sin may differ in the last bit: NumPy gets these very values.
  const values = Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 1e3)
  const m = array(Float64Array.from(values)).reshape([40, 25])
  const got = [m.sum({ axis: 0 }), m.sum({ axis: -1 }), m.mean({ axis: 0 }), m.var({ axis: 1, ddof: 1 }), m.max({ axis: 0 }), m.argmin({ axis: 1 })]
  const want = py(`
m = np.array(inp, dtype=np.float64).reshape(40, 25)
rs = [m.sum(axis=0), m.sum(axis=-1), m.mean(axis=0), m.var(axis=1, ddof=1), m.max(axis=0), m.argmin(axis=1)]
out([[str(r.dtype), list(r.shape), r.astype(np.float64).tobytes().hex()] for r in rs])`, values)
  for (const [i, r] of got.entries()) {
    t.deepEqual([r.dtype, [...r.shape], Buffer.from(new Uint8Array(r.astype('float64').toTypedArray().buffer)).toString('hex')], want[i], `reduction ${i}`)
  }
  // A small result as the operand of the next calls, and its own reduction.
  const c = got[0]!.mul(got[0]!).sub(got[2]!).div(got[0]!)
  const w = py(`
m = np.array(inp, dtype=np.float64).reshape(40, 25)
s = m.sum(axis=0); c = (s * s - m.mean(axis=0)) / s
out([c.tobytes().hex(), float(c.sum())])`, values)
  t.is(Buffer.from(new Uint8Array(c.toTypedArray().buffer)).toString('hex'), w[0])
  t.is(c.sum(), w[1])
})

test('an operand that is also out is computed as NumPy computes it', (t) => {
  const a = f64(64, (i) => i * 1.5)
  a.add(a, { out: a })
  const rev = f64(64, (i) => i)
  // Overlapping views in opposite orders: NumPy computes into a copy first.
  rev.slice([1, null]).add(rev.slice([null, -1]), { out: rev.slice([null, -1]) })
  const want = py(`
a = np.arange(64) * 1.5; np.add(a, a, out=a)
r = np.arange(64.0); np.add(r[1:], r[:-1], out=r[:-1])
out([a.tolist(), r.tolist()])`)
  t.deepEqual(Array.from(a.toTypedArray() as Float64Array), want[0])
  t.deepEqual(Array.from(rev.toTypedArray() as Float64Array), want[1])
})

test('whole arrays of one shape (no views passed): every op and dtype pair, out as an operand, a fresh out, a slab neighbour', (t) => {
  // The flat small-call path (`binaryFlat`): float64/float32 straight over the memories, other
  // dtypes through contiguous layouts; the bytes must be NumPy's, and a neighbouring small
  // result in the same slab must keep its bytes.
  const ops = ['add', 'sub', 'mul', 'div'] as const
  const got: string[] = []
  for (const [ad, bd] of [['float64', 'float64'], ['float32', 'float32'], ['int32', 'int32'], ['float32', 'float64'], ['int32', 'float32'], ['uint8', 'int64']] as const) {
    for (const op of ops) {
      const a = f64(35, (i) => (i % 9) - (ad === 'uint8' ? 0 : 3)).reshape([5, 7]).astype(ad)
      const b = f64(35, (i) => (i % 4) + 1).reshape([5, 7]).astype(bd)
      const fresh = a[op](b)
      const neighbour = a[op](b)
      const out = zeros([5, 7], { dtype: fresh.dtype })
      a[op](b, { out })
      const hex = (x: NdArray) => Buffer.from(new Uint8Array(x.toTypedArray().buffer)).toString('hex')
      got.push(hex(fresh), hex(out))
      // out is a (or b): computed in place, same positions.
      if (fresh.dtype === ad) {
        const a2 = a.copy()
        a2[op](b, { out: a2 })
        got.push(hex(a2))
      }
      if (fresh.dtype === bd) {
        const c = b.copy()
        a[op](c, { out: c })
        got.push(hex(c))
      }
      t.is(hex(neighbour), hex(fresh))
    }
  }
  const expect = py(`
res = []
for ad, bd in [('float64', 'float64'), ('float32', 'float32'), ('int32', 'int32'), ('float32', 'float64'), ('int32', 'float32'), ('uint8', 'int64')]:
    for f in [np.add, np.subtract, np.multiply, np.divide]:
        a = ((np.arange(35) % 9) - (0 if ad == 'uint8' else 3)).astype(np.float64).reshape(5, 7).astype(ad)
        b = ((np.arange(35) % 4) + 1).astype(np.float64).reshape(5, 7).astype(bd)
        fresh = f(a, b)
        res += [fresh.tobytes().hex(), fresh.tobytes().hex()]
        if fresh.dtype == a.dtype:
            a2 = a.copy(); f(a2, b, out=a2); res.append(a2.tobytes().hex())
        if fresh.dtype == b.dtype:
            c = b.copy(); f(a, c, out=c); res.append(c.tobytes().hex())
out(res)`)
  t.deepEqual(got, expect)
})

test('small results close, save, load and go to mixed dtypes like any array', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmnpy-small-'))
  try {
    const a = array(Int32Array.from([1, 2, 3, 4]))
    const b = array(Float32Array.from([0.5, 0.25, 0.125, 1]))
    const r = a.mul(b)
    t.is(r.dtype, 'float64')
    t.deepEqual(Array.from(r.toTypedArray() as Float64Array), [0.5, 0.5, 0.375, 4])
    const f = path.join(dir, 'r.npy')
    saveNpy(f, r)
    t.deepEqual(Array.from(loadNpy(f).toTypedArray() as Float64Array), [0.5, 0.5, 0.375, 4])
    const q = b.add(b)
    t.is(q.dtype, 'float32')
    q.close()
    t.true(q.closed)
    t.throws(() => q.get(0), { code: 'ERR_MMNPY_CLOSED' })
    t.throws(() => q.sum(), { code: 'ERR_MMNPY_CLOSED' })
    const z = zeros([3])
    t.throws(() => z.add(zeros([4])), { code: 'ERR_MMNPY_INVALID_ARG' })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('small results share slabs without sharing memory: neighbours, odd sizes, alignment, close and handed-out data', (t) => {
  // Pieces of one slab (`Storage.small`): many results of odd byte sizes made in a row, each
  // written by its own kernel; none may see another's bytes, whatever happens to a neighbour.
  const made: [NdArray, number[]][] = []
  for (let k = 0; k < 40; k++) {
    const n = 1 + ((k * 37) % 301)
    const a = f64(n, (i) => (i + k) % 50)
    const dt = (['float64', 'float32', 'int8', 'int16', 'complex128'] as const)[k % 5]!
    const src = a.astype(dt)
    const r = src.add(src)
    made.push([r, Array.from({ length: n }, (_, i) => 2 * ((i + k) % 50))])
  }
  for (const [r, want] of made) {
    t.true(r.flags.aligned, `${r.dtype} ${r.size}`)
    const got = r.dtype === 'complex128' ? (r.toArray() as { re: number }[]).map((z) => z.re) : (r.toArray() as number[]).map(Number)
    t.deepEqual(got, want, `${r.dtype} ${r.size}`)
  }
  // Memory handed out is the result's own copy: exactly its elements, no neighbour's.
  const [r0] = made[0]!
  const d = r0.data as Float64Array
  t.is(d.length, r0.size)
  t.is(d.byteLength, r0.nbytes)
  d.fill(-1)
  made[0]![1] = made[0]![1].map(() => -1)
  // Closing and writing neighbours leaves the others alone.
  made[1]![0].close()
  made[2]![0].set(0, 99)
  made[2]![1][0] = 99
  for (const [r, want] of made.slice(2).concat([made[0]!])) {
    if (r.dtype !== 'float64') continue
    t.deepEqual(r.toArray(), want, `float64 ${r.size} after its neighbours changed`)
  }
  t.throws(() => made[1]![0].sum(), { code: 'ERR_MMNPY_CLOSED' })
})

test('shape and strides are frozen when handed out, also for views made and used before', (t) => {
  const a = f64(12, (i) => i).reshape([3, 4])
  const v = a.slice([1, 3], [null, null, 2])
  t.is(v.sum(), 4 + 6 + 8 + 10)
  t.true(Object.isFrozen(v.shape))
  t.true(Object.isFrozen(v.strides))
  t.deepEqual(v.shape, [2, 2])
  t.deepEqual(v.strides, [32, 16])
  t.throws(() => (v.shape as number[]).push(1))
  t.true(Object.isFrozen(a.add(a).shape))
})
