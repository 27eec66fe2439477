// joblib files: files Python's joblib.dump wrote (protocols 2-5, every compressor, with and without
// joblib's alignment padding, every dtype in C and F order and both byte orders, 0-d and empty arrays,
// nested values of every kind) read with arrays mapped where joblib maps them; Node-written files read
// by Python's joblib.load(mmap_mode='r') as numpy.memmap arrays with no warning; the hostile corpus in
// child processes, with a payload that would create a marker file if anything ran.
//
// The fixtures come from __test__/fixtures/make_joblib_fixtures.py (run by the test runner, and here
// when the manifest is missing).
import test from 'ava'
import { execFileSync, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import { load, dump, openNpy, array, NdArray, MmnpyError } from '../index'
import { pyAsync, sha256, tmpDir } from './helpers/numpy'

const FIXTURES = path.join(__dirname, 'fixtures')
const GENERATED = path.join(FIXTURES, 'generated', 'joblib')
const MANIFEST = path.join(GENERATED, 'manifest.json')
const CHILD = path.join(__dirname, 'helpers', 'joblib-child.js')

if (!fs.existsSync(MANIFEST)) {
  execFileSync('python3', [path.join(FIXTURES, 'make_joblib_fixtures.py'), GENERATED], { stdio: 'inherit' })
}

type EncFloat = number | 'nan' | 'inf' | '-inf' | '-0'
type Tagged =
  | { t: 'none' }
  | { t: 'bool'; v: boolean }
  | { t: 'int'; v: string }
  | { t: 'float'; v: EncFloat }
  | { t: 'complex'; v: [EncFloat, EncFloat] }
  | { t: 'str'; v: string }
  | { t: 'bytes'; v: string }
  | { t: 'list' | 'set'; v: Tagged[] }
  | { t: 'object' | 'map'; v: [Tagged, Tagged][] }
  | { t: 'array'; dtype: string; byteOrder: string; shape: number[]; fortran: boolean; values: unknown[]; offset: number | null }
interface Good { file: string; protocol: number; compress: string | null; padded: boolean; expect: Tagged }
interface Hostile { file: string; code: string; mentions: string; mode: string | null; live: 'pickle' | 'joblib' | null }
const manifest: { marker: string; good: Good[]; hostile: Hostile[]; deep: { file: string; depth?: number; fanout?: number; levels?: number }[] } = JSON.parse(
  fs.readFileSync(MANIFEST, 'utf8'),
)

function decodeFloat(v: EncFloat): number {
  if (typeof v === 'number') return v
  return { nan: Number.NaN, inf: Infinity, '-inf': -Infinity, '-0': -0 }[v]
}

function elem(dtype: string, v: unknown): unknown {
  if (dtype === 'bool') return v
  if (dtype === 'int64' || dtype === 'uint64') return BigInt(v as string)
  if (dtype.startsWith('complex')) {
    const [re, im] = v as [EncFloat, EncFloat]
    return { re: decodeFloat(re), im: decodeFloat(im) }
  }
  if (dtype.startsWith('float')) return decodeFloat(v as EncFloat)
  return v
}

function sameElem(a: unknown, e: unknown): boolean {
  if (typeof e === 'object' && e !== null) {
    const x = a as { re: number; im: number }
    const y = e as { re: number; im: number }
    return Object.is(x.re, y.re) && Object.is(x.im, y.im)
  }
  return Object.is(a, e)
}

/** Every element of `a` in C order. */
function flat(a: NdArray): unknown[] {
  const out: unknown[] = []
  const idx = new Array<number>(a.ndim).fill(0)
  for (let k = 0; k < a.size; k++) {
    out.push(a.get(...idx))
    for (let d = a.ndim - 1; d >= 0; d--) {
      if (++idx[d]! < a.shape[d]!) break
      idx[d] = 0
    }
  }
  return out
}

/**
 * Where `actual` differs from the tagged expectation (null when it matches). `loose`: an int may be a
 * bigint even within ±2^53 (values dumped from JavaScript as bigints).
 */
type Check = 'mapped' | 'memory' | 'values'

function diff(e: Tagged, actual: unknown, where: string, mapped: Check, loose = false): string | null {
  const bad = (what: string) => `${where}: ${what}`
  switch (e.t) {
    case 'none': return actual === null ? null : bad(`expected null, got ${String(actual)}`)
    case 'bool': return actual === e.v ? null : bad(`expected ${e.v}, got ${String(actual)}`)
    case 'int': {
      const big = BigInt(e.v)
      const safe = big <= 2n ** 53n - 1n && big >= -(2n ** 53n - 1n)
      if (safe && actual === Number(big)) return null
      if ((!safe || loose) && actual === big) return null
      return bad(`expected int ${e.v} (${safe ? 'number' : 'bigint'}), got ${typeof actual} ${String(actual)}`)
    }
    case 'float': return typeof actual === 'number' && Object.is(actual, decodeFloat(e.v)) ? null : bad(`expected ${String(e.v)}, got ${String(actual)}`)
    case 'complex': return sameElem(actual, { re: decodeFloat(e.v[0]), im: decodeFloat(e.v[1]) }) ? null : bad(`expected complex ${JSON.stringify(e.v)}, got ${JSON.stringify(actual)}`)
    case 'str': return actual === e.v ? null : bad(`expected '${e.v}', got ${String(actual)}`)
    case 'bytes': return actual instanceof Uint8Array && Buffer.from(actual).toString('hex') === e.v ? null : bad(`expected bytes ${e.v}, got ${String(actual)}`)
    case 'list': {
      if (!Array.isArray(actual) || actual.length !== e.v.length) return bad(`expected a list of ${e.v.length}, got ${String(actual)}`)
      for (let i = 0; i < e.v.length; i++) {
        const d = diff(e.v[i]!, actual[i], `${where}[${i}]`, mapped, loose)
        if (d) return d
      }
      return null
    }
    case 'set': {
      if (!(actual instanceof Set) || actual.size !== e.v.length) return bad(`expected a Set of ${e.v.length}, got ${String(actual)}`)
      for (const x of e.v) if (![...actual].some((y) => diff(x, y, where, mapped, loose) === null)) return bad(`Set lacks ${JSON.stringify(x)}`)
      return null
    }
    case 'object': {
      if (actual === null || typeof actual !== 'object' || Object.getPrototypeOf(actual) !== Object.prototype) return bad(`expected a plain object, got ${String(actual)}`)
      const keys = Object.keys(actual)
      if (keys.length !== e.v.length) return bad(`expected ${e.v.length} keys, got ${keys.join(',')}`)
      for (let i = 0; i < e.v.length; i++) {
        const k = (e.v[i]![0] as { v: string }).v
        if (keys[i] !== k) return bad(`key ${i}: expected '${k}', got '${keys[i]}'`)
        const d = diff(e.v[i]![1], (actual as Record<string, unknown>)[k], `${where}.${k}`, mapped, loose)
        if (d) return d
      }
      return null
    }
    case 'map': {
      if (!(actual instanceof Map) || actual.size !== e.v.length) return bad(`expected a Map of ${e.v.length}, got ${String(actual)}`)
      const entries = [...actual]
      for (let i = 0; i < e.v.length; i++) {
        const d = diff(e.v[i]![0], entries[i]![0], `${where} key ${i}`, mapped, loose) ?? diff(e.v[i]![1], entries[i]![1], `${where}.get(${i})`, mapped, loose)
        if (d) return d
      }
      return null
    }
    case 'array': {
      if (!(actual instanceof NdArray)) return bad(`expected an NdArray, got ${String(actual)}`)
      const a = actual
      if (a.dtype !== e.dtype) return bad(`dtype ${a.dtype}, expected ${e.dtype}`)
      if (JSON.stringify(a.shape) !== JSON.stringify(e.shape)) return bad(`shape ${JSON.stringify(a.shape)}, expected ${JSON.stringify(e.shape)}`)
      const values = flat(a)
      for (let i = 0; i < values.length; i++) if (!sameElem(values[i], elem(e.dtype, e.values[i]))) return bad(`element ${i}: ${String(values[i])}, expected ${JSON.stringify(e.values[i])}`)
      if (mapped === 'mapped') {
        if (a.byteOrder !== e.byteOrder) return bad(`byte order ${a.byteOrder}, expected ${e.byteOrder}`)
        if (e.fortran && !a.flags.fContiguous) return bad('expected Fortran order')
        if (e.offset !== null && a.offset !== e.offset) return bad(`mapped at ${a.offset}, joblib maps it at ${e.offset}`)
      } else if (mapped === 'memory' && a.byteOrder === (NATIVE === '<' ? '>' : '<')) {
        return bad(`read into memory in byte order ${a.byteOrder} (joblib.load gives the native order)`)
      }
      return null
    }
  }
}

const NATIVE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? '<' : '>'

for (const g of manifest.good) {
  test(`joblib.dump protocol ${g.protocol}, ${g.compress ?? 'uncompressed'}${g.padded ? '' : ', joblib <= 1.1 (no padding)'}: ${g.file} loads mapped as joblib maps it`, (t) => {
    const v = load(path.join(GENERATED, g.file), { mmapMode: 'r' })
    t.is(diff(g.expect, v, 'value', g.compress === null ? 'mapped' : 'memory'), null)
    const arrays: NdArray[] = []
    const todo: unknown[] = [v]
    while (todo.length) {
      const x = todo.pop()
      if (x instanceof NdArray) arrays.push(x)
      else if (Array.isArray(x)) todo.push(...x)
      else if (x instanceof Map) todo.push(...x.values())
      else if (x !== null && typeof x === 'object' && !(x instanceof Uint8Array) && !(x instanceof Set)) todo.push(...Object.values(x))
    }
    t.is(arrays.length > 0, g.file !== 'top_scalar.joblib')
    for (const a of arrays) {
      t.is(a.mode, g.compress === null ? 'r' : null)
      if (g.compress === null) t.is(a.filename, path.resolve(GENERATED, g.file))
      a.close()
    }
  })
}

test('without mmapMode arrays are read into memory in native byte order, values as joblib.load gives them', (t) => {
  for (const g of manifest.good.filter((x) => x.protocol === 4)) {
    const v = load(path.join(GENERATED, g.file))
    t.is(diff(g.expect, v, g.file, 'memory'), null)
  }
})

test("mmapMode 'r+' writes reach the file, 'w+' acts as 'r+', 'c' never writes", async (t) => {
  const dir = tmpDir(t)
  const f = path.join(dir, 'x.joblib')
  await pyAsync(`import joblib\njoblib.dump({'a': np.arange(4.0), 'b': np.ones((2, 2), dtype='>i4')}, inp)`, f)
  const before = sha256(f)
  const c = load<{ a: NdArray }>(f, { mmapMode: 'c' })
  c.a.set(0, 99)
  t.is(c.a.get(0), 99)
  c.a.close()
  t.is(sha256(f), before)
  for (const mode of ['r+', 'w+'] as const) {
    const v = load<{ a: NdArray; b: NdArray }>(f, { mmapMode: mode })
    t.is(v.a.mode, 'r+')
    v.a.set(1, mode === 'r+' ? 41 : 42)
    v.b.set(1, 1, -5)
    v.a.flush()
    v.b.flush()
    v.a.close()
    v.b.close()
  }
  const back = await pyAsync(`import joblib\nv = joblib.load(inp, mmap_mode='r')\nout([v['a'].tolist(), v['b'].tolist()])`, f)
  t.deepEqual(back, [[0, 42, 2, 3], [[1, 1], [1, -5]]])
  const r = load<{ a: NdArray }>(f, { mmapMode: 'r' })
  t.throws(() => r.a.set(0, 1), { code: 'ERR_MMNPY_READONLY' })
  r.a.close()
})

test('mapped arrays start where the file puts them: 16-byte aligned (joblib >= 1.2)', (t) => {
  const v = load<Record<string, unknown>>(path.join(GENERATED, 'p4_raw.joblib'), { mmapMode: 'r' })
  for (const a of Object.values(v.arrays as Record<string, NdArray>)) {
    t.is(a.offset % 16, 0)
    a.close()
  }
})

function runChild(file: string, mode: string | null): { status: number | null; signal: string | null; stderr: string; result: any } {
  const r = spawnSync(process.execPath, [CHILD, 'load', file, mode ?? 'memory'], { encoding: 'utf8', timeout: 120_000 })
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('MMNPY-JOBLIB-RESULT '))
  return { status: r.status, signal: r.signal, stderr: r.stderr ?? '', result: line ? JSON.parse(line.slice('MMNPY-JOBLIB-RESULT '.length)) : null }
}

