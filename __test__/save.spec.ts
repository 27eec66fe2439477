// saveNpy against np.save: byte-identical files for every dtype, byte order, memory order and
// view kind, from NdArrays (mapped and in memory), TypedArrays and nested arrays; the explicit
// versions 1.0/2.0/3.0; atomic writes (temporary file + rename); and NumPy reading it all back.
//
// The reference files are written by NumPy in one python run (test.before); each case then
// writes its own file with mmnpy and compares bytes.
import test from 'ava'
import type { ExecutionContext } from 'ava'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import { loadNpy, saveNpy, MmnpyError } from '../index'
import { py, pyAsync, sha256, tmpDir } from './helpers/numpy'

type Arr = ReturnType<typeof loadNpy>

const REFS = fs.mkdtempSync(path.join(os.tmpdir(), 'mmnpy-save-refs-'))
test.after.always(() => fs.rmSync(REFS, { recursive: true, force: true }))

// ----------------------------------------------------------------------------- value encoding

// Values cross to python as JSON: floats as strings ('NaN', '-0', 'Infinity' ...), 64-bit
// integers as decimal strings, complex as [re, im], bool as booleans.
type Enc = boolean | number | string | [string, string]
const encFloat = (x: number): string => (Object.is(x, -0) ? '-0.0' : String(x))
function enc(v: unknown): Enc {
  if (typeof v === 'boolean') return v
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'number') return Number.isInteger(v) && !Object.is(v, -0) && Math.abs(v) < 2 ** 53 ? v : encFloat(v)
  const c = v as { re: number; im: number }
  return [encFloat(c.re), encFloat(c.im)]
}

const PY_DECODE = `
def decode(values, descr):
    k = np.dtype(descr).kind
    if k == 'b': return [bool(v) for v in values]
    if k in 'iu': return [int(v) for v in values]
    if k == 'f': return [float(v) for v in values]
    return [complex(float(v[0]), float(v[1])) for v in values]
`

// ----------------------------------------------------------------------------- cases

const DTYPES = [
  ['bool', 'b1'], ['int8', 'i1'], ['uint8', 'u1'], ['int16', 'i2'], ['uint16', 'u2'], ['int32', 'i4'], ['uint32', 'u4'],
  ['int64', 'i8'], ['uint64', 'u8'], ['float16', 'f2'], ['float32', 'f4'], ['float64', 'f8'],
  ['complex64', 'c8'], ['complex128', 'c16'],
] as const
const ORDERS = ['<', '>'] as const

/** How a view is made from the base array, in NumPy and in mmnpy. */
const VIEWS = {
  none: { py: 'b', js: (a: Arr) => a },
  T: { py: 'b.T', js: (a: Arr) => a.T },
  step2: { py: 'b[::2]', js: (a: Arr) => a.slice('::2') },
  rev: { py: 'b[::-1, 1:]', js: (a: Arr) => a.slice('::-1, 1:') },
} as const
type ViewName = keyof typeof VIEWS

/** Shapes of the base array and the view taken of it. */
const KINDS: Record<string, { base: number[]; view: ViewName }> = {
  scalar: { base: [], view: 'none' },
  vector: { base: [5], view: 'none' },
  C: { base: [3, 4], view: 'none' },
  F: { base: [4, 3], view: 'T' }, // (3, 4), F-contiguous: NumPy writes fortran_order True
  F3: { base: [2, 3, 4], view: 'T' },
  strided: { base: [6, 4], view: 'step2' },
  reversed: { base: [3, 4], view: 'rev' },
  empty: { base: [0, 3], view: 'none' },
  emptyT: { base: [3, 0], view: 'T' },
}
// Shapes where the header's growth padding (21 - digits of shape[0], or of shape[-1] in Fortran
// order) moves the data offset by 64 bytes if the wrong axis is used.
const ONES = new Array<number>(12).fill(1)
const GROWTH_KINDS: Record<string, { base: number[]; view: ViewName }> = {
  growthF: { base: [3, ...ONES, 1000], view: 'T' },
  growthC: { base: [2, ...ONES, 100], view: 'none' },
}

