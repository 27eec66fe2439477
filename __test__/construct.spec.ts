// Constructors (zeros, ones, empty, full, arange, linspace) against NumPy, bit for bit:
// one python3 process computes every expected array (or the exception NumPy raises).
import test from 'ava'
import * as path from 'node:path'

import { arange, arangeAsync, empty, full, fullAsync, linspace, linspaceAsync, ones, onesAsync, zeros } from '../index'
import type { NdArray, Scalar } from '../index'
import { DTYPES, differs, noFailures, outcome, outcomeAsync, sameError, shaOf, show, tag } from './helpers/expect'
import type { Digest, Enc } from './helpers/expect'
import { py } from './helpers/numpy'

const EXPECT_PY = String.raw`
import sys, warnings
sys.path.insert(0, inp['helpers'])
from npcases import *
warnings.simplefilter('ignore')
DT = inp['dtypes']
res = {}
res['zeros'] = {d + ' ' + o: [enc(np.zeros(s, d, order=o)) for s in [(), (0,), (3,), (2, 3), (2, 0, 4)]] for d in DT for o in 'CF'}
res['ones'] = {d: enc(np.ones((2, 3), d)) for d in DT}
res['ones_default'] = enc(np.ones(4))
res['full'] = [attempt(lambda: np.full((2, 2), dec(c['v']), dtype=c['dtype'])) for c in inp['full']]
res['arange'] = [attempt(lambda: np.arange(*[dec(a) for a in c['args']], dtype=c['dtype'])) for c in inp['arange']]
res['arange_large'] = [digest(np.arange(0.5, 100000.25, 0.1)), digest(np.arange(-3, 1e6, 0.7, dtype=np.float32)), digest(np.arange(7, 3000000, 3, dtype=np.int16))]
res['linspace'] = [attempt(lambda: np.linspace(dec(c['start']), dec(c['stop']), c['num'], endpoint=c['endpoint'], dtype=c['dtype'])) for c in inp['linspace']]
res['linspace_large'] = digest(np.linspace(-1.5, 1e3, 1000003))
out(res)
`

type Bound = number | bigint
const FULL: { v: Scalar; dtype: string | null }[] = [
  { v: 7, dtype: null }, { v: 7.5, dtype: null }, { v: -0, dtype: null }, { v: true, dtype: null }, { v: 2n ** 63n, dtype: null },
  { v: -(2n ** 63n), dtype: null }, { v: { re: 1.5, im: -2 }, dtype: null }, { v: NaN, dtype: null },
  { v: 2.7, dtype: 'int8' }, { v: -2.7, dtype: 'int64' }, { v: 300, dtype: 'int8' }, { v: -1, dtype: 'uint16' }, { v: 0.1, dtype: 'float16' },
  { v: 1 + 2 ** -11 + 2 ** -40, dtype: 'float16' }, { v: 2n ** 60n + 1n, dtype: 'float64' }, { v: { re: 1.5, im: -2 }, dtype: 'float32' },
  { v: { re: 0, im: 1 }, dtype: 'bool' }, { v: 0.5, dtype: 'bool' }, { v: 3, dtype: 'complex64' }, { v: 1e20, dtype: 'float32' },
  { v: 5, dtype: '>i4' }, { v: 0.1, dtype: '>c16' }, { v: 255, dtype: 'uint8' }, { v: 256, dtype: 'uint8' },
]
const ARANGE: { args: Bound[]; dtype: string | null }[] = [
  { args: [10], dtype: null }, { args: [0.5, 3], dtype: null }, { args: [0.1, 10.3, 0.7], dtype: null }, { args: [1e16, 1e16 + 100, 3.3], dtype: null },
  { args: [0.5, 1e5 + 0.5, 7.1], dtype: 'float32' }, { args: [-3, 5, 0.3], dtype: 'float16' }, { args: [-3, 3000, 0.7], dtype: 'float16' },
  { args: [5, 1], dtype: null }, { args: [0, 10, -1], dtype: null }, { args: [10, 0, -3], dtype: null }, { args: [10.5, 0, -0.25], dtype: null },
  { args: [0.5, 10, 1], dtype: 'int64' }, { args: [-100, 200, 200], dtype: 'int8' }, { args: [0, 300], dtype: 'int8' }, { args: [0, 5, 1], dtype: 'complex64' },
  { args: [0.25, 5, 0.5], dtype: 'complex128' }, { args: [2n ** 63n - 3n, 2n ** 63n - 1n], dtype: null }, { args: [2n ** 63n, 2n ** 64n - 1n, 2n ** 62n], dtype: null },
  { args: [2], dtype: 'bool' }, { args: [3], dtype: 'bool' }, { args: [0, 10, 0], dtype: null }, { args: [0, 1, 0.0 / 0], dtype: null },
  { args: [0, 1 / 0], dtype: null }, { args: [1, 2, 3], dtype: '>f8' }, { args: [-1.5, 1e300, 3e299], dtype: 'float64' },
  ...DTYPES.flatMap((d) => [{ args: [0, 20, 3], dtype: d }, { args: [-2.5, 40, 1.25], dtype: d }, { args: [1.25, 40, 1.25], dtype: d }, { args: [7, -9, -2], dtype: d }]),
]
const LINSPACE: { start: Bound; stop: Bound; num: number; endpoint: boolean; dtype: string | null }[] = [
  { start: 0, stop: 1, num: 5, endpoint: true, dtype: null }, { start: 2, stop: -3.5, num: 7, endpoint: true, dtype: null },
  { start: 0, stop: 1, num: 0, endpoint: true, dtype: null }, { start: 3, stop: 4, num: 1, endpoint: true, dtype: null },
  { start: 3, stop: 4, num: 1, endpoint: false, dtype: null }, { start: 0, stop: 1, num: 4, endpoint: false, dtype: null },
  { start: 0, stop: 5e-324, num: 3, endpoint: true, dtype: null }, { start: -0.5, stop: 1.5, num: 11, endpoint: true, dtype: null },
  { start: 0.1, stop: 0.7, num: 13, endpoint: true, dtype: null }, { start: 2n ** 60n, stop: 2n ** 60n + 1000n, num: 9, endpoint: true, dtype: null },
  ...DTYPES.map((d) => ({ start: 0.5, stop: 100.25, num: 23, endpoint: true, dtype: d })),
  { start: 2, stop: -3.5, num: 7, endpoint: true, dtype: 'int8' }, { start: 2, stop: -3.5, num: 7, endpoint: false, dtype: '>f4' },
]

