// The dtypes ETL files carry (issue 15) inside Part 2's containers: joblib files (records packed,
// aligned, nested, with subarrays, big-endian; datetime64/timedelta64 in every unit with NaT; S and
// U strings) written by Python's joblib.dump and pickle.dump read element by element, mapped where
// joblib maps them and in the byte order joblib.load gives; Node-written files read back by
// joblib.load(mmap_mode='r') byte for byte with the same dtype; hostile dtype states are in the
// joblib corpus (make_joblib_fixtures.py). HDF5: h5py-written compound datasets (packed, aligned,
// nested with subarray and string members, chunked + gzip), fixed-length strings and a tagged
// datetime64 read as the record / S<n> / datetime dtypes h5py gives, element by element;
// variable-length strings through readStrings, compared with h5py's asstr().
//
// Fixtures: __test__/fixtures/make_dtype_fixtures.py, into a folder of this spec's own.
import test from 'ava'
import * as fs from 'node:fs'
import * as path from 'node:path'

import { dump, fromFile, load, loadNpy, memmap, openH5, NdArray } from '../index'
import { pyAsync, tmpDir } from './helpers/numpy'
import { DtypeFixture, dtypeFixtures, flat } from './helpers/dtype-values'

interface Got { dtype: string; byteOrder: string; fields: unknown; memmap: boolean; offset: number | null; shape: number[] }
interface JoblibFixture { file: string; of: string; key: string | null; compress: string | null; memory: Got; mapped: Got }
interface H5Fixture {
  name: string; dtype: string; byteOrder: string; fields: unknown; shape: number[]; layout: string; values: unknown[] | null
  strings: string[] | null; slice: { spec: string; strings: string[] } | null
}
const { dir: GENERATED, manifest, file } = dtypeFixtures<{ files: DtypeFixture[]; joblib: JoblibFixture[]; h5: { file: string; datasets: H5Fixture[] } }>('dtypes-formats')
const npy = new Map(manifest.files.map((f) => [f.file, f]))

for (const j of manifest.joblib) {
  const name = j.key === null ? j.file : `${j.file} ['${j.key}']`
  test(`${name}: load gives what joblib.load gives, in memory and with mmapMode 'r'`, (t) => {
    const want = npy.get(j.of)!
    // A compressed file is read into memory with or without mmapMode, in the machine's byte order
    // (what joblib.load gives without mmap_mode; with it, joblib 1.6 keeps the file's order).
    const mapped = j.compress === null ? j.mapped : j.memory
    for (const [opts, got] of [[{}, j.memory], [{ mmapMode: 'r' as const }, mapped]] as const) {
      const v = load(file(j.file), opts) as unknown
      const a = (j.key === null ? v : (v as Record<string, unknown>)[j.key]) as NdArray
      t.true(a instanceof NdArray, `${name} ${JSON.stringify(opts)}`)
      t.is(a.dtype as string, got.dtype)
      t.is(a.byteOrder as string, got.byteOrder)
      t.deepEqual(a.fields, got.fields as never)
      t.deepEqual(a.shape, got.shape)
      if (got.memmap) t.is(a.offset, got.offset!)
      t.deepEqual(flat(a), want.values)
      a.close()
    }
  })
}

const ROUND_TRIP = manifest.files.filter((f) => f.file !== 'invalid_str.npy').map((f) => f.file)

for (const compress of [false, 3] as const) {
  test(`dump (compress ${compress}) of record, datetime and string arrays and field views: joblib.load (mmap_mode='r' when uncompressed) gives them byte for byte`, async (t) => {
    const dir = tmpDir(t)
    const value: Record<string, NdArray> = {}
    for (const f of ROUND_TRIP) value[f] = loadNpy(file(f), { mmapMode: 'r' })
    // Strided views: one field of a record (scalar, subarray, nested record), every other record.
    const views: Record<string, [string, string | null, string | null]> = {
      'rec_packed.x': ['rec_packed.npy', 'x', null],
      'rec_nested.pos': ['rec_nested.npy', 'pos', null],
      'rec_nested.meta': ['rec_nested.npy', 'meta', null],
      'rec_be.s': ['rec_be.npy', 's', null],
      'levy_like[::3]': ['levy_like.npy', null, '::3'],
      'rec_fortran.v': ['rec_fortran.npy', 'v', null],
    }
    for (const [k, [f, field, slice]] of Object.entries(views)) {
      const a = value[f]!
      value[k] = field !== null ? a.field(field) : a.slice(slice!)
    }
    const p = path.join(dir, 'etl.joblib')
    dump(value, p, { compress })
    const r = await pyAsync(
      `import warnings, joblib
from joblib.numpy_pickle_utils import _ensure_native_byte_order
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    v = joblib.load(inp['file'], mmap_mode='r' if inp['mapped'] else None)
def same_bytes(a, ref):
    # Field by field: joblib reads a compressed record array into np.empty, whose padding differs.
    if a.dtype.names is None:
        return a.tobytes() == ref.tobytes()
    return all(same_bytes(a[n], ref[n]) for n in a.dtype.names)
bad = []
for k, (f, field, sl) in inp['expect'].items():
    ref = np.load(inp['dir'] + '/' + f)
    if field is not None: ref = ref[field]
    if sl is not None: ref = ref[::3]
    if not inp['mapped']: ref = _ensure_native_byte_order(ref)  # what joblib.load does without mmap_mode
    a = v[k]
    same = (a.dtype == ref.dtype and a.dtype.descr == ref.dtype.descr and a.dtype.itemsize == ref.dtype.itemsize
            and a.shape == ref.shape and same_bytes(a, ref) and isinstance(a, np.memmap) == inp['mapped'])
    if a.dtype.kind not in 'MmV' and a.dtype.names is None: same = same and np.array_equal(a, ref)
    if not same: bad.append([k, str(a.dtype), str(ref.dtype), a.shape, ref.shape])
out({'bad': bad, 'warnings': [str(w.message) for w in caught], 'keys': sorted(v)})`,
      {
        file: p,
        dir: GENERATED,
        mapped: compress === false,
        expect: Object.fromEntries([...ROUND_TRIP.map((f) => [f, [f, null, null]]), ...Object.entries(views)]),
      },
    )
    t.deepEqual(r.bad, [])
    t.deepEqual(r.warnings, [])
    t.deepEqual(r.keys, Object.keys(value).sort())
    // And back: load reads what dump wrote.
    const back = load(p, { mmapMode: 'r' }) as Record<string, NdArray>
    for (const [k, a] of Object.entries(value)) {
      // (a compressed file is read in the machine's byte order)
      if (compress === false) t.is(back[k]!.dtype, a.dtype, k)
      t.deepEqual(flat(back[k]!), flat(a), k)
    }
    for (const a of [...Object.values(back), ...Object.values(value)]) a.close()
  })
}