for (const h of manifest.hostile) {
  test.serial(`hostile ${h.file}: ${h.code} (child process, nothing runs)`, (t) => {
    const file = path.join(GENERATED, h.file)
    const before = sha256(file)
    const r = runChild(file, h.mode)
    t.is(r.status, 0, `child died: status ${r.status} signal ${r.signal}: ${r.stderr}`)
    t.truthy(r.result, r.stderr)
    t.false(r.result.ok, 'loaded a hostile file')
    t.is(r.result.code, h.code, r.result.message)
    t.is(r.result.name, 'MmnpyError')
    t.true(r.result.message.includes(h.mentions), `'${r.result.message}' does not mention '${h.mentions}'`)
    t.true(r.result.message.includes(file), 'the message names the file')
    t.is(sha256(file), before)
    t.false(fs.existsSync(manifest.marker), 'a payload ran')
  })
}

test.serial('the payloads of the hostile corpus are live: Python itself runs them (so the checks above mean something)', async (t) => {
  const live = manifest.hostile.filter((h) => h.live !== null)
  t.true(live.length >= 5)
  t.false(fs.existsSync(manifest.marker))
  for (const h of live) {
    const loader = h.live === 'pickle' ? 'import pickle\ntry:\n    pickle.loads(open(inp, "rb").read())\nexcept Exception:\n    pass' : 'import joblib\ntry:\n    joblib.load(inp)\nexcept Exception:\n    pass'
    await pyAsync(loader, path.join(GENERATED, h.file))
    t.true(fs.existsSync(manifest.marker), `${h.file}: Python's ${h.live} did not run the payload`)
    fs.rmSync(manifest.marker, { force: true })
  }
})