interface ViewCase {
  name: string
  descr: string
  base: number[]
  view: ViewName
  version?: [number, number]
  src: string
  ref: string
}

const viewCases: ViewCase[] = []
function addView(name: string, descr: string, base: number[], view: ViewName, version?: [number, number]): void {
  viewCases.push({ name, descr, base, view, version, src: path.join(REFS, `${name}.src.npy`), ref: path.join(REFS, `${name}.ref.npy`) })
}
for (const [, code] of DTYPES) {
  for (const order of ORDERS) {
    for (const [kind, k] of Object.entries(KINDS)) addView(`${order}${code}-${kind}`, order + code, k.base, k.view)
  }
}
for (const order of ORDERS) {
  for (const [kind, k] of Object.entries(GROWTH_KINDS)) addView(`${order}f8-${kind}`, `${order}f8`, k.base, k.view)
}
// Explicit versions, compared with np.lib.format.write_array(..., version=v).
for (const version of [[1, 0], [2, 0], [3, 0]] as [number, number][]) {
  const v = version.join('')
  addView(`v${v}-<f8-C`, '<f8', [3, 4], 'none', version)
  addView(`v${v}->i2-F`, '>i2', [4, 3], 'T', version)
  addView(`v${v}-<c8-scalar`, '<c8', [], 'none', version)
  addView(`v${v}-|b1-empty`, '|b1', [0, 3], 'none', version)
  addView(`v${v}->f8-growthF`, '>f8', [3, ...ONES, 1000], 'T', version)
}

/** Nested-array and TypedArray cases: values known in JS; NumPy saves np.array(values, descr). */
interface ValueCase {
  name: string
  /** What saveNpy gets. */
  data: unknown
  options?: { dtype?: string; shape?: number[]; version?: [number, number] }
  /** NumPy side: np.array(decode(values, raw), raw).view(descr).reshape(shape). */
  values: Enc[]
  raw: string
  descr: string
  shape: number[]
  version?: [number, number]
  ref: string
}
const valueCases: ValueCase[] = []
function addValues(c: Omit<ValueCase, 'ref' | 'raw'> & { raw?: string }): void {
  valueCases.push({ ...c, raw: c.raw ?? c.descr, ref: path.join(REFS, `${c.name}.ref.npy`) })
}

const NESTED_VALUES: Record<string, unknown[]> = {
  bool: [true, false, true, true, false, false],
  int8: [-128, -1, 0, 1, 100, 127],
  uint8: [0, 1, 2, 128, 254, 255],
  int16: [-32768, -1, 0, 1, 1000, 32767],
  uint16: [0, 1, 2, 32768, 65534, 65535],
  int32: [-(2 ** 31), -1, 0, 1, 123456789, 2 ** 31 - 1],
  uint32: [0, 1, 2, 2 ** 31, 2 ** 32 - 2, 2 ** 32 - 1],
  int64: [-(2n ** 63n), -1n, 0n, 1n, 2n ** 53n + 1n, 2n ** 63n - 1n],
  uint64: [0n, 1n, 2n, 2n ** 63n, 2n ** 64n - 2n, 2n ** 64n - 1n],
  // 1 + 2^-11 + 2^-40 rounds up in half precision but to a tie (then down) through float32.
  float16: [-0, 1 / 3, 65504, 65520, 6e-8, 1 + 2 ** -11 + 2 ** -40],
  float32: [-0, 0.1, 1 / 3, 3.4028235e38, 1e-45, -Infinity],
  float64: [-0, 0.1, Number.NaN, Infinity, 5e-324, -1.7976931348623157e308],
  complex64: [{ re: 1, im: -0 }, { re: 0.1, im: 1 / 3 }, { re: Number.NaN, im: Infinity }, { re: -2.5, im: 1e-40 }, { re: 0, im: 0 }, { re: 3e38, im: -1 }],
  complex128: [{ re: 1, im: -0 }, { re: 0.1, im: 1 / 3 }, { re: Number.NaN, im: Infinity }, { re: -2.5, im: 5e-324 }, { re: 0, im: 0 }, { re: 1e308, im: -1 }],
}
const rows = (flat: unknown[], n: number) => Array.from({ length: flat.length / n }, (_, i) => flat.slice(i * n, i * n + n))

