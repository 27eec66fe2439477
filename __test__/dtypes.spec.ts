// The dtypes ETL files carry (issue 15): records, datetime64/timedelta64, bytes and str.
// NumPy-written files (every datetime unit, both byte orders, NaT, strings with non-ASCII text and
// trailing NULs, packed/aligned/nested/subarray records, C and F order) read element by element,
// saved back byte for byte; field views reduced like np.sum(a['x']); Node-written files read by
// NumPy; datetime reductions with NaT; strict refusals.
//
// Fixtures: __test__/fixtures/make_dtype_fixtures.py (run here when the manifest is missing).
import test from 'ava'
import * as fs from 'node:fs'
import * as path from 'node:path'

import { loadNpy, openNpy, saveNpy, array, loadNpz, saveNpz, NdArray } from '../index'
import { py, tmpDir } from './helpers/numpy'
import { DtypeFixture, dtypeFixtures, flat } from './helpers/dtype-values'

const { dir: GENERATED, manifest, file } = dtypeFixtures<{
  files: DtypeFixture[]
  npz: { file: string; members: Record<string, { dtype: string; values: unknown[] }> }
  invalid_str: { file: string; index: number; char: number }
}>('dtypes')

for (const f of manifest.files) {
  test(`${f.file}: read like NumPy, in memory and mapped`, (t) => {
    for (const a of [loadNpy(file(f.file)), loadNpy(file(f.file), { mmapMode: 'r' })]) {
      t.is(a.dtype as string, f.dtype)
      t.is(a.byteOrder as string, f.byteOrder)
      t.deepEqual(a.shape, f.shape)
      t.deepEqual(a.fields, f.fields as never)
      t.deepEqual(flat(a), f.values)
      a.close()
    }
  })

  test(`${f.file}: saveNpy writes NumPy's bytes`, (t) => {
    const dir = tmpDir(t)
    const a = loadNpy(file(f.file), { mmapMode: 'r' })
    saveNpy(path.join(dir, 'out.npy'), a)
    t.deepEqual(fs.readFileSync(path.join(dir, 'out.npy')), fs.readFileSync(file(f.file)))
    // A copy keeps the dtype too.
    saveNpy(path.join(dir, 'copy.npy'), a.copy())
    if (!f.fortranOrder) t.deepEqual(fs.readFileSync(path.join(dir, 'copy.npy')), fs.readFileSync(file(f.file)))
    a.close()
  })
}

test('field views are zero-copy strided views the kernels reduce like NumPy', (t) => {
  const a = loadNpy(file('levy_like.npy'), { mmapMode: 'r' })
  const np = py(`a = np.load(inp); out({n: [float(np.sum(a[n])), float(np.mean(a[n])), float(np.min(a[n])), int(np.argmax(a[n])), float(np.std(a[n]))] for n in a.dtype.names})`, file('levy_like.npy'))
  for (const name of Object.keys(np)) {
    const x = a.field(name)
    t.is(x.dtype, 'float64')
    t.deepEqual(x.strides, [48])
    t.is(x.sum(), np[name][0], name)
    t.is(x.mean(), np[name][1], name)
    t.is(x.min(), np[name][2], name)
    t.is(x.argmax(), np[name][3], name)
    t.true(Math.abs((x.std() as number) - np[name][4]) <= 1e-15 * Math.abs(np[name][4]), name)
    t.throws(() => x.data, { code: 'ERR_MMNPY_NOT_CONTIGUOUS' })
    let total = 0
    for (const c of x.chunks({ rows: 10 })) total += c.size
    t.is(total, 64)
  }
  t.throws(() => a.field('nope'), { code: 'ERR_MMNPY_NOT_FOUND', message: /param/ })
  t.throws(() => a.sum(), { code: 'ERR_MMNPY_UNSUPPORTED_DTYPE', message: /field/ })
  t.throws(() => a.data, { code: 'ERR_MMNPY_UNSUPPORTED_DTYPE' })
  a.close()
  t.throws(() => a.field('x').sum(), { code: 'ERR_MMNPY_CLOSED' })
})

