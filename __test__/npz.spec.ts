// .npz archives: NumPy-written archives read (every dtype, both byte orders, C and F order,
// 0-d and empty members, positional and odd names, data descriptors), Node-written archives
// read by NumPy, 64-byte aligned stored members, 'c' never writing, close-then-touch and the
// hostile corpus in child processes, ZIP64 (> 65,535 members, > 4 GiB offsets).
//
// The fixtures come from __test__/fixtures/make_npz_fixtures.py (run by the test runner, and
// here when the manifest is missing).
import test from 'ava'
import { execFileSync, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import { loadNpz, saveNpz, openNpy, array, NpzFile, NdArray } from '../index'
import { py, pyAsync, sha256, tmpDir } from './helpers/numpy'

const FIXTURES = path.join(__dirname, 'fixtures')
const GENERATED = path.join(FIXTURES, 'generated', 'npz')
const MANIFEST = path.join(GENERATED, 'manifest.json')
const CHILD = path.join(__dirname, 'helpers', 'npz-child.js')

if (!fs.existsSync(MANIFEST)) {
  execFileSync('python3', [path.join(FIXTURES, 'make_npz_fixtures.py'), GENERATED], { stdio: 'inherit' })
}

type EncFloat = number | 'nan' | 'inf' | '-inf' | '-0'
type Enc = boolean | number | string | [EncFloat, EncFloat]
interface Member {
  key: string
  member: string
  dtype: string
  byteOrder: '<' | '>' | '|'
  shape: number[]
  fortranOrder: boolean
  stored: boolean
  dataOffset: number | null
  values: Enc[]
}
interface Hostile { file: string; code: string; mentions: string; at: 'open' | 'get'; mode: string | null }
const manifest: { good: { file: string; members: Member[] }[]; hostile: Hostile[]; pathlike: { file: string; keys: string[] } } = JSON.parse(
  fs.readFileSync(MANIFEST, 'utf8'),
)

/** Closes the archive when the test ends. */
function closing(t: import('ava').ExecutionContext, z: NpzFile): NpzFile {
  t.teardown(() => z.close())
  return z
}

function decodeFloat(v: EncFloat): number {
  if (typeof v === 'number') return v
  return { nan: Number.NaN, inf: Infinity, '-inf': -Infinity, '-0': -0 }[v]
}

function decode(dtype: string, v: Enc): unknown {
  if (dtype === 'bool') return v
  if (dtype === 'int64' || dtype === 'uint64') return BigInt(v as string)
  if (dtype.startsWith('complex')) {
    const [re, im] = v as [EncFloat, EncFloat]
    return { re: decodeFloat(re), im: decodeFloat(im) }
  }
  if (dtype.startsWith('float')) return decodeFloat(v as EncFloat)
  return v
}

function same(a: unknown, e: unknown): boolean {
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
  const n = a.size
  const idx = new Array<number>(a.ndim).fill(0)
  for (let k = 0; k < n; k++) {
    out.push(a.get(...idx))
    for (let d = a.ndim - 1; d >= 0; d--) {
      if (++idx[d]! < a.shape[d]!) break
      idx[d] = 0
    }
  }
  return out
}

function checkMember(t: import('ava').ExecutionContext, a: NdArray, m: Member, mode: string | null, file: string): void {
  const where = `${file} ${m.key} (${mode ?? 'memory'})`
  t.is<string, string>(a.dtype, m.dtype, where)
  t.is(a.byteOrder, m.byteOrder, where)
  t.deepEqual([...a.shape], m.shape, where)
  const mapped = m.stored && mode !== null
  t.is<string | null, string | null>(a.mode, mapped ? mode : null, where)
  t.is(a.filename, path.resolve(GENERATED, file), where)
  if (mapped) t.is(a.offset, m.dataOffset!, where)
  const values = flat(a)
  const expected = m.values.map((v) => decode(m.dtype, v))
  const bad = values.findIndex((v, i) => !same(v, expected[i]))
  t.true(bad === -1 && values.length === expected.length, `${where}: element ${bad} is ${String(values[bad])}, expected ${String(expected[bad])}`)
}

for (const g of manifest.good) {
  for (const mode of [null, 'r', 'c'] as const) {
    test(`NumPy archive ${g.file} (${mode ?? 'memory'}): every member's dtype, order, shape and values`, (t) => {
      const z = closing(t, loadNpz(path.join(GENERATED, g.file), mode === null ? {} : { mmapMode: mode }))
      t.deepEqual([...z.files], g.members.map((m) => m.key))
      t.is(z.mmapMode, mode)
      for (const m of g.members) {
        t.true(z.has(m.key) && z.has(m.member), m.key)
        checkMember(t, z.get(m.key), m, mode, g.file)
      }
      // Iteration gives the same members, in order.
      const seen = [...z].map(([k, a]) => [k, a.shape.join('x')])
      t.deepEqual(seen, g.members.map((m) => [m.key, m.shape.join('x')]))
      t.false(z.has('no such member'))
      t.throws(() => z.get('no such member'), { code: 'ERR_MMNPY_NOT_FOUND', message: /no member 'no such member'/ })
    })
  }
}

test("NumPy's unaligned stored members: kernels work, data names toTypedArray, values equal NumPy's sums", (t) => {
  const file = path.join(GENERATED, 'savez.npz')
  const z = closing(t, loadNpz(file, { mmapMode: 'r' }))
  const g = manifest.good.find((x) => x.file === 'savez.npz')!
  let unaligned = 0
  for (const m of g.members) {
    if (m.byteOrder === '>' || m.values.length === 0 || m.dtype === 'bool') continue
    const a = z.get(m.key)
    const align = { int8: 1, uint8: 1, int16: 2, uint16: 2, float16: 2, int32: 4, uint32: 4, float32: 4, int64: 8, uint64: 8, float64: 8, complex64: 4, complex128: 8 }[m.dtype]!
    if (m.dataOffset! % align !== 0 && a.flags.cContiguous) {
      unaligned++
      t.false(a.flags.aligned, m.key)
      t.throws(() => a.data, { code: 'ERR_MMNPY_MISALIGNED', message: /toTypedArray\(\)/ }, m.key)
      t.is(a.toTypedArray().length > 0, true)
    }
  }
  t.true(unaligned > 5, `NumPy's archive has unaligned members (${unaligned})`)
  const v = z.get('vector')
  const expected = py(`z = np.load(inp); out([float(z['vector'].sum()), float(z['vector'].std()), str(z['int64_le_C'].sum()), int(z['int32_le_F'].sum(axis=0)[1]), float(z['vector'][3:].reshape(-1, 997).sum(axis=0)[5])])`, file)
  t.true(v.offset % 8 !== 0, 'vector is unaligned in NumPy\'s archive')
  const tail = v.slice([3, null]).reshape(-1, 997)
  t.deepEqual(
    [v.sum(), v.std(), z.get('int64_le_C').sum(), (z.get('int32_le_F').sum({ axis: 0 }) as NdArray).get(1), (tail.sum({ axis: 0 }) as NdArray).get(5)],
    [expected[0], expected[1], BigInt(expected[2]), BigInt(expected[3]), expected[4]],
  )
})

test("mode 'c': writes stay private and never reach the archive", (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'a.npz')
  fs.copyFileSync(path.join(GENERATED, 'savez.npz'), file)
  const before = sha256(file)
  {
    const z = loadNpz(file, { mmapMode: 'c' })
    const a = z.get('float64_le_C')
    a.set(0, 0, 123.5)
    a.fill(7)
    t.is(a.get(1, 1), 7)
    const v = z.get('vector')
    v.mul(2, { out: v })
    t.is(v.get(3), 3)
    t.is(z.get('vector').get(3), 1.5, 'another get is a fresh private copy')
    t.is(z.get('float64_le_C').get(1, 1), py(`out(float(np.load(inp)['float64_le_C'][1, 1]))`, file))
    z.close()
  }
  t.is(sha256(file), before)
  const r = loadNpz(file, { mmapMode: 'r' })
  t.throws(() => r.get('vector').set(0, 1), { code: 'ERR_MMNPY_READONLY' })
  r.close()
})