for (const [dtype, code] of DTYPES) {
  const flat = NESTED_VALUES[dtype]!
  for (const order of ORDERS) {
    const descr = order + code
    addValues({ name: `nested-${descr}`, data: rows(flat, 3), options: { dtype: descr }, values: flat.map(enc), descr, shape: [2, 3] })
  }
  addValues({ name: `nested-name-${dtype}`, data: flat, options: { dtype }, values: flat.map(enc), descr: `<${code}`, shape: [6] })
}
// dtype inference matches NumPy's np.array(...) defaults (int64, float64, bool) and scalars are 0-d.
addValues({ name: 'infer-int', data: [[1, 2], [3, -4]], values: [1, 2, 3, -4], descr: '<i8', shape: [2, 2] })
addValues({ name: 'infer-float', data: [1.5, 2, -0], values: ['1.5', '2', '-0.0'], descr: '<f8', shape: [3] })
addValues({ name: 'infer-bool', data: [true, false], values: [true, false], descr: '|b1', shape: [2] })
addValues({ name: 'infer-empty', data: [], values: [], descr: '<f8', shape: [0] })
addValues({ name: 'scalar-f8', data: 3.5, options: { dtype: 'float64' }, values: ['3.5'], descr: '<f8', shape: [] })
addValues({ name: 'scalar->i4', data: -7, options: { dtype: '>i4' }, values: [-7], descr: '>i4', shape: [] })
addValues({ name: 'nested-v2', data: [[1, 2, 3]], options: { dtype: '<u2', version: [2, 0] }, values: [1, 2, 3], descr: '<u2', shape: [1, 3], version: [2, 0] })
addValues({ name: 'nested-v3', data: [[1, 2, 3]], options: { dtype: '>u2', version: [3, 0] }, values: [1, 2, 3], descr: '>u2', shape: [1, 3], version: [3, 0] })

// TypedArrays (this machine's byte order, little-endian on every supported platform).
const typed: [string, ArrayBufferView & { length: number }, string][] = [
  ['Int8Array', new Int8Array([-128, -1, 0, 1, 127]), '|i1'],
  ['Uint8Array', new Uint8Array([0, 1, 254, 255]), '|u1'],
  ['Int16Array', new Int16Array([-32768, -1, 0, 32767]), '<i2'],
  ['Uint16Array', new Uint16Array([0, 1, 65535]), '<u2'],
  ['Int32Array', new Int32Array([-(2 ** 31), -1, 0, 2 ** 31 - 1]), '<i4'],
  ['Uint32Array', new Uint32Array([0, 1, 2 ** 32 - 1]), '<u4'],
  ['BigInt64Array', new BigInt64Array([-(2n ** 63n), -1n, 0n, 2n ** 63n - 1n]), '<i8'],
  ['BigUint64Array', new BigUint64Array([0n, 1n, 2n ** 64n - 1n]), '<u8'],
  ['Float32Array', new Float32Array([-0, 0.5, -Infinity, 3.4028234663852886e38]), '<f4'],
  ['Float64Array', new Float64Array([-0, 0.1, Number.NaN, Infinity, 5e-324]), '<f8'],
]
for (const [name, ta, descr] of typed) {
  addValues({ name: `typed-${name}`, data: ta, values: Array.from(ta as unknown as ArrayLike<unknown>, enc), descr, shape: [ta.length] })
}
addValues({ name: 'typed-shape', data: new Float64Array([1, 2, 3, 4, 5, 6]), options: { shape: [2, 3] }, values: [1, 2, 3, 4, 5, 6], descr: '<f8', shape: [2, 3] })
addValues({ name: 'typed-bool', data: new Uint8Array([1, 0, 0, 1]), options: { dtype: 'bool' }, values: [1, 0, 0, 1], raw: '|u1', descr: '|b1', shape: [4] })
addValues({ name: 'typed-f2', data: new Uint16Array([0x3c00, 0xc000, 0x7c00, 0x8000, 0x0001]), options: { dtype: 'float16' }, values: [0x3c00, 0xc000, 0x7c00, 0x8000, 0x0001], raw: '<u2', descr: '<f2', shape: [5] })
addValues({ name: 'typed-c8', data: new Float32Array([1, 2, 3, -4]), options: { dtype: 'complex64' }, values: ['1', '2', '3', '-4'], raw: '<f4', descr: '<c8', shape: [2] })
addValues({ name: 'typed-c16', data: new Float64Array([0.1, -0, 5, 6, 7, 8]), options: { dtype: '<c16', shape: [3, 1] }, values: ['0.1', '-0.0', '5', '6', '7', '8'], raw: '<f8', descr: '<c16', shape: [3, 1] })
const big = new Int32Array([9, 8, 7, 6, 5, 4, 3, 2])
addValues({ name: 'typed-subarray', data: big.subarray(2, 6), values: [7, 6, 5, 4], descr: '<i4', shape: [4] })
addValues({ name: 'typed-empty', data: new Float32Array(0), values: [], descr: '<f4', shape: [0] })
addValues({ name: 'typed-v2', data: new Int16Array([1, -2]), options: { version: [2, 0] }, values: [1, -2], descr: '<i2', shape: [2], version: [2, 0] })