/** NumPy's spelling of a fixture's dtype in its byte order (`'>M8[ns]'`, `'S5'`, `'<U6'`, a record's list). */
function spell(f: DtypeFixture): string {
  const m = /^(datetime64|timedelta64)(\[.*\])?$/.exec(f.dtype)
  if (m) return `${f.byteOrder}${m[1] === 'datetime64' ? 'M8' : 'm8'}${m[2] ?? ''}`
  if (f.dtype.startsWith('bytes')) return `S${f.dtype.slice(5)}`
  if (f.dtype.startsWith('str')) return `${f.byteOrder}U${f.dtype.slice(3)}`
  return f.dtype
}

const RAW = manifest.files.filter((f) => f.file !== 'invalid_str.npy')

test('memmap and fromFile read the data of every record, datetime and string fixture as np.memmap and np.fromfile do', (t) => {
  for (const f of RAW) {
    const ref = loadNpy(file(f.file), { mmapMode: 'r' })
    const offset = ref.offset
    const size = f.shape.reduce((a, b) => a * b, 1)
    const order = f.fortranOrder ? 'F' : 'C'
    const m = memmap(file(f.file), { dtype: spell(f), mode: 'r', offset, shape: f.shape, order })
    t.is(m.dtype, ref.dtype, f.file)
    t.is(m.byteOrder, ref.byteOrder, f.file)
    t.deepEqual(m.fields, ref.fields, f.file)
    t.deepEqual(flat(m), f.values, f.file)
    // Without a shape: every whole element after the offset, in file order.
    const whole = memmap(file(f.file), { dtype: spell(f), mode: 'r', offset })
    t.deepEqual(whole.shape, [size], f.file)
    const inFile = f.fortranOrder ? flat(ref.transpose()) : f.values
    t.deepEqual(flat(whole), size === 0 ? [] : inFile, f.file)
    const r = fromFile(file(f.file), { dtype: spell(f), offset })
    t.is(r.mode, null)
    t.deepEqual(flat(r), flat(whole), f.file)
    if (size > 1) t.deepEqual(flat(fromFile(file(f.file), { dtype: spell(f), offset, count: size - 1 })), flat(whole).slice(0, size - 1), f.file)
    for (const a of [ref, m, whole, r]) a.close()
  }
})

test("memmap 'w+' of a record dtype given as names/formats: np.fromfile reads the records written through it", async (t) => {
  const p = path.join(tmpDir(t), 'ticks.bin')
  const dtype = { names: ['t', 'px', 'sym'], formats: ['<M8[ns]', '<f8', 'S4'] }
  const m = memmap(p, { dtype, mode: 'w+', offset: 16, shape: [3] })
  t.is(m.dtype as string, "[('t', '<M8[ns]'), ('px', '<f8'), ('sym', '|S4')]")
  m.set(0, { t: 1_700_000_000_000_000_000n, px: 1.5, sym: Buffer.from('ABC') })
  m.set(2, { t: null, px: -2, sym: Buffer.from('WXYZ') })
  m.flush()
  m.close()
  const r = await pyAsync(
    `a = np.fromfile(inp, dtype=[('t', '<M8[ns]'), ('px', '<f8'), ('sym', 'S4')], offset=16)
out([[str(x['t']), float(x['px']), x['sym'].decode()] for x in a])`,
    p,
  )
  t.deepEqual(r, [['2023-11-14T22:13:20.000000000', 1.5, 'ABC'], ['1970-01-01T00:00:00.000000000', 0, ''], ['NaT', -2, 'WXYZ']])
  const back = fromFile(p, { dtype: [['t', '<M8[ns]'], ['px', '<f8'], ['sym', 'S4']], offset: 16 })
  t.deepEqual(back.get(0), { t: 1_700_000_000_000_000_000n, px: 1.5, sym: new Uint8Array(Buffer.from('ABC')) })
  back.close()
})