test("modes 'r+' and 'w+' are refused before the archive is touched", (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'a.npz')
  fs.copyFileSync(path.join(GENERATED, 'savez.npz'), file)
  const before = sha256(file)
  for (const mode of ['r+', 'w+', 'readwrite', 'write'] as const) {
    t.throws(() => loadNpz(file, { mmapMode: mode }), { code: 'ERR_MMNPY_UNSUPPORTED_MODE', message: /CRC/ }, mode)
  }
  t.throws(() => loadNpz(file, { mmapMode: 'x' as 'r' }), { code: 'ERR_MMNPY_INVALID_ARG' })
  t.is(sha256(file), before)
})

test('saveNpz: NumPy reads every member back (dtypes, byte orders, C/F order, 0-d, empty, odd names), stored data 64-byte aligned', async (t) => {
  const dir = tmpDir(t)
  const src = path.join(GENERATED, 'savez.npz')
  const z = closing(t, loadNpz(src, { mmapMode: 'r' }))
  const arrays = new Map<string, NdArray | Float32Array | number[][]>([...z])
  arrays.set('dir/sub/é日本', z.get('int16_be_C'))
  arrays.set('transposed', z.get('float64_le_C').T)
  arrays.set('strided', z.get('vector').slice([null, null, -7]))
  arrays.set('typed', new Float32Array([1.5, -2, 3]))
  arrays.set('nested', [[1, 2], [3, 4]])
  for (const compress of [false, true, 1, 9] as const) {
    const out = path.join(dir, `out-${String(compress)}.npz`)
    saveNpz(out, arrays, { compress })
    const res = await pyAsync(`
import zipfile, struct
src, dst, names, compressed = inp
z, o = np.load(src), np.load(dst)
bad = []
expect = {k: z[k] for k in z.files}
zipf = zipfile.ZipFile(dst)
if zipf.testzip() is not None: bad.append('testzip')
expect['dir/sub/é日本'] = z['int16_be_C']
expect['transposed'] = z['float64_le_C'].T
expect['strided'] = z['vector'][::-7]
expect['typed'] = np.array([1.5, -2, 3], dtype='<f4')
expect['nested'] = np.array([[1, 2], [3, 4]], dtype='<i8')
if sorted(o.files) != sorted(names): bad.append(('files', o.files))
for k, e in expect.items():
    g = o[k]
    if g.dtype != e.dtype or g.shape != e.shape or not np.array_equal(g, e, equal_nan=e.dtype.kind in 'fc'):
        bad.append((k, str(g.dtype), str(e.dtype)))
    if (e.flags.f_contiguous and not e.flags.c_contiguous) != (g.flags.f_contiguous and not g.flags.c_contiguous):
        bad.append((k, 'order'))
offsets = []
with open(dst, 'rb') as f:
    for info in zipf.infolist():
        f.seek(info.header_offset)
        h = f.read(30)
        n, m = struct.unpack('<HH', h[26:30])
        start = info.header_offset + 30 + n + m
        if (info.compress_type == zipfile.ZIP_STORED) == compressed: bad.append((info.filename, 'method'))
        if info.compress_type == zipfile.ZIP_STORED:
            offsets.append(start % 64)
out({'bad': bad, 'offsets': offsets})
`, [src, out, [...arrays.keys()], compress !== false])
    t.deepEqual(res.bad, [], `compress ${String(compress)}`)
    if (compress === false) t.true(res.offsets.length === arrays.size && res.offsets.every((o: number) => o === 0), `offsets mod 64: ${res.offsets}`)
    const unzip = spawnSync('unzip', ['-tqq', out], { encoding: 'utf8' })
    if (unzip.error) t.log('unzip not installed: checked with Python zipfile only')
    else t.is(unzip.status, 0, unzip.stdout + unzip.stderr)
    // And back: mapped stored members are aligned, so data works.
    const back = closing(t, loadNpz(out, { mmapMode: 'r' }))
    const f = back.get('float64_le_C')
    t.is(f.flags.aligned, true)
    if (compress === false) {
      t.is(f.offset % 64, 0)
      t.is(f.mode, 'r')
      t.true(f.data instanceof Float64Array)
    }
  }
})