// ----------------------------------------------------------------------------- NumPy references

test.before(() => {
  py(
    `${PY_DECODE}
VIEWS = ${JSON.stringify(Object.fromEntries(Object.entries(VIEWS).map(([k, v]) => [k, v.py])))}
def gen(descr, n):
    dt = np.dtype(descr)
    k = list(range(n))
    if dt.kind == 'b':
        vals = [i % 3 == 0 for i in k]
    elif dt.kind in 'iu':
        info = np.iinfo(dt)
        vals = [info.min + (i * 7919 + 13) % (int(info.max) - int(info.min) + 1) for i in k]
        if n >= 2: vals[0], vals[1] = int(info.min), int(info.max)
    elif dt.kind == 'f':
        vals = [i * 0.75 - 3 for i in k]
        for j, s in enumerate([-0.0, float('nan'), float('inf'), float(np.finfo(dt).max)]):
            if j < n: vals[j] = s
    else:
        vals = [complex(i * 0.5 - 1, -i * 0.25) for i in k]
        if n >= 1: vals[0] = complex(float('nan'), -0.0)
        if n >= 2: vals[1] = complex(float('-inf'), 1e-30)
    return np.array(vals, dtype=dt)

def save(path, a, version):
    if version is None:
        np.save(path, a)
    else:
        with open(path, 'wb') as f:
            np.lib.format.write_array(f, a, version=tuple(version))

for c in inp['views']:
    n = int(np.prod(c['base'], dtype=np.int64))
    b = gen(c['descr'], n).reshape(c['base'])
    np.save(c['src'], b)
    save(c['ref'], eval(VIEWS[c['view']]), c.get('version'))
for c in inp['values']:
    a = np.array(decode(c['values'], c['raw']), dtype=c['raw']).view(c['descr']).reshape(c['shape'])
    save(c['ref'], a, c.get('version'))
`,
    { views: viewCases, values: valueCases.map(({ data: _d, options: _o, ...rest }) => rest) },
  )
})

// ----------------------------------------------------------------------------- byte comparison

function firstDifference(a: Buffer, b: Buffer): string {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) {
      const ctx = (x: Buffer) => JSON.stringify(x.subarray(Math.max(0, i - 8), i + 24).toString('latin1'))
      return `sizes ${a.length} vs ${b.length}; first difference at byte ${i}: ours ${ctx(a)} numpy ${ctx(b)}`
    }
  }
  return a.length === b.length ? 'identical' : `sizes ${a.length} vs ${b.length} (one is a prefix of the other)`
}

function sameBytes(t: ExecutionContext, ours: string, ref: string, what: string): void {
  const a = fs.readFileSync(ours)
  const b = fs.readFileSync(ref)
  t.true(a.equals(b), `${what}: ${firstDifference(a, b)}`)
}

function writeView(c: ViewCase, out: string, mode: 'r' | null): void {
  const a = mode === null ? loadNpy(c.src) : loadNpy(c.src, { mmapMode: mode })
  try {
    const v = VIEWS[c.view].js(a)
    saveNpy(out, v, c.version ? { version: c.version } : undefined)
  } finally {
    a.close()
  }
}