test('nested records, subarray fields, slices of records and writes through field views', (t) => {
  const dir = tmpDir(t)
  const p = path.join(dir, 'n.npy')
  fs.copyFileSync(file('rec_nested.npy'), p)
  const a = openNpy(p, { mode: 'r+' })
  const pos = a.field('pos')
  t.deepEqual(pos.shape, [3, 2, 2])
  t.is(pos.get(2, 1, 1), 2.75)
  pos.set(0, 0, 1, -1.5)
  a.field('meta').field('code').set(1, 9)
  a.set(2, { pos: [[1, 2], [3, 4]], meta: { code: 5, tag: 'q' }, t: '2024-02-29T12:00:00.5', name: 'née' })
  const r = a.slice('::-2')
  t.deepEqual(r.shape, [2])
  t.is((r.get(0) as { name: string }).name, 'née')
  t.throws(() => a.set(0, { pos: [[1, 2], [3, 4]] }), { message: /lacks the field 'meta'/ })
  t.throws(() => a.set(0, { pos: [[1, 2]], meta: { code: 1, tag: '' }, t: null, name: '' }), { message: /shape \[2, 2\]/ })
  t.throws(() => a.set(0, { pos: [[1, 2], [3, 4]], meta: { code: 1, tag: 'long' }, t: null, name: '' }), { code: 'ERR_MMNPY_VALUE_TOO_LONG' })
  a.flush()
  a.close()
  const got = py(`a = np.load(inp); out([float(a['pos'][0,0,1]), int(a['meta']['code'][1]), a['pos'][2].tolist(), int(a['meta']['code'][2]), a['meta']['tag'][2].decode(), str(a['t'][2]), str(a['name'][2])])`, p)
  t.deepEqual(got, [-1.5, 9, [[1, 2], [3, 4]], 5, 'q', '2024-02-29T12:00:00.500000', 'née'])
})

test("openNpy('w+') and saveNpy create records NumPy reads, with NumPy's header bytes", (t) => {
  const dir = tmpDir(t)
  const dtype = { names: ['id', 'when', 'x', 'name', 'm'], formats: ['<i4', '<M8[ns]', '>f8', '<U5', ['<f4', [3]]], offsets: [0, 8, 16, 24, 44], itemsize: 64 } as const
  const p = path.join(dir, 'w.npy')
  const a = openNpy(p, { mode: 'w+', shape: [3], dtype: dtype as never })
  t.deepEqual(a.fields!.map((f) => f.name), ['id', 'when', 'x', 'name', 'm'])
  a.set(0, { id: 7, when: new Date(Date.UTC(2020, 1, 3, 4, 5, 6, 789)), x: 1.5, name: 'Zoë', m: [1, 2, 3] })
  a.set(1, { id: -1, when: null, x: -0.25, name: '', m: new Float32Array([0.5, 0, -1]) })
  a.close()
  const np = py(`
a = np.load(inp['p'])
ref = np.zeros(3, np.dtype({'names': ['id', 'when', 'x', 'name', 'm'], 'formats': ['<i4', '<M8[ns]', '>f8', '<U5', ('<f4', (3,))], 'offsets': [0, 8, 16, 24, 44], 'itemsize': 64}))
ref[0] = (7, np.datetime64('2020-02-03T04:05:06.789', 'ns'), 1.5, 'Zoë', [1, 2, 3])
ref[1] = (-1, np.datetime64('NaT'), -0.25, '', [0.5, 0, -1])
import io
b = io.BytesIO(); np.save(b, ref)
out([a.tobytes() == ref.tobytes(), str(a.dtype) == str(ref.dtype), open(inp['p'], 'rb').read() == b.getvalue()])`, { p })
  t.deepEqual(np, [true, true, true])
  // Nested values through saveNpy.
  const q = path.join(dir, 's.npy')
  saveNpy(q, [['ab', 'ç'], ['', 'xyz']], { dtype: 'str3' })
  t.deepEqual(py(`a = np.load(inp); out([str(a.dtype), a.tolist()])`, q), ['<U3', [['ab', 'ç'], ['', 'xyz']]])
  const r = path.join(dir, 'l.npy')
  saveNpy(r, [{ a: 1n, b: 'x' }, { a: -2n, b: new Uint8Array([0, 1]) }], { dtype: [['a', '>i8'], ['b', 'S2']] as never })
  const want = py(`import io; a = np.array([(1, b'x'), (-2, b'\\x00\\x01')], [('a', '>i8'), ('b', 'S2')]); b = io.BytesIO(); np.save(b, a); out(list(b.getvalue()))`)
  t.deepEqual([...fs.readFileSync(r)], want)
})