test('memmap and fromFile refuse a bad dtype, a partial element and a 0-byte dtype with a stable code', (t) => {
  const p = path.join(tmpDir(t), 'raw.bin')
  fs.writeFileSync(p, Buffer.alloc(30))
  const code = (f: () => unknown) => (t.throws(f) as Error & { code: string }).code
  t.is(code(() => memmap(p, { dtype: { names: ['a'], formats: ['<q9'] }, mode: 'r' })), 'ERR_MMNPY_UNSUPPORTED_DTYPE')
  t.is(code(() => fromFile(p, { dtype: { names: 'a' } as never })), 'ERR_MMNPY_INVALID_ARG')
  // 30 bytes are not a whole number of 12-byte records (np.memmap refuses too).
  t.is(code(() => memmap(p, { dtype: [['a', '<i4'], ['b', '<f8']], mode: 'r' })), 'ERR_MMNPY_INVALID_ARG')
  t.deepEqual(fromFile(p, { dtype: [['a', '<i4'], ['b', '<f8']] }).shape, [2])
  t.is(code(() => fromFile(p, { dtype: [['a', '<i4'], ['b', '<f8']], count: 3 })), 'ERR_MMNPY_TRUNCATED')
  t.is(code(() => memmap(p, { dtype: 'S0' as never, mode: 'r' })), code(() => fromFile(p, { dtype: 'S0' as never })))
})

const flatStrings = (x: unknown): string[] => (Array.isArray(x) ? x.flatMap(flatStrings) : [x as string])

for (const d of manifest.h5.datasets) {
  test(`HDF5 ${d.name}: read like h5py (${d.dtype})`, (t) => {
    const f = openH5(file(manifest.h5.file))
    t.teardown(() => f.close())
    const ds = f.get(d.name) as ReturnType<typeof f.get> & { dtype: string; byteOrder: string; shape: readonly number[]; read(...s: unknown[]): NdArray; readStrings(...s: unknown[]): unknown; mmap(): NdArray }
    t.is(ds.dtype as string, d.dtype)
    t.deepEqual([...ds.shape], d.shape)
    if (d.strings !== null) {
      // Variable-length strings: no NdArray dtype holds them.
      const e = t.throws(() => ds.read()) as Error & { code: string }
      t.is(e.code, 'ERR_MMNPY_UNSUPPORTED_DTYPE')
      t.regex(e.message, /variable-length strings.*readStrings/)
      t.is((t.throws(() => ds.mmap()) as Error & { code: string }).code, 'ERR_MMNPY_NOT_MAPPABLE')
      const all = ds.readStrings()
      t.deepEqual(d.shape.length === 0 ? [all] : flatStrings(all), d.strings)
      if (d.shape.length === 0) t.is(typeof all, 'string')
      if (d.slice) t.deepEqual(flatStrings(ds.readStrings(d.slice.spec)), d.slice.strings)
      return
    }
    t.is((t.throws(() => ds.readStrings()) as Error & { code: string }).code, 'ERR_MMNPY_UNSUPPORTED_DTYPE')
    const a = ds.read()
    t.is(a.dtype as string, d.dtype)
    t.is(a.byteOrder as string, d.byteOrder)
    t.deepEqual(a.fields, d.fields as never)
    t.deepEqual(flat(a), d.values)
    if (a.fields !== null) {
      // A field of a record read from HDF5 is a strided view the kernels run on.
      const num = (a.fields as { name: string; dtype: string; shape: number[] }[]).find((x) => /^(float|int|uint)\d+$/.test(x.dtype) && x.shape.length === 0)
      if (num) {
        const col = a.field(num.name)
        const want = (d.values as Record<string, unknown>[]).map((r) => Number(r[num.name] as number | string))
        const sum = want.reduce((x, y) => x + y, 0)
        t.true(Math.abs(Number(col.sum()) - sum) <= 1e-12 * Math.max(1, Math.abs(sum)), `${num.name}: ${String(col.sum())} vs ${sum}`)
      }
    }
    // A part of it, as h5py's d[1:3] (rows of records, strings).
    if (d.shape.length === 1 && d.shape[0]! > 3) t.deepEqual(flat(ds.read('1:3')), d.values!.slice(1, 3))
    // Mapped where it is contiguous and aligned for its dtype, else refused saying why.
    if (d.layout === 'contiguous') {
      try {
        const m = ds.mmap()
        t.deepEqual(flat(m), d.values)
        m.close()
      } catch (e) {
        t.is((e as { code: string }).code, 'ERR_MMNPY_NOT_MAPPABLE')
      }
    }
    a.close()
  })
}