for (const d of manifest.deep) {
  test(`deep ${d.file} loads without overflowing any stack (child process)`, (t) => {
    const r = runChild(path.join(GENERATED, d.file), null)
    t.is(r.status, 0, `child died: status ${r.status} signal ${r.signal}: ${r.stderr}`)
    t.true(r.result?.ok, JSON.stringify(r.result))
    t.is(r.result.depth, d.depth !== undefined ? d.depth - 1 : d.levels)
  })
}

test('a memo "billion laughs" stays one object per memo entry', (t) => {
  const v = load<unknown[]>(path.join(GENERATED, 'laughs.pkl'))
  t.is(v.length, 10)
  t.is(v[0], v[9])
  t.is((v[0] as unknown[])[3], (v[5] as unknown[])[3])
})

// ------------------------------------------------------------------ Node writes, Python reads

const DTYPES = ['bool', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float16', 'float32', 'float64', 'complex64', 'complex128'] as const

function sample(dtype: string, n: number): unknown[] {
  return Array.from({ length: n }, (_, i) => {
    if (dtype === 'bool') return i % 3 === 0
    if (dtype === 'int64') return BigInt(i * 1_000_000_007 - 3_000_000_000) * (i % 2 ? -1n : 1n)
    if (dtype === 'uint64') return 2n ** 63n + BigInt(i)
    if (dtype.startsWith('complex')) return { re: i + 0.5, im: -i }
    if (dtype.startsWith('float')) return i === 0 ? Number.NaN : i - 2.5
    if (dtype.startsWith('uint')) return i * 7
    return i * 7 - 20
  })
}

/** The tagged form Python's enc() gives of an array holding these values. */
function tagArray(a: NdArray, fortran: boolean): Tagged {
  const enc = (x: unknown): unknown => {
    if (typeof x === 'bigint') return x.toString()
    if (typeof x === 'number') return Number.isNaN(x) ? 'nan' : Object.is(x, -0) ? '-0' : x === Infinity ? 'inf' : x === -Infinity ? '-inf' : x
    if (typeof x === 'object' && x !== null) return [(x as { re: number }).re, (x as { im: number }).im].map((y) => enc(y))
    return x
  }
  return { t: 'array', dtype: a.dtype, byteOrder: a.byteOrder, shape: [...a.shape], fortran, values: flat(a).map(enc), offset: null }
}

async function pythonLoads(file: string, mode: string | null = 'r'): Promise<{ value: Tagged; arrays: { memmap: boolean; offset: number | null; fortran: boolean }[]; warnings: string[] }> {
  return pyAsync(
    `import sys, warnings, joblib
sys.path.insert(0, ${JSON.stringify(FIXTURES)})
from make_joblib_fixtures import enc
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    v = joblib.load(inp['file'], mmap_mode=inp['mode'])
arrays = []
todo = [v]
while todo:
    x = todo.pop()
    if isinstance(x, np.ndarray):
        arrays.append({'memmap': isinstance(x, np.memmap), 'offset': int(x.offset) if isinstance(x, np.memmap) else None, 'fortran': bool(x.flags.f_contiguous and not x.flags.c_contiguous)})
    elif isinstance(x, dict):
        todo.extend(x.values())
    elif isinstance(x, (list, tuple)):
        todo.extend(x)
out({'value': enc(v), 'arrays': arrays, 'warnings': [str(w.message) for w in caught]})`,
    { file, mode },
  )
}

test('dump: Python joblib.load(mmap_mode="r") gets the same structure, numpy.memmap arrays 64-byte aligned, no warning', async (t) => {
  const dir = tmpDir(t)
  const arrays: Record<string, NdArray> = {}
  const expectArrays: [Tagged, Tagged][] = []
  for (const d of DTYPES) {
    for (const order of d === 'bool' || d.endsWith('int8') ? ['|'] : ['<', '>']) {
      const spec = order === '|' ? d : `${order}${{ int16: 'i2', uint16: 'u2', int32: 'i4', uint32: 'u4', int64: 'i8', uint64: 'u8', float16: 'f2', float32: 'f4', float64: 'f8', complex64: 'c8', complex128: 'c16' }[d as 'int16']}`
      const c = array(sample(d, 6) as never, { dtype: spec, shape: [2, 3] })
      arrays[`${d}${order}C`] = c
      arrays[`${d}${order}F`] = c.T
    }
  }
  arrays.zero_d = array([3.5], { shape: [] })
  arrays.empty = array([], { dtype: 'int32', shape: [0, 4] })
  arrays.strided = array(sample('float64', 12) as never, { shape: [3, 4] }).slice('::2, ::-1')
  const mm = openNpy(path.join(dir, 'src.npy'), { mode: 'w+', dtype: '>f4', shape: [5, 2] })
  mm.fill(1.25)
  arrays.mapped = mm
  for (const [k, a] of Object.entries(arrays)) expectArrays.push([{ t: 'str', v: k }, tagArray(a, a.ndim > 1 && a.flags.fContiguous && !a.flags.cContiguous)])
  const shared = [1, 'two']
  const value = {
    ints: [0, -1, 255, 65536, 2 ** 31, -(2 ** 40), Number.MAX_SAFE_INTEGER, 2n ** 64n, -(2n ** 70n)],
    floats: [1.5, -0, Number.NaN, Infinity, -Infinity, 1e-310],
    text: 'héllo ✓ 😀',
    bytes: new Uint8Array([0, 255, 7]),
    typed: new Float32Array([1, 2.5]),
    none: null,
    flags: [true, false],
    intKeys: new Map<unknown, unknown>([[1, 'one'], [2n ** 60n, 'big'], [[1, 'a'], 'tuple key']]),
    set: new Set([1, 'a', 2.5]),
    shared: [shared, shared],
    nested: [[[[]]], {}],
    long: Array.from({ length: 2500 }, (_, i) => i * 3),
    wide: Object.fromEntries(Array.from({ length: 1200 }, (_, i) => [`k${i}`, i])),
    ['__proto__']: 'a key',
    arrays,
  }
  for (const compress of [false, true, 9] as const) {
    const f = path.join(dir, `node-${String(compress)}.joblib`)
    dump(value, f, { compress })
    const py = await pythonLoads(f, compress === false ? 'r' : null)
    t.deepEqual(py.warnings, [], String(compress))
    const mapped = compress === false
    for (const a of py.arrays) {
      t.is(a.memmap, mapped)
      if (mapped) t.is(a.offset! % 64, 0)
    }
    t.is(py.arrays.filter((a) => a.fortran).length, DTYPES.length * 2 - 3 * 2 + 3 * 1, 'F-order arrays stay F')
    const v = py.value as { t: 'object'; v: [Tagged, Tagged][] }
    const got = new Map(v.v.map(([k, x]) => [(k as { v: string }).v, x]))
    t.is(diff(got.get('arrays')!, arrays, 'arrays', 'values', true), null)
    for (const k of ['ints', 'floats', 'text', 'bytes', 'none', 'flags', 'intKeys', 'set', 'shared', 'nested', 'long', 'wide', '__proto__'] as const) {
      t.is(diff(got.get(k)!, (value as Record<string, unknown>)[k], k, 'values', true), null, k)
    }
    t.is(diff(got.get('typed')!, array(new Float32Array([1, 2.5])), 'typed', 'values'), null)
    // And back: what Node wrote, Node reads the same way.
    const back = load<Record<string, unknown>>(f, { mmapMode: 'r' })
    t.is(diff(py.value, back, 'back', compress === false ? 'mapped' : 'memory', true), null)
  }
  mm.close()
})

test('dump keeps shared and cyclic containers: Python sees one object', async (t) => {
  const dir = tmpDir(t)
  const f = path.join(dir, 'cycle.joblib')
  const a: unknown[] = [1]
  a.push(a)
  const o: Record<string, unknown> = { self: null, list: a }
  o.self = o
  dump([a, a, o], f)
  const r = await pyAsync(`import joblib\nv = joblib.load(inp)\nout([v[0] is v[1], v[0][1] is v[0], v[2]['self'] is v[2], v[2]['list'] is v[0]])`, f)
  t.deepEqual(r, [true, true, true, true])
  const back = load<unknown[]>(f)
  t.is(back[0], back[1])
  t.is((back[0] as unknown[])[1], back[0])
  t.is((back[2] as Record<string, unknown>).self, back[2])
})

test('dump refuses what Python has no value for, naming where, and leaves the old file untouched', (t) => {
  const dir = tmpDir(t)
  const f = path.join(dir, 'keep.joblib')
  dump({ ok: 1 }, f)
  const before = sha256(f)
  for (const bad of [{ a: [1, undefined] }, { d: new Date() }, { f: () => 1 }, new Map([[{}, 1]]), { s: Symbol('x') }]) {
    const e = t.throws(() => dump({ big: array(new Float64Array(1000)), bad }, f))
    t.is((e as { code?: string }).code, 'ERR_MMNPY_INVALID_ARG')
    t.regex(e!.message, /value\.bad/)
  }
  t.is(sha256(f), before)
  t.deepEqual(fs.readdirSync(dir).filter((n) => n.includes('mmnpy-tmp')), [])
  t.throws(() => dump(1, f, { compress: 11 }), { code: 'ERR_MMNPY_INVALID_ARG' })
  const closed = array([1, 2])
  closed.close()
  t.throws(() => dump({ closed }, f), { code: 'ERR_MMNPY_CLOSED' })
  t.is(sha256(f), before)
})

test('dump { durable: true } syncs and renames; a mapped array is dumped from its mapping', (t) => {
  const dir = tmpDir(t)
  const src = openNpy(path.join(dir, 'big.npy'), { mode: 'w+', dtype: 'float32', shape: [1024, 256] })
  src.fill(0.5)
  src.set(1023, 255, 7)
  const f = path.join(dir, 'durable.joblib')
  dump({ src, view: src.slice('::-3, 1') }, f, { durable: true })
  const v = load<{ src: NdArray; view: NdArray }>(f, { mmapMode: 'r' })
  t.is(v.src.get(1023, 255), 7)
  t.deepEqual(v.view.shape, [342])
  t.is(v.view.get(0), 0.5)
  t.is(v.src.offset % 64, 0)
  t.is(v.view.offset % 64, 0)
  v.src.close()
  v.view.close()
  src.close()
  t.deepEqual(fs.readdirSync(dir).sort(), ['big.npy', 'durable.joblib'])
})

test('load errors are MmnpyErrors naming the file', (t) => {
  const e = t.throws(() => load(path.join(GENERATED, 'does-not-exist.joblib')))
  t.true(e instanceof MmnpyError)
  t.is((e as MmnpyError).code, 'ERR_MMNPY_IO')
  t.throws(() => load(path.join(GENERATED, 'p4_raw.joblib'), { mmapMode: 'x' as never }), { code: 'ERR_MMNPY_INVALID_ARG' })
})