test('datetime64: bigint ticks, null for NaT, Date and ISO conveniences that never round', (t) => {
  const a = loadNpy(file('M8_ns_be.npy'))
  t.is(a.get(0), 1714979289123456789n)
  t.is(a.get(1), null)
  t.throws(() => a.dateAt(0), { code: 'ERR_MMNPY_PRECISION' })
  t.deepEqual(a.dateAt(2), new Date(Date.UTC(1900, 0, 1)))
  t.is(a.dateAt(1), null)
  t.is(a.astype('int64').get(1), -(2n ** 63n))
  t.is(a.astype('int64').byteOrder, '>')
  const s = array(['2024-05-06T07:08:09', null, '1969-12-31T23:59:59'], { dtype: 'datetime64[s]' })
  t.deepEqual(s.toDates(), [new Date(Date.UTC(2024, 4, 6, 7, 8, 9)), null, new Date(-1000)])
  t.throws(() => s.set(0, '2024-05-06T07:08:09.5'), { code: 'ERR_MMNPY_PRECISION' })
  t.throws(() => s.set(0, new Date(1500)), { code: 'ERR_MMNPY_PRECISION' })
  t.throws(() => s.set(0, '2024-13-01'), { message: /not a valid date/ })
  s.set(0, '2024-02-29')
  t.is(s.get(0), BigInt(Date.UTC(2024, 1, 29) / 1000))
  const m = array(['2024-05', '1969-12'], { dtype: 'datetime64[M]' })
  t.deepEqual(m.toArray(), [652n, -1n])
  t.throws(() => m.set(0, '2024-05-02'), { code: 'ERR_MMNPY_PRECISION' })
  const w = array([3n], { dtype: 'datetime64[2s]' })
  t.deepEqual(w.dateAt(0), new Date(6000))
  t.throws(() => w.set(0, new Date(1000)), { code: 'ERR_MMNPY_PRECISION' })
  const d = array([1n, null], { dtype: 'timedelta64[ms]' })
  t.throws(() => d.set(0, new Date(0)), { code: 'ERR_MMNPY_INVALID_ARG' })
  t.throws(() => d.dateAt(0), { code: 'ERR_MMNPY_INVALID_ARG' })
})

const reduceCases = ['M8_ns.npy', 'M8_ns_be.npy', 'M8_ns_nonat.npy', 'M8_D.npy', 'M8_2d_F.npy', 'm8_ns.npy', 'm8_s_be_nat.npy']
test('datetime reductions follow NumPy, NaT included, sync and async', async (t) => {
  const np = py(`
res = {}
for f in inp['files']:
    a = np.load(inp['dir'] + '/' + f)
    enc = lambda v: None if np.isnat(v) else str(int(np.asarray(v).view('i8')))
    r = {'min': enc(a.min()), 'max': enc(a.max()), 'argmin': int(a.argmin()), 'argmax': int(a.argmax())}
    if a.dtype.kind == 'm':
        r['sum'] = enc(a.sum()); r['mean'] = enc(a.mean())
    res[f] = r
out(res)`, { dir: GENERATED, files: reduceCases })
  for (const f of reduceCases) {
    const a = loadNpy(file(f), { mmapMode: 'r' })
    for (const [op, want] of Object.entries(np[f] as Record<string, string | number | null>)) {
      const w = typeof want === 'string' ? BigInt(want) : want
      t.is((a as unknown as Record<string, () => unknown>)[op]!(), w, `${f} ${op}`)
      t.is(await (a as unknown as Record<string, () => Promise<unknown>>)[`${op}Async`]!(), w, `${f} ${op}Async`)
    }
    if (f.startsWith('M8')) t.throws(() => a.sum(), { code: 'ERR_MMNPY_UNSUPPORTED_DTYPE' })
    t.throws(() => a.min({ dtype: 'int64' }), { code: 'ERR_MMNPY_UNSUPPORTED_DTYPE' })
    a.close()
  }
})

