// Sparse matrices: every file scipy.sparse.save_npz writes (csr/csc/coo/bsr/dia, *_matrix and
// *_array, int32 and int64 indices, compressed and stored) loaded in memory and mapped; products
// (vector, dense matrix, integer vector), toarray, sums and conversions bit-identical to SciPy's;
// larger random / banded / empty-row / skewed / non-canonical matrices multiplied on all threads
// against SciPy; Node-written files read by SciPy in a spawned python3; products into a mapped
// 'w+' array; malformed files and parts refused with ERR_MMNPY_* naming the file; close().
//
// The fixtures come from __test__/fixtures/make_sparse_fixtures.py (run by the test runner, and
// here when the manifest is missing).
import test from 'ava'
import { execFileSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import { loadSparse, saveSparse, csr, csc, coo, loadNpz, loadNpy, openNpy, array, residentMemory, NdArray, SparseMatrix } from '../index'
import { pyAsync, tmpDir } from './helpers/numpy'

const FIXTURES = path.join(__dirname, 'fixtures')
const GENERATED = path.join(FIXTURES, 'generated', 'sparse')
const MANIFEST = path.join(GENERATED, 'manifest.json')

if (!fs.existsSync(MANIFEST)) {
  execFileSync('python3', [path.join(FIXTURES, 'make_sparse_fixtures.py'), GENERATED], { stdio: 'inherit' })
}

interface Good {
  file: string
  expect: string
  format: string
  loaded: string
  isArray: boolean
  indexDtype: string
  dtype: string
  shape: [number, number]
  nnz: number
  compressed: boolean
  pattern: string
}
interface Hostile { file: string; code: string; mentions: string; deferred: boolean }
const manifest: { good: Good[]; hostile: Hostile[] } = JSON.parse(fs.readFileSync(MANIFEST, 'utf8'))

/** The elements' bytes in C order. */
function bytesOf(a: NdArray): Buffer {
  const t = a.toTypedArray()
  return Buffer.from(t.buffer, t.byteOffset, t.byteLength)
}

function same(t: import('ava').ExecutionContext, got: NdArray, want: NdArray, what: string): void {
  t.is(got.dtype, want.dtype, `${what}: dtype`)
  t.deepEqual([...got.shape], [...want.shape], `${what}: shape`)
  t.true(bytesOf(got).equals(bytesOf(want)), `${what}: values differ from SciPy's`)
}

function closing<T extends { close(): void }>(t: import('ava').ExecutionContext, x: T): T {
  t.teardown(() => x.close())
  return x
}

test('every SciPy-written file: products, toarray, sums and conversions are bit-identical to SciPy', async (t) => {
  t.true(manifest.good.length >= 30)
  const formats = new Set(manifest.good.map((g) => `${g.format}/${g.isArray}/${g.indexDtype}/${g.compressed}`))
  t.true(formats.size >= 16, 'formats, classes, index dtypes and compression all covered')
  for (const g of manifest.good) {
    const exp = closing(t, loadNpz(path.join(GENERATED, g.expect)))
    for (const mmapMode of [undefined, 'r', 'c'] as const) {
      const A = closing(t, loadSparse(path.join(GENERATED, g.file), { mmapMode }))
      const f = `${g.file} (${mmapMode ?? 'memory'})`
      t.is(A.format as string, g.loaded, f)
      t.deepEqual([...A.shape], g.shape, f)
      t.is(A.isArray, g.isArray, f)
      t.is(A.dtype as string, g.dtype, f)
      if (g.format === g.loaded) {
        t.is(A.nnz, g.nnz, f)
        t.is(A.indexDtype as string, g.indexDtype, f)
      }
      t.is(A.filename, path.resolve(GENERATED, g.file))
      for (const [x, y] of [['x', 'y'], ['X', 'Y'], ['xi', 'yi']]) {
        same(t, A.dot(exp.get(x!)), exp.get(y!), `${f}: A @ ${x}`)
      }
      same(t, await A.dotAsync(exp.get('x')), exp.get('y'), `${f}: dotAsync`)
      same(t, A.toDense(), exp.get('dense'), `${f}: toarray`)
      if (!exp.has('sum')) continue
      const s = A.sum()
      const want = exp.get('sum').get()
      t.deepEqual(s, want, `${f}: sum()`)
      same(t, A.sum({ axis: 0 }) as NdArray, exp.get('sum0'), `${f}: sum(axis=0)`)
      same(t, A.sum({ axis: -1 }) as NdArray, exp.get('sum1'), `${f}: sum(axis=1)`)
      for (const to of ['csr', 'csc', 'coo'] as const) {
        const B = to === 'csr' ? A.tocsr() : to === 'csc' ? A.tocsc() : A.tocoo()
        same(t, B.data, exp.get(`${to}_data`), `${f}: to${to}().data`)
        const [a, b] = to === 'coo' ? [B.row!, B.col!] : [B.indices!, B.indptr!]
        const [na, nb] = to === 'coo' ? ['row', 'col'] : ['indices', 'indptr']
        t.deepEqual(a.astype('int64').toArray(), exp.get(`${to}_${na}`).astype('int64').toArray(), `${f}: to${to}().${na}`)
        t.deepEqual(b.astype('int64').toArray(), exp.get(`${to}_${nb}`).astype('int64').toArray(), `${f}: to${to}().${nb}`)
        B.close()
      }
    }
  }
})

test('stored members are mapped in place; deflated ones are inflated', (t) => {
  const stored = manifest.good.find((g) => !g.compressed && g.format === 'csr')!
  const A = closing(t, loadSparse(path.join(GENERATED, stored.file), { mmapMode: 'r' }))
  t.is(A.data.mode, 'r')
  t.is(A.indices!.mode, 'r')
  t.is(A.data.filename, path.resolve(GENERATED, stored.file))
  const z = manifest.good.find((g) => g.compressed && g.format === 'csr')!
  const B = closing(t, loadSparse(path.join(GENERATED, z.file), { mmapMode: 'r' }))
  t.is(B.data.mode, null)
  const e = t.throws(() => loadSparse(path.join(GENERATED, stored.file), { mmapMode: 'r+' })) as Error & { code: string }
  t.is(e.code, 'ERR_MMNPY_UNSUPPORTED_MODE')
})

test('larger random, banded, empty-row, skewed, non-canonical and wide matrices: all threads, bit-identical to SciPy', async (t) => {
  const dir = tmpDir(t, 'mmnpy-sparse-')
  const cases: { name: string; format: string }[] = await pyAsync(
    `
import scipy.sparse as sp
d = inp
rng = np.random.default_rng(7)
out_cases = []
def save(name, A):
    sp.save_npz(f'{d}/{name}.npz', A, compressed=False)
    x = rng.standard_normal(A.shape[1])
    X = rng.standard_normal((A.shape[1], 4)).astype(np.float32)
    np.save(f'{d}/{name}.x.npy', x); np.save(f'{d}/{name}.y.npy', A @ x)
    np.save(f'{d}/{name}.X.npy', X); np.save(f'{d}/{name}.Y.npy', np.asarray(A @ X))
    out_cases.append({'name': name, 'format': A.format})
m, n = 60000, 50000
save('random', sp.random_array((m, n), density=2e-4, format='csr', rng=rng, dtype=np.float64))
save('random32', sp.random_array((m, n), density=2e-4, format='csr', rng=rng, dtype=np.float32))
save('banded', sp.diags_array([rng.standard_normal(m - abs(k)) for k in range(-5, 6)], offsets=list(range(-5, 6)), shape=(m, m), format='csr'))
A = sp.random_array((m, n), density=1e-4, format='lil', rng=rng).tocsr()
A = A[np.sort(rng.choice(m, m // 2, replace=False))]
A = sp.vstack([A, sp.csr_array((m // 2, n))]).tocsr()[rng.permutation(m)]
save('emptyrows', sp.csr_array(A))
S = sp.random_array((m, n), density=5e-5, format='lil', rng=rng)
S[7, :] = rng.standard_normal(n)
S[m - 1, ::2] = 1.5
save('skewed', sp.csr_array(S))
r = rng.integers(0, 3000, 200000); c = rng.integers(0, 2000, 200000)
C = sp.coo_array((rng.standard_normal(200000), (r, c)), shape=(3000, 2000))
save('coo_dups', C)
P = sp.csr_array(C.tocsr()); P.indices = P.indices[::-1].copy(); P.data = P.data[::-1].copy(); P.indptr = (P.indptr[-1] - P.indptr[::-1]).copy()
save('csr_unsorted', sp.csr_array((P.data, P.indices, P.indptr), shape=P.shape))
save('csc', sp.csc_array(S))
# x of 4.8 MB gathered at random: the kernel copies it into huge pages first.
save('wide', sp.random_array((20000, 600000), density=1.7e-5, format='csr', rng=rng, dtype=np.float64))
out(out_cases)
`,
    dir,
  )
  t.is(cases.length, 9)
  for (const c of cases) {
    const A = closing(t, loadSparse(path.join(dir, `${c.name}.npz`), { mmapMode: 'r' }))
    t.is(A.format as string, c.format)
    t.is(A.data.mode, 'r')
    const x = closing(t, loadNpy(path.join(dir, `${c.name}.x.npy`), { mmapMode: 'r' }))
    const X = closing(t, loadNpy(path.join(dir, `${c.name}.X.npy`), { mmapMode: 'r' }))
    same(t, A.dot(x), loadNpy(path.join(dir, `${c.name}.y.npy`)), `${c.name}: A @ x`)
    same(t, await A.dotAsync(x, { release: true }), loadNpy(path.join(dir, `${c.name}.y.npy`)), `${c.name}: A @ x (async, streaming)`)
    same(t, A.dot(X), loadNpy(path.join(dir, `${c.name}.Y.npy`)), `${c.name}: A @ X`)
  }
})

test('dot writes into a mapped w+ array; NumPy reads the product', async (t) => {
  const dir = tmpDir(t, 'mmnpy-sparse-')
  const g = manifest.good.find((x) => x.format === 'csr' && x.dtype === 'float64' && x.pattern === 'skewed')!
  const A = closing(t, loadSparse(path.join(GENERATED, g.file), { mmapMode: 'r' }))
  const exp = closing(t, loadNpz(path.join(GENERATED, g.expect)))
  const outFile = path.join(dir, 'y.npy')
  const out = closing(t, openNpy(outFile, { mode: 'w+', dtype: 'float64', shape: [A.shape[0], 3] }))
  t.is(A.dot(exp.get('X'), { out }), out)
  out.flush()
  const equal = await pyAsync(`out(bool(np.array_equal(np.load(inp[0]), np.load(inp[1])['Y'])))`, [outFile, path.join(GENERATED, g.expect)])
  t.true(equal)
  const y = closing(t, openNpy(path.join(dir, 'y1.npy'), { mode: 'w+', dtype: 'float64', shape: [A.shape[0]] }))
  t.is(await A.dotAsync(exp.get('x'), { out: y }), y)
  same(t, y, exp.get('y'), 'dotAsync into out')
  const bad = t.throws(() => A.dot(exp.get('x'), { out: array(new Float32Array(A.shape[0])) })) as Error & { code: string }
  t.is(bad.code, 'ERR_MMNPY_INVALID_ARG')
  t.regex(bad.message, /dtype/)
  const ro = closing(t, loadNpy(outFile, { mmapMode: 'r' }))
  t.is((t.throws(() => A.dot(exp.get('X'), { out: ro })) as Error & { code: string }).code, 'ERR_MMNPY_READONLY')
})

test('dot into out: a contiguous out is written in place; an out that overlaps x or is strided equals the fresh product', (t) => {
  // Row i reads x[i - 2 .. i] (a lower band): a kernel writing y[i] straight into an out that
  // is (or overlaps) x would change what later rows read. Those outs go through a temporary.
  const n = 200_000
  const indptr = new Int32Array(n + 1)
  const indices: number[] = []
  const data: number[] = []
  for (let i = 0; i < n; i++) {
    for (let j = Math.max(0, i - 2); j <= i; j++) {
      indices.push(j)
      data.push(((i * 3 + j) % 19) - 9.25)
    }
    indptr[i + 1] = indices.length
  }
  const A = closing(t, csr({ data: Float64Array.from(data), indices: Int32Array.from(indices), indptr }, [n, n]))
  const xs = Float64Array.from({ length: n }, (_, j) => (j % 23) * 0.5 - 5)
  const want = closing(t, A.dot(array(xs)))
  // Contiguous, first filled with NaN: every element written.
  const y = closing(t, array(new Float64Array(n).fill(NaN)))
  t.is(A.dot(array(xs), { out: y }), y)
  t.true(bytesOf(y).equals(bytesOf(want)), 'contiguous out')
  // out is x itself, and out is x shifted by one element in one buffer.
  const x = closing(t, array(Float64Array.from(xs)))
  t.is(A.dot(x, { out: x }), x)
  t.true(bytesOf(x).equals(bytesOf(want)), 'out = x: x was overwritten while it was read')
  const both = closing(t, array(Float64Array.from([...xs, 7])))
  A.dot(both.slice(':-1'), { out: both.slice('1:') })
  t.true(bytesOf(both.slice('1:')).equals(bytesOf(want)), 'out overlapping x')
  // Strided out: every other element of 2n.
  const wide = closing(t, array(new Float64Array(2 * n).fill(NaN)))
  A.dot(array(xs), { out: wide.slice('1::2') })
  t.true(bytesOf(wide.slice('1::2')).equals(bytesOf(want)), 'strided out')
  t.true(bytesOf(wide.slice('::2')).equals(Buffer.from(new Float64Array(n).fill(NaN).buffer)), 'strided out: the other elements untouched')
})

test('Node-written files are read by scipy.sparse.load_npz as equal matrices of the same class', async (t) => {
  const dir = tmpDir(t, 'mmnpy-sparse-')
  const pairs: [string, string][] = []
  for (const [i, g] of manifest.good.entries()) {
    const A = closing(t, loadSparse(path.join(GENERATED, g.file), { mmapMode: 'r' }))
    for (const compress of [true, false]) {
      const f = path.join(dir, `${i}-${compress}.npz`)
      saveSparse(f, A, { compress })
      pairs.push([f, path.join(GENERATED, g.file)])
      if (!compress) {
        const B = closing(t, loadSparse(f, { mmapMode: 'r' }))
        t.is(B.data.mode, 'r', 'stored: mapped')
        t.true(B.data.flags.aligned)
        t.true(bytesOf(B.data).equals(bytesOf(A.data)))
      }
    }
  }
  // Built from TypedArrays: a csr_array, a csc_matrix, a coo_array with duplicates.
  const built: [SparseMatrix, string][] = [
    [csr({ data: new Float64Array([1, 2, 3]), indices: new Int32Array([2, 0, 1]), indptr: new Int32Array([0, 1, 1, 3]) }, [3, 4]), 'csr_array'],
    [csc({ data: new Float32Array([1.5, -2]), indices: new BigInt64Array([1n, 0n]), indptr: new BigInt64Array([0n, 1n, 2n]) }, [2, 2], { isArray: false }), 'csc_matrix'],
    [coo({ data: new Int32Array([5, 6, 7]), row: new Int32Array([1, 1, 0]), col: new Int32Array([0, 0, 2]) }, [2, 3]), 'coo_array'],
  ]
  const made: string[] = []
  for (const [i, [M]] of built.entries()) {
    const f = path.join(dir, `built-${i}.npz`)
    saveSparse(f, closing(t, M))
    made.push(f)
  }
  const r = await pyAsync(
    `
import scipy.sparse as sp
bad = []
for ours, theirs in inp['pairs']:
    a, b = sp.load_npz(ours), sp.load_npz(theirs)
    if b.format in ('bsr', 'dia'):
        b = b.tocsr()
        ok = a.format == 'csr' and a.shape == b.shape and np.array_equal(a.toarray(), b.toarray())
    else:
        ok = type(a) is type(b) and a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a.toarray(), b.toarray())
    if not ok: bad.append(ours)
built = [sp.load_npz(f) for f in inp['made']]
out({'bad': bad, 'types': [type(m).__name__ for m in built], 'dense': [m.toarray().tolist() for m in built], 'dtypes': [str(m.dtype) for m in built]})
`,
    { pairs, made },
  )
  t.deepEqual(r.bad, [])
  t.deepEqual(r.types, built.map(([, c]) => c))
  t.deepEqual(r.dtypes, ['float64', 'float32', 'int32'])
  t.deepEqual(r.dense, [
    [[0, 0, 1, 0], [0, 0, 0, 0], [2, 3, 0, 0]],
    [[0, -2], [1.5, 0]],
    [[0, 0, 7], [11, 0, 0]],
  ])
})

test('malformed files are refused with ERR_MMNPY_* naming the file', (t) => {
  t.true(manifest.hostile.length >= 15)
  for (const h of manifest.hostile) {
    const file = path.join(GENERATED, h.file)
    for (const mmapMode of [undefined, 'r'] as const) {
      const e = t.throws(() => {
        const A = loadSparse(file, { mmapMode })
        // Mapped, an index out of range is found on first use (loading is O(1) in the nonzeros).
        if (h.deferred && mmapMode === 'r') {
          try { A.dot(new Float64Array(A.shape[1])) } finally { A.close() }
        }
      }, undefined, h.file) as Error & { code: string }
      t.is(e.code, h.code, `${h.file}: ${e.message}`)
      t.true(e.message.includes(h.mentions), `${h.file}: ${e.message}`)
      t.true(e.message.includes(file), `${h.file}: names the file: ${e.message}`)
    }
  }
})

test('constructors validate their parts once: indptr, indices, lengths, shape', (t) => {
  const data = new Float64Array([1, 2, 3])
  const code = (f: () => unknown) => (t.throws(f) as Error & { code: string })
  let e = code(() => csr({ data, indices: new Int32Array([0, 1, 2]), indptr: new Int32Array([0, 2, 1, 3]) }, [3, 3]))
  t.is(e.code, 'ERR_MMNPY_BAD_SPARSE')
  t.regex(e.message, /indptr decreases at position 2/)
  e = code(() => csr({ data, indices: new Int32Array([0, 3, 2]), indptr: new Int32Array([0, 1, 2, 3]) }, [3, 3]))
  t.regex(e.message, /indices\[1\] = 3 is out of range for 3 columns/)
  e = code(() => csc({ data, indices: new Int32Array([0, 1]), indptr: new Int32Array([0, 1, 2, 3]) }, [3, 3]))
  t.regex(e.message, /differ in length/)
  e = code(() => csr({ data, indices: new Int32Array([0, 1, 2]), indptr: new Int32Array([0, 1, 3]) }, [3, 3]))
  t.regex(e.message, /indptr has 3 elements/)
  e = code(() => coo({ data, row: new Int32Array([0, 1, -1]), col: new Int32Array([0, 1, 2]) }, [3, 3]))
  t.regex(e.message, /row\[2\] = -1/)
  e = code(() => csr({ data: new Float64Array(1), indices: new Float64Array(1), indptr: new Int32Array([0, 1]) }, [1, 1]))
  t.is(e.code, 'ERR_MMNPY_UNSUPPORTED_DTYPE')
  e = code(() => csr({ data, indices: new Int32Array([0, 1, 2]), indptr: new Int32Array([0, 1, 2, 3]) }, [3, -1] as unknown as [number, number]))
  t.is(e.code, 'ERR_MMNPY_INVALID_ARG')
  // The parts of a valid matrix are used in place (whole 1-D NdArrays) and may be mapped.
  const dir = tmpDir(t, 'mmnpy-sparse-')
  const ind = closing(t, openNpy(path.join(dir, 'ind.npy'), { mode: 'w+', dtype: 'int32', shape: [3] }))
  ;(ind.data as Int32Array).set([0, 2, 1])
  const A = closing(t, csr({ data, indices: ind, indptr: new Int32Array([0, 2, 2, 3]) }, [3, 3]))
  t.deepEqual(A.toDense().toArray() as unknown, [[1, 0, 2], [0, 0, 0], [0, 3, 0]] as unknown)
  t.deepEqual(A.dot([1, 10, 100]).toArray() as unknown, [201, 0, 30] as unknown)
  // A slice is copied, never read out of its bounds.
  const B = closing(t, csr({ data: array(new Float64Array([9, 1, 2, 3])).slice([1, null]), indices: new Int32Array([0, 2, 1]), indptr: [0, 2, 2, 3] }, [3, 3]))
  t.deepEqual(B.toDense().toArray() as unknown, [[1, 0, 2], [0, 0, 0], [0, 3, 0]] as unknown)
  t.is(code(() => A.dot([1, 2])).code, 'ERR_MMNPY_INVALID_ARG')
})

test('a matrix whose index array is changed after validation gives an error, never a wild read', (t) => {
  const dir = tmpDir(t, 'mmnpy-sparse-')
  const ind = closing(t, openNpy(path.join(dir, 'ind.npy'), { mode: 'w+', dtype: 'int32', shape: [3] }))
  ;(ind.data as Int32Array).set([0, 2, 1])
  const A = closing(t, csr({ data: new Float64Array([1, 2, 3]), indices: ind, indptr: new Int32Array([0, 2, 2, 3]) }, [3, 3]))
  ind.set(1, 1 << 30)
  for (const f of [() => A.dot([1, 2, 3]), () => A.toDense(), () => A.tocsc(), () => A.transpose().dot([1, 2, 3])]) {
    const e = t.throws(f) as Error & { code: string }
    t.is(e.code, 'ERR_MMNPY_BAD_SPARSE')
  }
})

test('transpose shares memory; close detaches the parts and later calls throw', async (t) => {
  // SciPy's stored members are unaligned (no TypedArray over them): saved again here, aligned.
  const g = manifest.good.find((x) => x.format === 'csr' && x.dtype === 'float64')!
  const file = path.join(tmpDir(t, 'mmnpy-sparse-'), 'a.npz')
  saveSparse(file, closing(t, loadSparse(path.join(GENERATED, g.file))), { compress: false })
  const A = loadSparse(file, { mmapMode: 'r' })
  t.is(A.data.mode, 'r')
  const At = A.transpose()
  t.is(At.format, 'csc')
  t.deepEqual([...At.shape], [A.shape[1], A.shape[0]])
  t.true(bytesOf(At.data).equals(bytesOf(A.data)))
  const view = A.data.data
  t.true(view.length > 0)
  A.close()
  t.true(A.closed)
  t.is(view.length, 0, 'the TypedArray is detached')
  t.is((t.throws(() => A.dot([1])) as Error & { code: string }).code, 'ERR_MMNPY_CLOSED')
  await t.throwsAsync(A.dotAsync([1]), { code: 'ERR_MMNPY_CLOSED' })
  A.close()
  t.true(At.dot(new Float64Array(At.shape[1])).size === At.shape[0], 'the transpose lives on')
  At[Symbol.dispose]()
  t.true(At.closed)
})

test('product results report their memory to V8, so results nobody closes are collected in a loop of products', async (t) => {
  // An 8 MiB result per product. Without the report V8 sees a small object per result, and a
  // loop of products that never closes them keeps all of them (800 MiB here) until some GC.
  // (V8's statistics do not show reported memory: the loop's resident memory is the check.)
  const n = 1 << 20
  const A = closing(t, csr({ data: new Float64Array(n).fill(0.5), indices: Int32Array.from({ length: n }, (_, i) => (i * 7) % 1024), indptr: Int32Array.from({ length: n + 1 }, (_, i) => i) }, [n, 1024]))
  const x = closing(t, array(new Float64Array(1024).fill(2)))
  const y = A.dot(x)
  t.is(y.get(5), 1)
  y.close()
  const base = residentMemory().anon
  let peak = 0
  for (let i = 0; i < 100; i++) {
    A.dot(x)
    await new Promise((resolve) => setImmediate(resolve))
    peak = Math.max(peak, residentMemory().anon - base)
  }
  t.true(peak < 320 * 2 ** 20, `100 uncollected results of 8 MiB: anonymous memory grew by ${(peak / 2 ** 20).toFixed(0)} MiB at most`)
  t.log(`peak growth ${(peak / 2 ** 20).toFixed(0)} MiB`)
})

test('a scattered product over a large x (gathers asked ahead) equals SciPy\'s row loop, long rows and changed indices included', (t) => {
  // x of 8 MiB (beyond the 4 MiB where the scattered kernel starts) gathered at random columns;
  // rows of 0 to 40 nonzeros, six of 1,500 to 5,000 (many prefetch distances long), empty runs.
  const rows = 30000
  const cols = 1 << 20
  let seed = 987654321
  const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32)
  const lens: number[] = []
  for (let i = 0; i < rows; i++) lens.push(i % 5000 === 17 ? 1500 + ((i / 5000) | 0) * 700 : i % 97 < 9 ? 0 : Math.floor(rand() * 41))
  const nnz = lens.reduce((a, b) => a + b, 0)
  const indptr = new Int32Array(rows + 1)
  const ind32 = new Int32Array(nnz)
  const data = new Float64Array(nnz)
  let k = 0
  for (let i = 0; i < rows; i++) {
    for (let q = 0; q < lens[i]!; q++) {
      ind32[k] = Math.floor(rand() * cols)
      data[k++] = rand() - 0.5
    }
    indptr[i + 1] = k
  }
  const x = new Float64Array(cols)
  for (let j = 0; j < cols; j++) x[j] = rand() * 4 - 2
  // SciPy's csr_matvec: each row's products added from zero in storage order (JS numbers are
  // float64, so this is the reference bit for bit).
  const want = new Float64Array(rows)
  for (let i = 0; i < rows; i++) {
    let s = 0
    for (let q = indptr[i]!; q < indptr[i + 1]!; q++) s += data[q]! * x[ind32[q]!]!
    want[i] = s
  }
  const xs = closing(t, array(x))
  for (const indices of [ind32, BigInt64Array.from(ind32, (v) => BigInt(v))]) {
    const ptr = indices instanceof BigInt64Array ? BigInt64Array.from(indptr, (v) => BigInt(v)) : indptr
    const A = closing(t, csr({ data, indices, indptr: ptr }, [rows, cols]))
    const y = A.dot(xs).data as Float64Array
    t.true(Buffer.from(y.buffer, y.byteOffset, y.byteLength).equals(Buffer.from(want.buffer)), `${indices.constructor.name} indices`)
  }
  // An index moved out of range after validation, in a block of short rows and in a long row.
  const dir = tmpDir(t, 'mmnpy-sparse-')
  for (const at of [indptr[100]!, indptr[17]! + 1234]) {
    const ind = closing(t, openNpy(path.join(dir, `ind${at}.npy`), { mode: 'w+', dtype: 'int32', shape: [nnz] }))
    ;(ind.data as Int32Array).set(ind32)
    const A = closing(t, csr({ data, indices: ind, indptr }, [rows, cols]))
    t.is((A.dot(xs).data as Float64Array)[100], want[100])
    ind.set(at, cols + 5)
    const e = t.throws(() => A.dot(xs)) as Error & { code: string }
    t.is(e.code, 'ERR_MMNPY_BAD_SPARSE')
  }
})