const E = py(EXPECT_PY, {
  helpers: path.join(__dirname, 'helpers'),
  dtypes: DTYPES,
  full: FULL.map((c) => ({ v: tag(c.v), dtype: c.dtype })),
  arange: ARANGE.map((c) => ({ args: c.args.map(tag), dtype: c.dtype })),
  linspace: LINSPACE.map((c) => ({ ...c, start: tag(c.start), stop: tag(c.stop) })),
}) as {
  zeros: Record<string, Enc[]>
  ones: Record<string, Enc>
  ones_default: Enc
  full: Enc[]
  arange: Enc[]
  arange_large: Digest[]
  linspace: Enc[]
  linspace_large: Digest
}

const SHAPES: number[][] = [[], [0], [3], [2, 3], [2, 0, 4]]

test('zeros and empty: every dtype, C and F order, 0-d and zero-size shapes', (t) => {
  const failures: string[] = []
  let n = 0
  for (const d of DTYPES) {
    for (const o of ['C', 'F'] as const) {
      SHAPES.forEach((s, i) => {
        n += 2
        const exp = E.zeros[`${d} ${o}`]![i]!
        for (const [name, f] of [['zeros', zeros], ['empty', empty]] as const) {
          const z = f(s, { dtype: d, order: o })
          const diff = differs(z, exp)
          if (diff) failures.push(`${name}(${JSON.stringify(s)}, ${d}, ${o}): ${diff}`)
          if (s.length === 2 && o === 'F' && z.strides[0] !== z.itemsize) failures.push(`${name} ${d} F: strides ${z.strides}`)
        }
      })
    }
  }
  noFailures(t, failures, n, 'zeros')
  t.is(zeros(3).dtype, 'float64')
  t.deepEqual(zeros([2, 3]).shape, [2, 3])
  t.is(zeros(4).mode, null)
  t.throws(() => zeros([-1]), { code: 'ERR_MMNPY_INVALID_ARG' } as never)
  t.throws(() => zeros([2], { dtype: 'nope' }), { code: 'ERR_MMNPY_UNSUPPORTED_DTYPE' } as never)
  t.throws(() => zeros(undefined as unknown as number), { instanceOf: TypeError })
})

