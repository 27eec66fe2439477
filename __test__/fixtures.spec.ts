// mmnpy against files written by NumPy itself, and against a corpus of broken/hostile files.
//
// The fixtures come from __test__/fixtures/make_fixtures.py (run before ava by the test
// runner; run here too when the manifest is missing). Everything is data-driven from
// __test__/fixtures/generated/manifest.json: one ava test per fixture and mode.
import test from 'ava'
import type { ExecutionContext } from 'ava'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import { loadNpy, openNpy, memmap, fromFile, MmnpyError } from '../index'

// ----------------------------------------------------------------------------- manifest

const FIXTURES = path.join(__dirname, 'fixtures')
const GENERATED = path.join(FIXTURES, 'generated')
const MANIFEST = path.join(GENERATED, 'manifest.json')

// Tests are declared from the manifest, so it must exist before any test is declared:
// a test.before hook would run too late.
if (!fs.existsSync(MANIFEST)) {
  execFileSync('python3', [path.join(FIXTURES, 'make_fixtures.py'), GENERATED], { stdio: 'inherit' })
}

type EncFloat = number | 'nan' | 'inf' | '-inf' | '-0'
type Enc = boolean | number | string | [EncFloat, EncFloat]

interface GoodEntry {
  file: string
  dtype: string
  descr: string
  byteOrder: '<' | '>' | '|'
  shape: number[]
  fortranOrder: boolean
  version: [number, number]
  dataOffset: number
  itemsize: number
  strides: number[]
  cContiguous: boolean
  fContiguous: boolean
  values: Enc[]
  handmade?: boolean
}

interface RawEntry {
  file: string
  dtype: string // what to pass to memmap/fromFile ('float64', '>f4', '<i8', ...)
  canonical: string
  byteOrder: '<' | '>' | '|'
  offset: number
  count: number
  fileSize: number
  shape?: number[]
  order?: 'C' | 'F'
  values: Enc[] // logical C order of the (shaped) array
  fileValues: Enc[] // elements in the order they are stored in the file
}

interface BrokenEntry {
  file: string
  code: string
  what: string
  mentions: string
  numpy: string
}

const manifest: { good: GoodEntry[]; raw: RawEntry[]; broken: BrokenEntry[] } = JSON.parse(
  fs.readFileSync(MANIFEST, 'utf8'),
)

// ----------------------------------------------------------------------------- helpers

type Mode = 'r' | 'c' | 'r+' | null // null: read into memory
const MODES: Mode[] = ['r', 'c', 'r+', null]
const label = (mode: Mode) => mode ?? 'memory'
const loadOpts = (mode: Mode) => (mode === null ? {} : { mmapMode: mode })

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'mmnpy-fixtures-'))
test.after.always(() => fs.rmSync(tmpRoot, { recursive: true, force: true }))

/** A private copy (same basename) for modes that may write: fixtures stay pristine. */
function copyToTemp(src: string): string {
  const dir = fs.mkdtempSync(path.join(tmpRoot, 't-'))
  const dst = path.join(dir, path.basename(src))
  fs.copyFileSync(src, dst)
  return dst
}

/** Size + SHA-256; the size is checked first so a file grown to terabytes is not read. */
function fingerprint(file: string, expectedSize?: number): string {
  const size = fs.statSync(file).size
  if (expectedSize !== undefined && size !== expectedSize) return `size ${size}`
  return `size ${size} sha256 ${createHash('sha256').update(fs.readFileSync(file)).digest('hex')}`
}

function decodeFloat(v: EncFloat): number {
  if (typeof v === 'number') return v
  switch (v) {
    case 'nan':
      return Number.NaN
    case 'inf':
      return Number.POSITIVE_INFINITY
    case '-inf':
      return Number.NEGATIVE_INFINITY
    case '-0':
      return -0
  }
  throw new Error(`bad float encoding ${String(v)}`)
}

/** Manifest encoding -> what mmnpy returns: bool boolean, (u)int64 bigint, complex {re, im}. */
function decode(dtype: string, v: Enc): unknown {
  if (dtype === 'bool') return v as boolean
  if (dtype === 'int64' || dtype === 'uint64') return BigInt(v as string)
  if (dtype.startsWith('complex')) {
    const [re, im] = v as [EncFloat, EncFloat]
    return { re: decodeFloat(re), im: decodeFloat(im) }
  }
  if (dtype.startsWith('float')) return decodeFloat(v as EncFloat)
  return v as number
}

/** Exact equality: NaN equals NaN, -0 differs from 0, bigint by value, complex by parts. */
function same(actual: unknown, expected: unknown): boolean {
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null) return false
    const a = actual as { re: unknown; im: unknown }
    const e = expected as { re: number; im: number }
    return Object.is(a.re, e.re) && Object.is(a.im, e.im)
  }
  return Object.is(actual, expected)
}

function show(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`
  if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v)
  if (typeof v === 'object' && v !== null && 're' in v) {
    const c = v as { re: unknown; im: unknown }
    return `{re: ${show(c.re)}, im: ${show(c.im)}}`
  }
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`
  return typeof v === 'string' ? JSON.stringify(v) : String(v)
}