test("datetime and timedelta reductions along an axis: NumPy's NaT rules per lane, strided views, sync and async", async (t) => {
  const dir = tmpDir(t)
  const np = py(`
rng = np.random.default_rng(5)
res = {}
for name, dt in [('M', '<M8[s]'), ('m', '<m8[ms]'), ('mb', '>m8[ns]')]:
    a = rng.integers(-10**6, 10**6, (5, 7, 3)).astype('i8').astype(dt)
    a[rng.random(a.shape) < 0.08] = np.array('NaT', dtype=dt)
    np.save(inp + '/' + name + '.npy', a)
    ops = ['min', 'max', 'argmin', 'argmax'] + (['sum', 'mean'] if dt[1] == 'm' else [])
    for view, v in [('a', a), ('aT', a.transpose(2, 0, 1)[:, ::-1, ::2])]:
        for op in ops:
            for axis in range(3):
                r = getattr(v, op)(axis=axis)
                enc = [None if r.dtype.kind in 'mM' and np.isnat(x) else str(int(np.asarray(x).view('i8') if r.dtype.kind in 'mM' else x)) for x in r.ravel()]
                res[f'{name} {view} {op} {axis}'] = [list(r.shape), str(r.dtype), enc]
out(res)`, dir)
  for (const name of ['M', 'm', 'mb']) {
    const a = loadNpy(path.join(dir, `${name}.npy`), { mmapMode: 'r' })
    for (const [view, v] of [['a', a], ['aT', a.transpose([2, 0, 1]).slice(':, ::-1, ::2')]] as const) {
      for (const op of ['min', 'max', 'argmin', 'argmax', ...(name === 'M' ? [] : ['sum', 'mean'])]) {
        for (const axis of [0, 1, 2]) {
          const key = `${name} ${view} ${op} ${axis}`
          const [shape, dtype, want] = np[key] as [number[], string, (string | null)[]]
          const call = (v as unknown as Record<string, (o: object) => NdArray>)[op]!.bind(v)
          const callAsync = (v as unknown as Record<string, (o: object) => Promise<NdArray>>)[`${op}Async`]!.bind(v)
          for (const r of [call({ axis }), await callAsync({ axis: axis - 3 })]) {
            t.deepEqual(r.shape, shape, key)
            t.is(r.dtype, op.startsWith('arg') ? 'int64' : a.dtype, `${key} (${dtype})`)
            t.deepEqual(flat(r).map((x) => (x === null ? null : String(x))), want, key)
            r.close()
          }
        }
      }
    }
    if (name === 'M') t.throws(() => a.sum({ axis: 0 }), { code: 'ERR_MMNPY_UNSUPPORTED_DTYPE' })
    a.close()
  }
})

test('strings: trailing NULs removed, too long refused, invalid UTF-32 names the index', (t) => {
  const s = loadNpy(file('S5.npy'))
  t.deepEqual(s.get(3), new Uint8Array([0x61, 0, 0x62]))
  t.throws(() => s.set(0, 'abcdef'), { code: 'ERR_MMNPY_VALUE_TOO_LONG' })
  t.throws(() => s.set(0, 'é'), { code: 'ERR_MMNPY_INVALID_ARG' })
  s.set(0, 'abcde')
  t.deepEqual(s.get(0), new Uint8Array([97, 98, 99, 100, 101]))
  const u = loadNpy(file('U6_be.npy'))
  t.is(u.get(2), '\u{1F600}x')
  t.throws(() => u.set(0, 'abcdefg'), { code: 'ERR_MMNPY_VALUE_TOO_LONG', message: /7 characters/ })
  t.throws(() => u.set(0, 'a\ud800'), { code: 'ERR_MMNPY_INVALID_STRING' })
  u.set(0, '\u{1F600}\u{1F600}')
  t.is(u.get(0), '\u{1F600}\u{1F600}')
  const bad = loadNpy(file(manifest.invalid_str.file))
  t.is(bad.get(0), 'ab')
  t.throws(() => bad.get(manifest.invalid_str.index), { code: 'ERR_MMNPY_INVALID_STRING', message: /element \[1\].*0x110000 at character 1/ })
  t.throws(() => bad.toArray(), { code: 'ERR_MMNPY_INVALID_STRING', message: /element \[1\]/ })
})