test('ones and full: NumPy dtype inference and unsafe-cast values, sync and async', async (t) => {
  const failures: string[] = []
  for (const d of DTYPES) {
    const f = differs(ones([2, 3], { dtype: d }), E.ones[d]!)
    if (f) failures.push(`ones ${d}: ${f}`)
    const g = differs(await onesAsync([2, 3], { dtype: d }), E.ones[d]!)
    if (g) failures.push(`onesAsync ${d}: ${g}`)
  }
  t.is(differs(ones(4), E.ones_default), null)
  for (const [i, c] of FULL.entries()) {
    const opts = c.dtype === null ? undefined : { dtype: c.dtype }
    const f = outcome(() => full([2, 2], c.v, opts), E.full[i]!)
    if (f) failures.push(`full(${show(c.v)}, ${c.dtype}): ${f}`)
    const g = await outcomeAsync(() => fullAsync([2, 2], c.v, opts), E.full[i]!)
    if (g) failures.push(`fullAsync(${show(c.v)}, ${c.dtype}): ${g}`)
  }
  noFailures(t, failures, DTYPES.length + FULL.length, 'ones/full cases')
  t.is(full(3, 7).dtype, 'int64')
  t.is(full(3, 7.5).dtype, 'float64')
  t.deepEqual(full(3, 2.7, { dtype: 'int8' }).toArray(), [2, 2, 2])
  t.throws(() => full(3, 'x' as unknown as number), { instanceOf: TypeError })
  t.throws(() => full(3, 2n ** 64n), { instanceOf: RangeError })
})

test('arange: NumPy dtypes and values bit for bit (start + i * delta), every dtype, NumPy errors', async (t) => {
  const failures: string[] = []
  for (const [i, c] of ARANGE.entries()) {
    const args = [...c.args, ...(c.dtype === null ? [] : [{ dtype: c.dtype }])] as Parameters<typeof arange>
    const exp = E.arange[i]!
    const f = outcome(() => arange(...args), exp)
    if (f) failures.push(`arange(${c.args.map(show).join(', ')}, ${c.dtype}): ${f}`)
    if (i % 3 === 0) {
      const g = await outcomeAsync(() => arangeAsync(...args), exp)
      if (g) failures.push(`arangeAsync(${c.args.map(show).join(', ')}, ${c.dtype}): ${g}`)
    }
  }
  noFailures(t, failures, ARANGE.length, 'arange cases')
  const large: [() => NdArray, Digest][] = [
    [() => arange(0.5, 100000.25, 0.1), E.arange_large[0]!],
    [() => arange(-3, 1e6, 0.7, { dtype: 'float32' }), E.arange_large[1]!],
    [() => arange(7, 3000000, 3, { dtype: 'int16' }), E.arange_large[2]!],
  ]
  for (const [f, exp] of large) {
    const a = f()
    t.is(a.dtype as string, exp.dtype)
    t.deepEqual([...a.shape], exp.shape)
    t.is(shaOf(a), exp.sha)
  }
  // Options in any position after the bounds, and the headline dtypes.
  t.is(arange(10).dtype, 'int64')
  t.is(arange(0.5, 3).dtype, 'float64')
  t.is(arange(5, { dtype: 'uint8' }).dtype, 'uint8')
  t.is(arange(1, 5, { dtype: 'float32' }).dtype, 'float32')
  t.throws(() => arange('3' as unknown as number), { instanceOf: TypeError })
  // Integers beyond int64 and uint64 (NumPy makes an object array): refused, naming the way out.
  t.throws(() => arange(0, 2n ** 64n, 2n ** 62n), { instanceOf: RangeError, message: /give \{ dtype \}/ })
  t.deepEqual(arange(0, 2n ** 64n, 2n ** 62n, { dtype: 'uint64' }).toArray(), [0n, 2n ** 62n, 2n ** 63n, 3n * 2n ** 62n])
  t.throws(() => (arange as unknown as () => NdArray)(), { instanceOf: TypeError })
})

test('linspace: NumPy\'s formula, stop exact, step underflow, floor for integer dtypes, every dtype', async (t) => {
  const failures: string[] = []
  for (const [i, c] of LINSPACE.entries()) {
    const opts = { endpoint: c.endpoint, ...(c.dtype === null ? {} : { dtype: c.dtype }) }
    const f = outcome(() => linspace(c.start, c.stop, c.num, opts), E.linspace[i]!)
    if (f) failures.push(`linspace(${show(c.start)}, ${show(c.stop)}, ${c.num}, ${JSON.stringify(opts)}): ${f}`)
    const g = await outcomeAsync(() => linspaceAsync(c.start, c.stop, c.num, opts), E.linspace[i]!)
    if (g) failures.push(`linspaceAsync(${show(c.start)}, ${show(c.stop)}, ${c.num}): ${g}`)
  }
  noFailures(t, failures, LINSPACE.length, 'linspace cases')
  const a = linspace(-1.5, 1e3, 1000003)
  t.is(shaOf(a), E.linspace_large.sha)
  t.is(linspace(0, 1).size, 50)
  const e = t.throws(() => linspace(0, 1, -1)) as Error
  t.is(sameError(e, { error: 'ValueError', msg: '' }), null)
  t.regex(e.message, /Number of samples, -1, must be non-negative/)
  t.throws(() => linspace(0, 1, 2.5), { instanceOf: TypeError })
})