/** Flat C-order list -> nested arrays of `shape`; a 0-D shape gives the scalar (like tolist()). */
function nest(flat: unknown[], shape: readonly number[]): unknown {
  if (shape.length === 0) return flat[0]
  const [n, ...rest] = shape
  const step = rest.reduce((p, d) => p * d, 1)
  return Array.from({ length: n! }, (_, i) => nest(flat.slice(i * step, (i + 1) * step), rest))
}

/** First difference between nested actual and expected, or null. */
function firstMismatch(actual: unknown, expected: unknown, where = ''): string | null {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${where || 'value'}: expected an array, got ${show(actual)}`
    if (actual.length !== expected.length) {
      return `${where || 'value'}: length ${actual.length}, expected ${expected.length}`
    }
    for (let i = 0; i < expected.length; i++) {
      const m = firstMismatch(actual[i], expected[i], `${where}[${i}]`)
      if (m) return m
    }
    return null
  }
  return same(actual, expected) ? null : `${where || 'value'}: got ${show(actual)}, expected ${show(expected)}`
}

/** Every multi-index of `shape` in C (row-major) order; one empty index for 0-D. */
function* indices(shape: readonly number[]): Generator<number[]> {
  const n = shape.reduce((p, d) => p * d, 1)
  for (let k = 0; k < n; k++) {
    const idx = new Array<number>(shape.length)
    let r = k
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d] = r % shape[d]!
      r = Math.floor(r / shape[d]!)
    }
    yield idx
  }
}

type Arr = ReturnType<typeof loadNpy>
type DTypeArg = NonNullable<NonNullable<Parameters<typeof memmap>[1]>['dtype']>

interface Expect {
  dtype: string
  byteOrder: string
  shape: number[]
  values: unknown[] // decoded, flat C order
  strides?: number[]
  itemsize?: number
  cContiguous?: boolean
  fContiguous?: boolean
  mode: Mode
  offset?: number // checked for file-backed arrays only
  filename?: string // checked for file-backed arrays only
}

/** Metadata, toArray(), get() on every element, negative and out-of-range indices, close(). */
function checkArray(t: ExecutionContext, a: Arr, e: Expect): void {
  const size = e.shape.reduce((p, d) => p * d, 1)
  t.is(a.dtype, e.dtype as Arr['dtype'], 'dtype')
  t.is(a.byteOrder, e.byteOrder as Arr['byteOrder'], 'byteOrder')
  t.deepEqual([...a.shape], e.shape, 'shape')
  t.is(a.ndim, e.shape.length, 'ndim')
  t.is(a.size, size, 'size')
  if (e.itemsize !== undefined) {
    t.is(a.itemsize, e.itemsize, 'itemsize')
    t.is(a.nbytes, size * e.itemsize, 'nbytes')
  }
  if (e.strides) t.deepEqual([...a.strides], e.strides, 'strides')
  if (e.cContiguous !== undefined) t.is(a.flags.cContiguous, e.cContiguous, 'flags.cContiguous')
  if (e.fContiguous !== undefined) t.is(a.flags.fContiguous, e.fContiguous, 'flags.fContiguous')
  t.is(a.mode, e.mode, 'mode')
  t.is(a.flags.writeable, e.mode !== 'r', 'flags.writeable')
  if (e.mode !== null) {
    if (e.offset !== undefined) t.is(a.offset, e.offset, 'offset')
    if (e.filename !== undefined) {
      t.true(typeof a.filename === 'string' && path.isAbsolute(a.filename), `filename ${a.filename} is absolute`)
      if (a.filename) t.is(fs.realpathSync(a.filename), fs.realpathSync(e.filename), 'filename')
    }
  }
  t.false(a.closed, 'closed before close()')

  const nested = nest(e.values, e.shape)
  const mismatch = firstMismatch(a.toArray(), nested)
  t.is(mismatch, null, `toArray() ${mismatch ?? ''}`)

  let bad: string | null = null
  let k = 0
  for (const idx of indices(e.shape)) {
    const got = a.get(...idx)
    if (!same(got, e.values[k])) {
      bad = `get(${idx.join(', ')}) = ${show(got)}, expected ${show(e.values[k])}`
      break
    }
    k++
  }
  t.is(bad, null, bad ?? '')

  if (e.shape.length > 0 && size > 0) {
    const last = a.get(...e.shape.map(() => -1))
    t.true(same(last, e.values[size - 1]), `get(-1, ...) = ${show(last)}, expected ${show(e.values[size - 1])}`)
  }
  if (e.shape.length > 0) {
    const outOfRange = e.shape.map((d, i) => (i === 0 ? d : 0))
    t.throws(() => a.get(...outOfRange), { instanceOf: RangeError }, `get(${outOfRange.join(', ')})`)
  }

  a.close()
  t.true(a.closed, 'closed after close()')
  t.notThrows(() => a.close(), 'close() is idempotent')
}

// ----------------------------------------------------------------------------- good files

for (const g of manifest.good) {
  const src = path.join(GENERATED, g.file)
  const values = g.values.map((v) => decode(g.dtype, v))
  const expect = (mode: Mode, file: string): Expect => ({
    dtype: g.dtype,
    byteOrder: g.byteOrder,
    shape: g.shape,
    values,
    strides: g.strides,
    itemsize: g.itemsize,
    cContiguous: g.cContiguous,
    fContiguous: g.fContiguous,
    mode,
    offset: g.dataOffset,
    filename: file,
  })

  for (const mode of MODES) {
    test(`${g.file} ${label(mode)}`, (t) => {
      const file = mode === 'r+' ? copyToTemp(src) : src
      const before = fingerprint(file)
      const a = loadNpy(file, loadOpts(mode))
      checkArray(t, a, expect(mode, file))
      t.is(fingerprint(file), before, 'reading must not change the file')
    })
  }

  test(`${g.file} openNpy r`, (t) => {
    const before = fingerprint(src)
    const a = openNpy(src, { mode: 'r' })
    checkArray(t, a, expect('r', src))
    t.is(fingerprint(src), before, 'reading must not change the file')
  })
}

// ----------------------------------------------------------------------------- raw files

for (const r of manifest.raw) {
  const src = path.join(GENERATED, r.file)
  const decodeAll = (vs: Enc[]) => vs.map((v) => decode(r.canonical, v))
  const shape = r.shape ?? [r.count]
  const itemsize = (r.fileSize - r.offset) / r.count

  for (const mode of ['r', 'c', 'r+'] as const) {
    test(`${r.file} memmap ${mode}`, (t) => {
      const file = mode === 'r+' ? copyToTemp(src) : src
      const before = fingerprint(file)
      const a = memmap(file, {
        dtype: r.dtype as DTypeArg,
        mode,
        offset: r.offset,
        ...(r.shape ? { shape: r.shape, order: r.order } : {}),
      })
      checkArray(t, a, {
        dtype: r.canonical,
        byteOrder: r.byteOrder,
        shape,
        values: decodeAll(r.values),
        itemsize,
        mode,
        offset: r.offset,
        filename: file,
      })
      t.is(fingerprint(file), before, 'reading must not change the file')
    })
  }

  test(`${r.file} memmap bigint offset`, (t) => {
    const a = memmap(src, {
      dtype: r.dtype as DTypeArg,
      mode: 'r',
      offset: BigInt(r.offset),
      ...(r.shape ? { shape: r.shape, order: r.order } : {}),
    })
    t.is(a.offset, r.offset)
    const mismatch = firstMismatch(a.toArray(), nest(decodeAll(r.values), shape))
    t.is(mismatch, null, mismatch ?? '')
    a.close()
  })

  test(`${r.file} fromFile`, (t) => {
    const fileValues = decodeAll(r.fileValues)
    const all = fromFile(src, { dtype: r.dtype as DTypeArg, offset: r.offset, count: r.count })
    checkArray(t, all, { dtype: r.canonical, byteOrder: r.byteOrder, shape: [r.count], values: fileValues, itemsize, mode: null })

    const dflt = fromFile(src, { dtype: r.dtype as DTypeArg, offset: r.offset }) // count = -1: to the end
    t.deepEqual([...dflt.shape], [r.count])
    t.is(firstMismatch(dflt.toArray(), fileValues), null)
    dflt.close()

    const two = fromFile(src, { dtype: r.dtype as DTypeArg, offset: r.offset, count: 2 })
    t.deepEqual([...two.shape], [2])
    t.is(firstMismatch(two.toArray(), fileValues.slice(0, 2)), null)
    two.close()
  })
}

// ----------------------------------------------------------------------------- broken files

test('MmnpyError is exported as a class', (t) => {
  t.is(typeof MmnpyError, 'function')
})

function expectRejected(t: ExecutionContext, b: BrokenEntry, file: string, open: () => Arr): void {
  const before = fingerprint(file)
  const err = t.throws(
    () => {
      const a = open()
      a.close() // only reached when the library wrongly accepts the file
    },
    { code: b.code },
    `${b.file} (${b.what}) must be rejected with ${b.code}`,
  )
  if (err) {
    if (typeof MmnpyError === 'function') t.true(err instanceof MmnpyError, 'instanceof MmnpyError')
    t.true(err.message.includes(path.basename(file)), `message names the file: ${err.message}`)
    t.true(
      err.message.toLowerCase().includes(b.mentions.toLowerCase()),
      `message mentions '${b.mentions}': ${err.message}`,
    )
  }
  t.is(fingerprint(file, fs.statSync(path.join(GENERATED, b.file)).size), before, 'file must be left unchanged')
  t.false(fs.existsSync('PWNED'), 'the header was evaluated as code')
}

for (const b of manifest.broken) {
  const src = path.join(GENERATED, b.file)
  for (const mode of MODES) {
    test(`${b.file} ${label(mode)}`, (t) => {
      const file = mode === 'r+' ? copyToTemp(src) : src
      expectRejected(t, b, file, () => loadNpy(file, loadOpts(mode)))
    })
  }
  test(`${b.file} openNpy r+`, (t) => {
    const file = copyToTemp(src)
    expectRejected(t, b, file, () => openNpy(file, { mode: 'r+' }))
  })
}