function writeValues(c: ValueCase, out: string): void {
  saveNpy(out, c.data as Parameters<typeof saveNpy>[1], c.options)
}

for (const c of viewCases) {
  test(`view ${c.name}: identical to NumPy's file (mapped and in memory)`, (t) => {
    const dir = tmpDir(t)
    for (const mode of ['r', null] as const) {
      const out = path.join(dir, `out-${mode ?? 'mem'}.npy`)
      writeView(c, out, mode)
      sameBytes(t, out, c.ref, mode === null ? 'in memory' : 'mapped')
    }
  })
}

for (const c of valueCases) {
  test(`${c.name}: identical to NumPy's file`, (t) => {
    const out = path.join(tmpDir(t), 'out.npy')
    writeValues(c, out)
    sameBytes(t, out, c.ref, c.name)
  })
}

test('a view of a big-endian file keeps its byte order; a TypedArray cannot be saved as another byte order', (t) => {
  const c = viewCases.find((v) => v.name === '>f8-strided')!
  const a = loadNpy(c.src, { mmapMode: 'r' })
  t.is(a.byteOrder, '>')
  const dir = tmpDir(t)
  const out = path.join(dir, 'x.npy')
  saveNpy(out, a.slice('::2'))
  t.is(loadNpy(out).byteOrder, '>')
  a.close()
  t.throws(() => saveNpy(path.join(dir, 'y.npy'), new Float64Array([1]), { dtype: '>f8' }), { code: 'ERR_MMNPY_INVALID_ARG' })
  t.false(fs.existsSync(path.join(dir, 'y.npy')))
})

// ----------------------------------------------------------------------------- NumPy reads ours

test('NumPy reads every file saveNpy writes, with the same dtype, shape, order and values', async (t) => {
  const dir = tmpDir(t)
  const pairs: [string, string][] = []
  for (const c of viewCases) {
    const out = path.join(dir, `${c.name}.npy`)
    writeView(c, out, 'r')
    pairs.push([out, c.ref])
  }
  for (const c of valueCases) {
    const out = path.join(dir, `${c.name}.npy`)
    writeValues(c, out)
    pairs.push([out, c.ref])
  }
  const bad: string[] = await pyAsync(
    `bad = []
for ours, ref in inp:
    try:
        a = np.load(ours)
    except Exception as e:
        bad.append(f'{ours}: np.load failed: {e!r}')
        continue
    b = np.load(ref)
    if a.dtype.str != b.dtype.str or a.shape != b.shape:
        bad.append(f'{ours}: {a.dtype.str} {a.shape}, expected {b.dtype.str} {b.shape}')
    elif a.flags.f_contiguous != b.flags.f_contiguous or a.flags.c_contiguous != b.flags.c_contiguous:
        bad.append(f'{ours}: memory order differs')
    elif a.tobytes() != b.tobytes() and not np.array_equal(a, b, equal_nan=a.dtype.kind in 'fc'):
        bad.append(f'{ours}: values {a.tolist()!r}, expected {b.tolist()!r}')
out(bad)`,
    pairs,
  )
  t.is(pairs.length, viewCases.length + valueCases.length)
  t.deepEqual(bad, [])
})

// ----------------------------------------------------------------------------- atomicity

test('a successful save leaves no temporary file beside the target, also when overwriting', (t) => {
  const dir = tmpDir(t)
  const p = path.join(dir, 'x.npy')
  saveNpy(p, [[1, 2], [3, 4]], { dtype: 'int32' })
  t.deepEqual(fs.readdirSync(dir), ['x.npy'])
  saveNpy(p, new Float64Array(1000).fill(2.5))
  t.deepEqual(fs.readdirSync(dir), ['x.npy'])
  const a = loadNpy(p, { mmapMode: 'r' })
  saveNpy(path.join(dir, 'y.npy'), a.slice('::3'))
  a.close()
  t.deepEqual(fs.readdirSync(dir).sort(), ['x.npy', 'y.npy'])
  t.deepEqual(loadNpy(path.join(dir, 'y.npy')).shape, [334])
})