test('.npz members of these dtypes read like NumPy and save back', (t) => {
  const z = loadNpz(file(manifest.npz.file))
  for (const [key, m] of Object.entries(manifest.npz.members)) {
    const a = z.get(key)
    t.is(a.dtype as string, m.dtype)
    t.deepEqual(flat(a), m.values)
  }
  const dir = tmpDir(t)
  const p = path.join(dir, 'o.npz')
  saveNpz(p, { r: z.get('rec_nested'), t: z.get('M8_ns_be') })
  z.close()
  t.deepEqual(py(`z = np.load(inp); out([str(z['r'].dtype), str(z['t'].dtype), str(z['r']['t'][0]), str(z['t'][0])])`, p),
    ["[('pos', '<f4', (2, 2)), ('meta', [('code', '<u2'), ('tag', 'S3')]), ('t', '<M8[us]'), ('name', '<U4')]", '>M8[ns]', '2024-01-02T03:04:05.123456', '2024-05-06T07:08:09.123456789'])
})

test('hostile record headers are refused with clear errors', (t) => {
  const dir = tmpDir(t)
  const write = (name: string, descr: string, shape: string, data = 0) => {
    let text = `{'descr': ${descr}, 'fortran_order': False, 'shape': ${shape}, }`
    text += ' '.repeat(63 - ((text.length + 10) % 64)) + '\n'
    const head = Buffer.alloc(10)
    Buffer.from('\x93NUMPY', 'latin1').copy(head)
    head[6] = 1
    head.writeUInt16LE(text.length, 8)
    const p = path.join(dir, name)
    fs.writeFileSync(p, Buffer.concat([head, Buffer.from(text, 'latin1'), Buffer.alloc(data)]))
    return p
  }
  const cases: [string, string, string, RegExp][] = [
    [write('dup.npy', "[('a', '<i4'), ('a', '<f8')]", '(1,)', 12), 'ERR_MMNPY_BAD_HEADER', '(1,)', /two fields named "a"/],
    [write('overlap.npy', "{'names': ['a', 'b'], 'formats': ['<f8', '<f8'], 'offsets': [0, 4], 'itemsize': 16}", '(1,)', 16), 'ERR_MMNPY_BAD_HEADER', '', /overlap/],
    [write('past.npy', "{'names': ['a'], 'formats': ['<f8'], 'offsets': [12], 'itemsize': 16}", '(1,)', 16), 'ERR_MMNPY_BAD_HEADER', '', /past/],
    [write('zero.npy', '[]', '(1000000000000000,)'), 'ERR_MMNPY_BAD_SHAPE', '', /zero-size/],
    [write('eval.npy', "[('a', __import__('os'))]", '(1,)'), 'ERR_MMNPY_BAD_HEADER', '', /never evaluated/],
    [write('obj.npy', "[('a', '|O')]", '(1,)', 8), 'ERR_MMNPY_UNSUPPORTED_DTYPE', '', /pickle/],
    [write('short.npy', "[('a', '<f8', (4,))]", '(2,)', 40), 'ERR_MMNPY_TRUNCATED', '', /64 data bytes/],
  ]
  for (const [p, code, , message] of cases) {
    t.throws(() => loadNpy(p, { mmapMode: 'r' }), { code, message }, p)
    t.throws(() => loadNpy(p), { code, message }, p)
  }
})