test('saveNpz is atomic and checks its arguments', (t) => {
  const dir = tmpDir(t)
  const out = path.join(dir, 'x.npz')
  fs.writeFileSync(out, 'previous')
  const closed = array([1, 2, 3])
  closed.close()
  t.throws(() => saveNpz(out, { a: [1, 2], b: closed }), { code: 'ERR_MMNPY_CLOSED' })
  t.throws(() => saveNpz(out, { a: [1, 2], b: [[1], [2, 3]] }), { code: 'ERR_MMNPY_INVALID_ARG' })
  t.throws(() => saveNpz(out, { a: [1] }, { compress: 12 }), { code: 'ERR_MMNPY_INVALID_ARG' })
  t.throws(() => saveNpz(out, [[1]] as unknown as Record<string, number[]>), { code: 'ERR_MMNPY_INVALID_ARG' })
  t.is(fs.readFileSync(out, 'utf8'), 'previous')
  t.deepEqual(fs.readdirSync(dir), ['x.npz'], 'no temporary file left behind')
  saveNpz(out, new Map([['a', [1, 2]]]))
  t.deepEqual(loadNpz(out).get('a').toArray(), [1n, 2n])
})

test('closing the archive detaches every array, view and TypedArray taken from it (child process)', (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'a.npz')
  saveNpz(file, { a: new Float64Array([1, 2, 3]), b: [[1, 2], [3, 4]], c: new Uint8Array([9]), e: new Float32Array(0) })
  for (const src of [file, path.join(GENERATED, 'savez.npz'), path.join(GENERATED, 'savez_compressed.npz')]) {
    const r = spawnSync(process.execPath, [CHILD, 'close', src], { encoding: 'utf8' })
    t.is(r.status, 0, `child exited with ${r.status} ${r.signal ?? ''}: ${r.stderr}`)
    const line = r.stdout.split('\n').find((l) => l.startsWith('MMNPY-NPZ-RESULT '))
    t.truthy(line, r.stdout + r.stderr)
    const res = JSON.parse(line!.slice('MMNPY-NPZ-RESULT '.length))
    t.deepEqual(res.failures, [], src)
    t.true(res.checks > res.members * 3, `${res.checks} checks`)
  }
})