test('saving into a missing directory throws ERR_MMNPY_IO and creates nothing', (t) => {
  const dir = tmpDir(t)
  const target = path.join(dir, 'missing', 'x.npy')
  const err = t.throws(() => saveNpy(target, [1, 2, 3], { dtype: 'float32' }), { code: 'ERR_MMNPY_IO' })
  t.true(err instanceof MmnpyError, 'an MmnpyError')
  t.true(err?.message.includes('missing'), `the message names the path: ${err?.message}`)
  const src = path.join(dir, 'src.npy')
  saveNpy(src, [1, 2, 3], { dtype: 'float32' })
  const a = loadNpy(src, { mmapMode: 'r' })
  t.throws(() => saveNpy(target, a), { code: 'ERR_MMNPY_IO' })
  t.throws(() => saveNpy(target, new Uint8Array(3)), { code: 'ERR_MMNPY_IO' })
  a.close()
  t.deepEqual(fs.readdirSync(dir), ['src.npy'])
})

test('a failed save leaves the target untouched and no temporary file', (t) => {
  const dir = tmpDir(t)
  const p = path.join(dir, 'x.npy')
  saveNpy(p, [1, 2, 3], { dtype: 'uint8' })
  const before = sha256(p)
  // The target is a directory: the rename fails after the data is written.
  const sub = path.join(dir, 'sub.npy')
  fs.mkdirSync(sub)
  fs.writeFileSync(path.join(sub, 'keep'), 'x')
  t.throws(() => saveNpy(sub, [1, 2, 3], { dtype: 'uint8' }), { code: 'ERR_MMNPY_IO' })
  t.deepEqual(fs.readdirSync(sub), ['keep'])
  // Values that do not fit the dtype, and a closed array.
  t.throws(() => saveNpy(p, [1, 300], { dtype: 'uint8' }))
  const a = loadNpy(p, { mmapMode: 'r' })
  a.close()
  t.throws(() => saveNpy(p, a), { code: 'ERR_MMNPY_CLOSED' })
  t.is(sha256(p), before)
  t.deepEqual(fs.readdirSync(dir).sort(), ['sub.npy', 'x.npy'])
})

test('overwriting a file that is mapped: the old mapping keeps the old data, the file gets the new', async (t) => {
  const dir = tmpDir(t)
  const p = path.join(dir, 'x.npy')
  py(`np.save(inp, np.arange(1000, dtype='<f8') * 0.5)`, p)
  const old = loadNpy(p, { mmapMode: 'r' })
  const oldRw = loadNpy(p, { mmapMode: 'r+' })
  const oldData = old.data
  t.is(old.get(999), 499.5)

  saveNpy(p, [[7, 8, 9], [10, 11, 12]], { dtype: '>i2' })
  t.is(old.get(999), 499.5, 'the old mapping still reads the old data')
  t.is(oldData[10], 5)
  t.is(oldRw.get(3), 1.5)
  oldRw.set(3, -1) // goes to the old (now unlinked) file, not the new one
  t.deepEqual(fs.readdirSync(dir), ['x.npy'])

  const fresh = loadNpy(p, { mmapMode: 'r' })
  t.is(fresh.dtype, 'int16')
  t.is(fresh.byteOrder, '>')
  t.deepEqual(fresh.toArray(), [[7, 8, 9], [10, 11, 12]])
  const seen = await pyAsync(`a = np.load(inp); out([a.dtype.str, a.tolist()])`, p)
  t.deepEqual(seen, ['>i2', [[7, 8, 9], [10, 11, 12]]])

  // Saving a mapped array onto its own file (reads the old inode while writing the new one).
  saveNpy(p, fresh.T)
  t.deepEqual(fresh.toArray(), [[7, 8, 9], [10, 11, 12]], 'the source mapping is unchanged')
  const transposed = await pyAsync(`a = np.load(inp); out([a.tolist(), bool(a.flags.f_contiguous)])`, p)
  t.deepEqual(transposed, [[[7, 10], [8, 11], [9, 12]], true])
  fresh.close()
  old.close()
  oldRw.close()
})