function runChild(file: string, mode: string | null): Record<string, any> {
  const r = spawnSync(process.execPath, [CHILD, 'load', file, mode ?? 'memory'], { encoding: 'utf8', timeout: 60_000 })
  const line = r.stdout.split('\n').find((l) => l.startsWith('MMNPY-NPZ-RESULT '))
  return { status: r.status, signal: r.signal, stderr: r.stderr, ...(line ? JSON.parse(line.slice('MMNPY-NPZ-RESULT '.length)) : { missing: true }) }
}

for (const h of manifest.hostile) {
  test(`hostile archive ${h.file}: ${h.code} at ${h.at} (child process)`, (t) => {
    const file = path.join(GENERATED, h.file)
    const before = sha256(file)
    const r = runChild(file, h.mode)
    t.is(r.status, 0, `child died: status ${r.status} signal ${r.signal}: ${r.stderr}`)
    t.false(r.ok, `no error: ${JSON.stringify(r)}`)
    t.is(r.name, 'MmnpyError', JSON.stringify(r))
    t.true(String(r.code).startsWith(h.code), `code ${r.code}, expected ${h.code}: ${r.message}`)
    t.is(r.stage, h.at, r.message)
    t.true(r.message.includes(file), `the message names the file: ${r.message}`)
    t.true(r.message.toLowerCase().includes(h.mentions.toLowerCase()), `the message mentions '${h.mentions}': ${r.message}`)
    t.is(sha256(file), before)
  })
}

test('path-like member names are keys: read as arrays, nothing is written anywhere (child process)', (t) => {
  const file = path.join(GENERATED, manifest.pathlike.file)
  const r = runChild(file, 'r')
  t.is(r.status, 0, r.stderr)
  t.true(r.ok, JSON.stringify(r))
  t.deepEqual(r.keys, manifest.pathlike.keys)
  t.false(fs.existsSync(path.resolve(GENERATED, '../../evil.npy')))
  t.false(fs.existsSync('/abs/olute.npy'))
})

test('ZIP64: more than 65,535 members written by Node, read by NumPy, and by Python zipfile read here', async (t) => {
  const dir = tmpDir(t)
  const ours = path.join(dir, 'many.npz')
  const members: Record<string, Uint32Array> = {}
  for (let i = 0; i < 65_600; i++) members[`m${i}`] = new Uint32Array([i])
  saveNpz(ours, members)
  const theirs = path.join(dir, 'theirs.npz')
  const res = await pyAsync(`
import zipfile, io
ours, theirs = inp
z = np.load(ours)
ok = [len(z.files), int(z['m65599'][0]), int(z['m17'][0])]
with zipfile.ZipFile(theirs, 'w') as w:
    for i in range(65_700):
        b = io.BytesIO(); np.save(b, np.array([i], dtype='<u4')); w.writestr(f'p{i}.npy', b.getvalue())
with open(theirs, 'rb') as f:
    f.seek(-98, 2); tail = f.read()
out(ok + [b'PK\\x06\\x06' in tail])
`, [ours, theirs])
  t.deepEqual(res, [65_600, 65_599, 17, true])
  const z = closing(t, loadNpz(theirs, { mmapMode: 'r' }))
  t.is(z.files.length, 65_700)
  t.is(z.get('p65699').get(0), 65_699)
  t.is(z.get('p3').get(0), 3)
})

test('ZIP64: a sparse stored member over 4 GiB and a member at an offset past 4 GiB', async (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'big.npz')
  // Written by hand with zipfile's structures, sparse: about nothing on disk.
  await pyAsync(`
import struct, zipfile, io
path = inp
n = (4 << 30) // 8 + 1000
hdr = io.BytesIO(); np.lib.format.write_array_header_1_0(hdr, {'descr': '<f8', 'fortran_order': False, 'shape': (n,)}); hdr = hdr.getvalue()
small = io.BytesIO(); np.save(small, np.arange(5, dtype='<i2')); small = small.getvalue()
with open(path, 'wb') as f:
    def local(name, size, crc):
        extra = struct.pack('<HHQQ', 1, 16, size, size)
        f.write(struct.pack('<IHHHHHIIIHH', 0x04034b50, 45, 0, 0, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(name), len(extra)) + name + extra)
    off0 = 0
    size0 = len(hdr) + 8 * n
    local(b'big.npy', size0, 0)
    f.write(hdr)
    f.seek(8 * n - 8, 1)
    f.write(struct.pack('<d', 7.5))
    off1 = f.tell()
    local(b'after.npy', len(small), zipfile.crc32(small) if hasattr(zipfile, 'crc32') else __import__('zlib').crc32(small))
    f.write(small)
    cd = f.tell()
    def central(name, size, crc, off):
        extra = struct.pack('<HHQQQ', 1, 24, size, size, off)
        f.write(struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 45, 45, 0, 0, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(name), len(extra), 0, 0, 0, 0, 0xFFFFFFFF) + name + extra)
    central(b'big.npy', size0, 0, off0)
    central(b'after.npy', len(small), __import__('zlib').crc32(small), off1)
    cdsize = f.tell() - cd
    rec = f.tell()
    f.write(struct.pack('<IQHHIIQQQQ', 0x06064b50, 44, 45, 45, 0, 0, 2, 2, cdsize, cd))
    f.write(struct.pack('<IIQI', 0x07064b50, 0, rec, 1))
    f.write(struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, 2, 2, 0xFFFFFFFF, 0xFFFFFFFF, 0))
out(True)
`, file)
  const st = fs.statSync(file)
  t.true(st.size > 2 ** 32)
  const z = closing(t, loadNpz(file, { mmapMode: 'r' }))
  const big = z.get('big')
  t.is(big.shape[0], (4 * 2 ** 30) / 8 + 1000)
  t.is(big.get(-1), 7.5)
  t.is(big.get(12345), 0)
  const after = z.get('after')
  t.true(after.offset > 2 ** 32)
  t.deepEqual(after.toArray(), [0, 1, 2, 3, 4])
  // Without a mode the member is read with its CRC checked: the hand-made CRC of 0 is wrong for 'big'.
  const mem = closing(t, loadNpz(file))
  t.deepEqual(mem.get('after').toArray(), [0, 1, 2, 3, 4])
})

test('an NpzFile is an iterable of [name, NdArray] and a disposable', (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'a.npz')
  saveNpz(file, { x: [1.5, 2.5], y: new Int8Array([1, -1]) }, { compress: true })
  const z = loadNpz(new URL(`file://${file}`))
  t.true(z instanceof NpzFile)
  const all = new Map(z)
  t.deepEqual([...all.keys()], ['x', 'y'])
  t.deepEqual(all.get('y')!.toArray(), [1, -1])
  t.is(all.get('x')!.mode, null)
  z[Symbol.dispose]()
  t.true(z.closed && all.get('x')!.closed)
  t.throws(() => z.get('x'), { code: 'ERR_MMNPY_CLOSED' })
  // An array saved from a mapped .npy.
  const npy = path.join(dir, 'm.npy')
  const m = openNpy(npy, { mode: 'w+', dtype: '>i4', shape: [3, 2], fortranOrder: true })
  m.set(2, 1, 5)
  saveNpz(file, { m })
  m.close()
  const back = closing(t, loadNpz(file, { mmapMode: 'r' }))
  t.is(back.get('m').byteOrder, '>')
  t.true(back.get('m').flags.fContiguous)
  t.is(back.get('m').get(2, 1), 5)
})
