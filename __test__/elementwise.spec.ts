// Elementwise compute (add, sub, mul, div, fill, astype) with NumPy as the reference.
//
// ONE python3 process (EXPECT_PY below) makes every input (raw bytes in one blob file, read
// back here through `memmap`, in both byte orders, plus a few .npy files for the mapping
// modes) and computes every expected result: the dtype and the exact bytes, as JSON. A second
// python3 process at the end only checks that NumPy reads the files mmnpy wrote.
//
// Exactness: results are compared bit for bit: same-dtype float add/sub/mul/div are single
// IEEE operations, float16 ops are computed in float32 and rounded once (as NumPy's loops),
// complex multiplication is fused (fma) as NumPy's SIMD loops on FMA machines, and complex
// division uses NumPy's own (Smith's) algorithm, so the measured difference is 0 ulp.
import test from 'ava'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import { loadNpy, openNpy } from '../index'
import type { NdArray, OutOptions, Scalar } from '../index'
import { py, pyAsync, sha256 } from './helpers/numpy'
import { DTYPES, ITEMSIZE, bits, blobReader, differs, hexOf, noFailures, shaOf, show } from './helpers/expect'
import type { DT, Digest, Enc, Ok } from './helpers/expect'

type Op = 'add' | 'sub' | 'mul' | 'div'
const OPS: Op[] = ['add', 'sub', 'mul', 'div']
type Operand = NdArray | Scalar

const SYNC: Record<Op, (a: NdArray, b: Operand, o?: OutOptions) => NdArray> = {
  add: (a, b, o) => a.add(b, o),
  sub: (a, b, o) => a.sub(b, o),
  mul: (a, b, o) => a.mul(b, o),
  div: (a, b, o) => a.div(b, o),
}
const ASYNC: Record<Op, (a: NdArray, b: Operand, o?: OutOptions) => Promise<NdArray>> = {
  add: (a, b, o) => a.addAsync(b, o),
  sub: (a, b, o) => a.subAsync(b, o),
  mul: (a, b, o) => a.mulAsync(b, o),
  div: (a, b, o) => a.divAsync(b, o),
}

// ----------------------------------------------------------------------------- scalars as JSON
/** A JS scalar for python: exact integers as text, floats as their 64 bits (NaN and infinities survive JSON). */
type Tagged =
  | { t: 'int'; v: string }
  | { t: 'float'; bits: string }
  | { t: 'bool'; v: boolean }
  | { t: 'complex'; re: string; im: string }

function tag(v: Scalar | [number, number]): Tagged {
  if (typeof v === 'bigint') return { t: 'int', v: v.toString() }
  if (typeof v === 'boolean') return { t: 'bool', v }
  // -0 is a float for fill (it keeps its sign there); the scalar operands avoid it.
  if (typeof v === 'number') return Number.isInteger(v) && !Object.is(v, -0) ? { t: 'int', v: BigInt(v).toString() } : { t: 'float', bits: bits(v) }
  if (Array.isArray(v)) return { t: 'complex', re: bits(v[0]), im: bits(v[1]) }
  return { t: 'complex', re: bits(v.re), im: bits(v.im) }
}

/** Scalar operands: integral numbers are Python ints, others Python floats (NumPy 2's weak scalars). */
const SCALARS: Scalar[] = [1, -3, 300, 1.5, 0.1, 2n ** 40n, 2n ** 63n, 1e20, 2n ** 70n, true, { re: 1.5, im: -2 }]

/** fill values per dtype; `throws` marks values mmnpy refuses like `set` does (NumPy would truncate or wrap). */
function fillValues(dt: DT): { v: Scalar | [number, number]; throws?: 'RangeError' | 'TypeError' }[] {
  const intRange: Record<string, [bigint, bigint]> = {
    int8: [-128n, 127n], uint8: [0n, 255n], int16: [-32768n, 32767n], uint16: [0n, 65535n],
    int32: [-(2n ** 31n), 2n ** 31n - 1n], uint32: [0n, 2n ** 32n - 1n], int64: [-(2n ** 63n), 2n ** 63n - 1n], uint64: [0n, 2n ** 64n - 1n],
  }
  if (dt === 'bool') return [{ v: true }, { v: false }, { v: 0 }, { v: 1 }, { v: 2 }, { v: 0n }]
  if (dt in intRange) {
    const [lo, hi] = intRange[dt]!
    const big = dt.endsWith('64')
    return [
      { v: big ? lo : Number(lo) }, { v: big ? hi : Number(hi) }, { v: 7 }, { v: 5n }, { v: true },
      ...(dt.startsWith('int') ? [{ v: -1 }] : []),
      { v: big ? hi + 1n : Number(hi) + 1, throws: 'RangeError' as const },
      { v: big ? lo - 1n : Number(lo) - 1, throws: 'RangeError' as const },
      { v: 1.5, throws: 'RangeError' as const },
    ]
  }
  const floats: number[] = [0.1, -0, 1 + 2 ** -11 + 2 ** -40, 65519.99, 65520, 2 ** -25 + 2 ** -60, 1e-8, 1e300, Infinity, -Infinity, NaN, -2.5]
  if (dt.startsWith('float')) return [...floats.map((v) => ({ v })), { v: 2n ** 60n + 2n ** 36n + 1n }, { v: true }, { v: 123456789 }]
  return [...floats.map((v) => ({ v })), { v: { re: 1.5, im: -2 } }, { v: [0.1, 1 + 2 ** -11 + 2 ** -40] as [number, number] }, { v: { re: NaN, im: -Infinity } }, { v: 3 }]
}

// ----------------------------------------------------------------------------- the NumPy side
const EXPECT_PY = String.raw`
import os, struct, hashlib, warnings
warnings.simplefilter('ignore')
D = inp['dir']
DT = inp['dtypes']
rng = np.random.default_rng(20261121)
blob = bytearray()
man = {}

def put(name, a):
    a = np.ascontiguousarray(a)
    while len(blob) % 16:
        blob.append(0)
    man[name] = [len(blob), a.dtype.str, list(a.shape)]
    blob.extend(a.tobytes())
    return a

sys.path.insert(0, inp['helpers'])
import npcases
from npcases import enc, digest, attempt, f64, dec, big

def floats(dt, n, top):
    return npcases.floats(rng, dt, n, top)

def vals(dt, shape):
    return npcases.vals(rng, dt, shape)

OPS = {'add': np.add, 'sub': np.subtract, 'mul': np.multiply, 'div': np.true_divide}
res = {}

# --- add/sub/mul/div over every pair of dtypes, and byte orders
A = {d: put('A_' + d, vals(d, (4, 5))) for d in DT}
B = {d: put('B_' + d, vals(d, (4, 5))) for d in DT}
for d in DT:
    put('Abe_' + d, A[d].astype(big(d)))
    put('Bbe_' + d, B[d].astype(big(d)))
res['pairs'] = {op: {a + ' ' + b: attempt(lambda: f(A[a], B[b])) for a in DT for b in DT} for op, f in OPS.items()}
res['result_type'] = {a + ' ' + b: np.result_type(np.dtype(a), np.dtype(b)).name for a in DT for b in DT}
res['big_order'] = {d: big(d).str for d in DT}

# --- weak Python scalars
S = [dec(s) for s in inp['scalars']]
res['scalars'] = {op: {d: [attempt(lambda: f(A[d], s)) for s in S] for d in DT} for op, f in OPS.items()}

# --- broadcasting
M = put('M', vals('float64', (4, 5)))
R = put('R', vals('float64', (5,)))
C = put('C', vals('float64', (4, 1)))
I3 = put('I3', vals('int16', (3, 1)))
U4 = put('U4', vals('uint8', (1, 4)))
Z = put('Z', np.array(-7, dtype=np.int64))
T3 = put('T3', vals('float32', (2, 3, 4)))
bc = {}
for op, f in OPS.items():
    bc[op + ' M R'] = enc(f(M, R))
    bc[op + ' R M'] = enc(f(R, M))
    bc[op + ' M C'] = enc(f(M, C))
    bc[op + ' C M'] = enc(f(C, M))
    bc[op + ' I3 U4'] = enc(f(I3, U4))
    bc[op + ' M Z'] = enc(f(M, Z))
    bc[op + ' T3 C3'] = enc(f(T3, C[:3]))
    bc[op + ' Ms Rr'] = enc(f(M[::2, ::-1], R[::-1]))
    bc[op + ' MT CT'] = enc(f(M.T, C.T))
res['broadcast'] = bc
res['bad_broadcast'] = [attempt(lambda: M + R[:4]), attempt(lambda: I3 + np.zeros((4, 1))), attempt(lambda: T3 + M)]

# --- out=
X = put('X', vals('float64', (5, 4)))
Y = put('Y', vals('float64', (5, 4)))
m = put('m', vals('float64', (4,)))
I32 = put('I32', vals('int32', (5, 4)))
I8c = put('I8c', vals('int8', (5, 1)))
V = put('V', vals('float64', (50,)))
o = {}
x = X.copy(); np.subtract(x, m, out=x); o['inplace'] = enc(x)
x = I32.copy(); np.add(x, I8c, out=x); o['inplace_int'] = enc(x)
o['into_file'] = enc(X + Y)
b = np.zeros((10, 4)); np.multiply(X, Y, out=b[::2]); o['strided'] = enc(b)
x = X.copy(); np.subtract(x[::-1], m, out=x); o['alias_reversed'] = enc(x)
x = X.copy(); np.add(x, x[::-1], out=x); o['alias_reversed_operand'] = enc(x)
x = X.copy(); np.subtract(x, x[0:1], out=x); o['alias_row0'] = enc(x)
x = X.copy(); np.copyto(x, x[::-1]); o['alias_astype'] = enc(x)
v = V.copy(); np.add(v[1:], v[:-1], out=v[:-1]); o['shift_down'] = enc(v)
v = V.copy(); np.multiply(v[:-1], 2, out=v[1:]); o['shift_up'] = enc(v)
v = V.copy(); np.subtract(v, v[::-1], out=v); o['reverse_1d'] = enc(v)
res['out'] = o

# Outputs of another dtype: NumPy computes in the result dtype, then casts ('same_kind').
H = put('H', vals('float16', (5, 4)))
U64 = put('U64', vals('uint64', (5, 4)))
I64 = put('I64', vals('int64', (5, 4)))
I8 = put('I8', vals('int8', (5, 4)))
U8 = put('U8', vals('uint8', (5, 4)))
BO = put('BO', vals('bool', (5, 4)))
C128 = put('C128', vals('complex128', (5, 4)))
arrays = {'X': X, 'Y': Y, 'I32': I32, 'H': H, 'U64': U64, 'I64': I64, 'I8': I8, 'U8': U8, 'BO': BO, 'C128': C128}
def outcase(op, a, b, dt):
    z = np.zeros((5, 4), dt)
    OPS[op](arrays[a], arrays[b] if isinstance(b, str) else b, out=z)
    return z
res['outcasts'] = [dict(c, expect=attempt(lambda: outcase(c['op'], c['a'], c['b'], c['out']))) for c in inp['outcasts']]

# --- mapping modes: normalization in place
P = put('P', vals('float64', (60, 7)))
np.save(os.path.join(D, 'c.npy'), P)
np.save(os.path.join(D, 'rplus.npy'), P)
np.save(os.path.join(D, 'c_axis.npy'), P)
np.save(os.path.join(D, 'ro.npy'), X)
p = P.copy(); res['mean'] = bits_mean = struct.pack('<d', p.mean()).hex(); p -= p.mean(); res['centered'] = enc(p)
p = P.copy(); res['mean0'] = enc(p.mean(axis=0)); p -= p.mean(axis=0); res['std0'] = enc(p.std(axis=0)); p /= p.std(axis=0); res['normalized'] = enc(p)

# --- fill
fl = {}
for d, items in inp['fills'].items():
    row = []
    for v in items:
        def full(v=v):
            z = np.zeros(6, d); z.fill(dec(v)); return z
        def strided(v=v):
            z = np.zeros(6, d); z[::2].fill(dec(v)); return z
        row.append([attempt(full), attempt(strided)])
    fl[d] = row
res['fill'] = fl
put('zeros6', np.zeros(6))

# --- astype: every pair; float sources only in the destination's range (NumPy's cast is undefined outside)
def cast_src(s, d):
    s, d = np.dtype(s), np.dtype(d)
    n = 40
    if s.kind in 'biu':
        v = vals(s, (n,))
        if s.kind == 'i' and s.itemsize == 8: v[3:6] = [2**62 + 2**38 + 1, -(2**62 + 2**38 + 1), 2**63 - 1]
        if s.kind == 'u' and s.itemsize == 8: v[3:6] = [2**63 + 2**39 + 1, 2**62 + 2**38 + 1, 2**64 - 1]
        if s.kind in 'iu': v[6:9] = np.array([1, 2049, 65519], dtype=np.int64).astype(s)  # wrapped to s
        return v
    part = np.dtype(np.float32 if s.itemsize == 8 else np.float64) if s.kind == 'c' else s
    if d.kind in 'iu':
        info = np.iinfo(d)
        lo, hi = float(info.min), float(info.max)
        if part.itemsize == 2: lo, hi = max(lo, -65504.0), min(hi, 65504.0)
        r = rng.uniform(lo * 0.999, hi * 0.999, n)
        r[:8] = [0.0, -0.0, 0.5, 0.999, 2.75, -0.5 if d.kind == 'i' else 1.5, -2.75 if d.kind == 'i' else 3.25, 1.0]
        r = r.astype(part)
    else:
        r = floats(part, n, 4 if part.itemsize == 2 else 8)
        sp = [np.inf, -np.inf, np.nan, 1 + 2**-11 + 2**-40, 65519.99, 65520.0, 2**-25 + 2**-60, 1e-8, 3e38 * 10, 2**-149 * 0.75, 1/3]
        r[2:2 + len(sp)] = np.array(sp).astype(part)
    if s.kind == 'c':
        c = np.empty(n, s); c.real = r; c.imag = np.roll(r, 5); return c
    return r
cs, ce = {}, {}
for s in DT:
    for d in DT:
        key = 'cast_' + s + '_' + (d if np.dtype(s).kind in 'fc' and np.dtype(d).kind in 'iu' else 'any')
        if key not in man:
            put(key, cast_src(s, d))
        cs[s + ' ' + d] = key
src = {k: np.frombuffer(bytes(blob[man[k][0]:man[k][0] + np.dtype(man[k][1]).itemsize * int(np.prod(man[k][2]))]), dtype=man[k][1]).reshape(man[k][2]) for k in set(cs.values())}
res['astype'] = {pair: dict(src=key, expect=attempt(lambda: src[key].astype(pair.split(' ')[1]))) for pair, key in cs.items()}

# --- large: parallel rows, blocks longer than the kernels' buffers
L1 = put('L1', vals('float32', (300, 2500)))
L2 = put('L2', vals('float32', (2500,)))
L3 = put('L3', vals('float64', (200000,)))
L4 = put('L4', vals('int16', (1000, 700)))
L5 = put('L5', vals('uint8', (1000, 1)))
L6 = put('L6', vals('complex64', (100, 3000)))
res['large'] = {
    'sub L1 L2': digest(L1 - L2),
    'div L3 3': digest(L3 / 3),
    'mul L4 L5': digest(L4 * L5),
    'div L6 L6r': digest(L6 / L6[::-1]),
    'add L1T 1.5': digest(L1.T + 1.5),
}
# complex division, random magnitudes over a wide range, and extreme ones Smith's algorithm keeps finite
def cplx(dt, n, lo, hi):
    part = np.float32 if np.dtype(dt).itemsize == 8 else np.float64
    c = np.empty(n, dt)
    c.real = (rng.choice([-1.0, 1.0], n) * 10.0 ** rng.uniform(lo, hi, n)).astype(part)
    c.imag = (rng.choice([-1.0, 1.0], n) * 10.0 ** rng.uniform(lo, hi, n)).astype(part)
    return c
for dt, lo, hi in [('complex64', -15, 15), ('complex128', -150, 150)]:
    a = put('CD_a_' + dt, cplx(dt, 20000, lo, hi))
    b = put('CD_b_' + dt, cplx(dt, 20000, lo, hi))
    res['cdiv_' + dt] = enc(a / b)
e = put('CE', np.array([1e300 + 1e300j, 3e-300 - 2e-300j, 1 + 1j, 0j, 5 + 0j], dtype=np.complex128))
res['cdiv_extreme'] = enc(e / np.array([1e300 + 2e300j, 1e-300 + 1e-300j, 0j, 0j, -0.0 + 0j]))
put('CE2', np.array([1e300 + 2e300j, 1e-300 + 1e-300j, 0j, 0j, -0.0 + 0j]))

with open(os.path.join(D, 'blob.bin'), 'wb') as fh:
    fh.write(blob)
res['manifest'] = man
out(res)
`

// ----------------------------------------------------------------------------- setup

/** Cases of an `out` of another dtype than the result's. */
const OUTCASTS: { op: Op; a: string; b: string | number; out: DT }[] = [
  { op: 'add', a: 'X', b: 'Y', out: 'float32' }, // float64 result rounded into float32
  { op: 'add', a: 'I8', b: 'I8', out: 'int16' }, // wraps at int8 first, as NumPy's loop
  { op: 'mul', a: 'U8', b: 'U8', out: 'uint16' },
  { op: 'add', a: 'I8', b: 1, out: 'int64' },
  { op: 'add', a: 'H', b: 'H', out: 'float32' }, // rounded to float16 first
  { op: 'mul', a: 'H', b: 0.1, out: 'float64' },
  { op: 'add', a: 'BO', b: 'BO', out: 'int8' }, // logical or: 1, not 2
  { op: 'sub', a: 'U8', b: 'I8', out: 'float64' },
  { op: 'add', a: 'I64', b: 'I64', out: 'float16' },
  { op: 'add', a: 'X', b: 'C128', out: 'complex64' },
  { op: 'div', a: 'I32', b: 2, out: 'int32' }, // float64 into int32: refused
  { op: 'add', a: 'X', b: 'Y', out: 'int64' },
  { op: 'add', a: 'U64', b: 'I64', out: 'int64' }, // float64 result
  { op: 'add', a: 'C128', b: 'X', out: 'float64' },
  { op: 'add', a: 'I8', b: 'I8', out: 'uint8' }, // int8 into uint8: not same_kind
  { op: 'add', a: 'U8', b: 'U8', out: 'int8' }, // uint8 into int8: same_kind
]

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmnpy-elementwise-'))
test.after.always(() => fs.rmSync(tmp, { recursive: true, force: true }))

const fills: Record<string, Tagged[]> = {}
for (const d of DTYPES) fills[d] = fillValues(d).map((x) => tag(x.v))

const E = py(EXPECT_PY, {
  dir: tmp,
  helpers: path.join(__dirname, 'helpers'),
  dtypes: DTYPES,
  scalars: SCALARS.map(tag),
  fills,
  outcasts: OUTCASTS,
}) as {
  pairs: Record<Op, Record<string, Enc>>
  result_type: Record<string, string>
  big_order: Record<DT, string>
  scalars: Record<Op, Record<DT, Enc[]>>
  broadcast: Record<string, Enc>
  bad_broadcast: Enc[]
  out: Record<string, Enc>
  outcasts: ((typeof OUTCASTS)[number] & { expect: Enc })[]
  mean: string
  centered: Enc
  mean0: Enc
  std0: Enc
  normalized: Enc
  fill: Record<DT, [Enc, Enc][]>
  astype: Record<string, { src: string; expect: Enc }>
  large: Record<string, Digest>
  cdiv_complex64: Enc
  cdiv_complex128: Enc
  cdiv_extreme: Enc
  manifest: Record<string, [number, string, number[]]>
}
const BLOB = path.join(tmp, 'blob.bin')
/** An input written by NumPy, mapped read-only from the blob. */
const inp = blobReader(BLOB, E.manifest)

// ----------------------------------------------------------------------------- comparing

/** Checks `f()` against NumPy's outcome: its result, or an error of the same nature. Returns a failure or null. */
function outcome(f: () => NdArray, exp: Enc): string | null {
  let got: NdArray
  try {
    got = f()
  } catch (e) {
    if (!('error' in exp)) return `threw ${(e as Error).message}; NumPy gave ${exp.dtype}`
    return errorMatches(e, exp)
  }
  return differs(got, exp)
}

async function outcomeAsync(f: () => Promise<NdArray>, exp: Enc): Promise<string | null> {
  let got: NdArray
  try {
    got = await f()
  } catch (e) {
    if (!('error' in exp)) return `rejected ${(e as Error).message}; NumPy gave ${exp.dtype}`
    return errorMatches(e, exp)
  }
  return differs(got, exp)
}

/** NumPy's OverflowError is a RangeError here; its TypeError (bool subtract) and casting errors carry ERR_MMNPY_INVALID_ARG. */
function errorMatches(e: unknown, exp: { error: string; msg: string }): string | null {
  const err = e as Error & { code?: string }
  if (exp.error === 'OverflowError') return err instanceof RangeError ? null : `threw ${err.name} (${err.message}), want RangeError like NumPy's OverflowError`
  if (exp.error === 'TypeError' && /boolean subtract/.test(exp.msg)) {
    return err.code === 'ERR_MMNPY_INVALID_ARG' && /boolean subtract/.test(err.message) ? null : `threw ${err.code} ${err.message}`
  }
  if (/casting rule/.test(exp.msg)) return err.code === 'ERR_MMNPY_INVALID_ARG' && err.message === exp.msg ? null : `threw ${err.code} ${err.message}; NumPy: ${exp.msg}`
  return `threw ${err.name} ${err.message}; NumPy raised ${exp.error} ${exp.msg}`
}

/** A fresh writable file of zeros (NumPy's open_memmap mode 'w+'). */
let files = 0
function zerosFile(dtype: string, shape: number[]): NdArray {
  return openNpy(path.join(tmp, `z${files++}.npy`), { mode: 'w+', dtype, shape })
}

/** Relative error |got - exp| / |exp| of complex results, in units of the part type's epsilon. */
function complexError(got: NdArray, exp: Ok): number {
  const f32 = exp.dtype === 'complex64'
  const g = got.toTypedArray() as Float32Array | Float64Array
  const b = Buffer.from(exp.hex, 'hex')
  const e = f32 ? new Float32Array(b.buffer, b.byteOffset, b.length / 4) : new Float64Array(b.buffer, b.byteOffset, b.length / 8)
  const eps = f32 ? 2 ** -23 : 2 ** -52
  let worst = 0
  for (let i = 0; i < e.length; i += 2) {
    const [er, ei, gr, gi] = [e[i]!, e[i + 1]!, g[i]!, g[i + 1]!]
    if (Object.is(er, gr) && Object.is(ei, gi)) continue
    if (!Number.isFinite(er) || !Number.isFinite(ei)) return Infinity
    const scale = Math.hypot(er, ei)
    worst = Math.max(worst, Math.hypot(gr - er, gi - ei) / (scale * eps))
  }
  return worst
}

// ----------------------------------------------------------------------------- binary, dtype pairs
for (const op of OPS) {
  test(`${op}: all 14x14 dtype pairs give NumPy's result dtype and bits`, (t) => {
    const failures: string[] = []
    let n = 0
    for (const a of DTYPES) {
      for (const b of DTYPES) {
        const exp = E.pairs[op][`${a} ${b}`]!
        n++
        const f = outcome(() => SYNC[op](inp(`A_${a}`), inp(`B_${b}`)), exp)
        if (f) failures.push(`${a} ${op} ${b}: ${f}`)
        if (op !== 'div' && !('error' in exp) && exp.dtype !== E.result_type[`${a} ${b}`]) failures.push(`${a} ${b}: NumPy's ufunc and result_type disagree?`)
      }
    }
    noFailures(t, failures, n, 'pairs')
    t.is(n, 196)
  })
}

/** Representative pairs, with big-endian inputs and outputs. */
const ORDER_PAIRS: [DT, DT][] = [
  ['bool', 'bool'], ['bool', 'int8'], ['int8', 'uint8'], ['int64', 'uint64'], ['float16', 'int16'], ['float32', 'int32'],
  ['complex64', 'float64'], ['uint16', 'int16'], ['float16', 'float16'], ['float32', 'float32'], ['float64', 'float64'],
  ['complex64', 'complex64'], ['complex128', 'complex128'], ['uint64', 'float16'], ['int32', 'complex64'], ['uint32', 'int8'],
]

test('byte orders: big-endian inputs and outputs give the same bits as little-endian ones', (t) => {
  const failures: string[] = []
  let n = 0
  for (const op of OPS) {
    for (const [a, b] of ORDER_PAIRS) {
      const exp = E.pairs[op][`${a} ${b}`]!
      if ('error' in exp) continue
      for (const [na, nb] of [[`Abe_${a}`, `B_${b}`], [`A_${a}`, `Bbe_${b}`], [`Abe_${a}`, `Bbe_${b}`]] as const) {
        n++
        const f = outcome(() => SYNC[op](inp(na), inp(nb)), exp)
        if (f) failures.push(`${na} ${op} ${nb}: ${f}`)
      }
      // Into a big-endian file of the result dtype.
      n++
      const out = zerosFile(E.big_order[exp.dtype as DT], exp.shape)
      t.is(out.byteOrder, ITEMSIZE[exp.dtype] === 1 ? '|' : '>')
      const f = outcome(() => SYNC[op](inp(`Abe_${a}`), inp(`B_${b}`), { out }), exp)
      if (f) failures.push(`${a} ${op} ${b} into '>': ${f}`)
      out.close()
    }
  }
  noFailures(t, failures, n, 'byte-order cases')
})

test('complex division: bit-identical to NumPy (same Smith algorithm), extreme magnitudes and division by zero too', (t) => {
  const bounds: string[] = []
  for (const dt of ['complex64', 'complex128'] as const) {
    const exp = E[`cdiv_${dt}`] as Ok
    const got = inp(`CD_a_${dt}`).div(inp(`CD_b_${dt}`))
    const err = complexError(got, exp)
    bounds.push(`${dt}: ${err} eps`)
    t.is(differs(got, exp), null, dt)
  }
  t.is(differs(inp('CE').div(inp('CE2')), E.cdiv_extreme), null, '1e300 magnitudes stay finite; x / 0 gives NumPy\'s inf/nan')
  t.log(`complex division, max relative error vs NumPy over 20000 random quotients: ${bounds.join(', ')}`)
})

// ----------------------------------------------------------------------------- scalars
test('scalars follow NumPy 2 weak rules: ints keep the array dtype (or overflow), floats, bigint, bool, complex', (t) => {
  const failures: string[] = []
  let n = 0
  for (const op of OPS) {
    for (const d of DTYPES) {
      SCALARS.forEach((s, i) => {
        n++
        const f = outcome(() => SYNC[op](inp(`A_${d}`), s), E.scalars[op][d][i]!)
        if (f) failures.push(`${d} ${op} ${show(s)}: ${f}`)
      })
    }
  }
  noFailures(t, failures, n, 'scalar cases')
  // The headline cases, spelled out.
  const i8 = inp('A_int8')
  t.is(i8.add(1).dtype, 'int8')
  t.is(i8.add(1.5).dtype, 'float64')
  t.is(inp('A_float32').add(1.5).dtype, 'float32')
  t.is(inp('A_float16').mul(0.1).dtype, 'float16')
  t.is(i8.add(true).dtype, 'int8')
  t.is(inp('A_bool').add(1).dtype, 'int64')
  t.is(inp('A_float32').add({ re: 1, im: 1 }).dtype, 'complex64')
  t.is(inp('A_uint64').add(2n ** 64n - 1n).dtype, 'uint64')
  t.is(inp('A_float64').add(2n ** 70n).dtype, 'float64')
  const e = t.throws(() => i8.add(300), { instanceOf: RangeError })
  t.regex(e!.message, /300.*int8/)
  t.throws(() => inp('A_uint8').sub(-1), { instanceOf: RangeError })
  t.throws(() => inp('A_int64').add(2n ** 63n), { instanceOf: RangeError })
  t.throws(() => inp('A_bool').add(1e20), { instanceOf: RangeError })
  t.throws(() => i8.add('1' as unknown as number), { instanceOf: TypeError })
})

// ----------------------------------------------------------------------------- broadcasting
test('broadcasting: rows, columns, (3,1) with (1,4), 0-d, strided and transposed views', (t) => {
  const failures: string[] = []
  const names: Record<string, () => [NdArray, NdArray]> = {
    'M R': () => [inp('M'), inp('R')],
    'R M': () => [inp('R'), inp('M')],
    'M C': () => [inp('M'), inp('C')],
    'C M': () => [inp('C'), inp('M')],
    'I3 U4': () => [inp('I3'), inp('U4')],
    'M Z': () => [inp('M'), inp('Z')],
    'T3 C3': () => [inp('T3'), inp('C').slice('0:3')],
    'Ms Rr': () => [inp('M').slice('::2, ::-1'), inp('R').slice('::-1')],
    'MT CT': () => [inp('M').T, inp('C').T],
  }
  let n = 0
  for (const op of OPS) {
    for (const [k, args] of Object.entries(names)) {
      n++
      const [a, b] = args()
      const f = outcome(() => SYNC[op](a, b), E.broadcast[`${op} ${k}`]!)
      if (f) failures.push(`${op} ${k}: ${f}`)
    }
  }
  noFailures(t, failures, n, 'broadcast cases')
  t.deepEqual(inp('I3').add(inp('U4')).shape, [3, 4])
  t.deepEqual(inp('C').sub(inp('M')).shape, [4, 5])
  t.deepEqual(inp('Z').add(inp('M')).shape, [4, 5])
})

test('broadcasting: incompatible shapes throw with NumPy\'s message', async (t) => {
  const cases: [NdArray, NdArray][] = [[inp('M'), inp('R').slice('0:4')], [inp('I3'), inp('C')], [inp('T3'), inp('M')]]
  cases.forEach(([a, b], i) => {
    const exp = E.bad_broadcast[i]!
    if (!('error' in exp)) return t.fail('NumPy broadcast it')
    const e = t.throws(() => a.add(b), { code: 'ERR_MMNPY_INVALID_ARG' } as never) as Error
    t.true(exp.msg.startsWith(e.message), `mmnpy: ${e.message}\nNumPy: ${exp.msg}`)
  })
  await t.throwsAsync(inp('M').addAsync(inp('R').slice('0:4')), { message: /could not be broadcast together with shapes \(4,5\) \(4,\)/ })
})

// ----------------------------------------------------------------------------- out=
test('out: in place, into a w+ file, into a strided view, and aliasing that needs a temporary', async (t) => {
  const fresh = (name: string) => inp(name).copy()
  // a.sub(m, { out: a })
  let a = fresh('X')
  t.is(a.sub(inp('m'), { out: a }), a)
  t.is(differs(a, E.out.inplace!), null, 'in place')
  a = fresh('I32')
  a.add(inp('I8c'), { out: a })
  t.is(differs(a, E.out.inplace_int!), null, 'int32 += int8 column, in place')
  // into another mapped array
  const o = zerosFile('float64', [5, 4])
  t.is(inp('X').add(inp('Y'), { out: o }), o)
  t.is(differs(o, E.out.into_file!), null, 'into w+')
  // into a strided view
  const b = zerosFile('float64', [10, 4])
  const view = b.slice('::2')
  t.is(inp('X').mul(inp('Y'), { out: view }), view)
  t.is(differs(b, E.out.strided!), null, 'into b[::2], odd rows untouched')
  // aliasing
  a = fresh('X')
  a.slice('::-1').sub(inp('m'), { out: a })
  t.is(differs(a, E.out.alias_reversed!), null, 'np.subtract(a[::-1], m, out=a)')
  a = fresh('X')
  a.add(a.slice('::-1'), { out: a })
  t.is(differs(a, E.out.alias_reversed_operand!), null, 'np.add(a, a[::-1], out=a)')
  a = fresh('X')
  a.sub(a.slice('0:1'), { out: a })
  t.is(differs(a, E.out.alias_row0!), null, 'np.subtract(a, a[0:1], out=a): the broadcast row is read before it is overwritten')
  a = fresh('X')
  a.slice('::-1').astype('float64', { out: a })
  t.is(differs(a, E.out.alias_astype!), null, 'a[::-1].astype into a')
  let v = fresh('V')
  v.slice('1:').add(v.slice(':-1'), { out: v.slice(':-1') })
  t.is(differs(v, E.out.shift_down!), null, 'np.add(v[1:], v[:-1], out=v[:-1])')
  v = fresh('V')
  v.slice(':-1').mul(2, { out: v.slice('1:') })
  t.is(differs(v, E.out.shift_up!), null, 'np.multiply(v[:-1], 2, out=v[1:])')
  v = fresh('V')
  await v.subAsync(v.slice('::-1'), { out: v })
  t.is(differs(v, E.out.reverse_1d!), null, 'async: np.subtract(v, v[::-1], out=v)')
})

test('out of another dtype: NumPy computes in the result dtype, then casts with the same_kind rule', async (t) => {
  const failures: string[] = []
  for (const c of E.outcasts) {
    const out = zerosFile(c.out, [5, 4])
    const b = typeof c.b === 'string' ? inp(c.b) : c.b
    const f = outcome(() => SYNC[c.op](inp(c.a), b, { out }), c.expect)
    if (f) failures.push(`${c.a} ${c.op} ${c.b} into ${c.out}: ${f}`)
    const g = await outcomeAsync(() => ASYNC[c.op](inp(c.a), b, { out: zerosFile(c.out, [5, 4]) }), c.expect)
    if (g) failures.push(`async ${c.a} ${c.op} ${c.b} into ${c.out}: ${g}`)
    if ('error' in c.expect) t.true(hexOf(out) === '00'.repeat(20 * ITEMSIZE[c.out]!), 'a refused out is untouched')
    out.close()
  }
  noFailures(t, failures, E.outcasts.length, 'out casts')
  const e = t.throws(() => inp('I32').div(2, { out: inp('I32').copy() }), { code: 'ERR_MMNPY_INVALID_ARG' } as never) as Error
  t.regex(e.message, /same_kind/)
  t.regex(e.message, /float64.*int32/)
})

test('out: wrong shape, closed, not an array, read-only (file unchanged)', async (t) => {
  t.throws(() => inp('X').add(inp('Y'), { out: zerosFile('float64', [4, 5]) }), { code: 'ERR_MMNPY_INVALID_ARG' } as never)
  t.throws(() => inp('X').add(inp('Y'), { out: zerosFile('float64', [5]) }), { code: 'ERR_MMNPY_INVALID_ARG' } as never)
  t.throws(() => inp('X').add(1, { out: {} as NdArray }), { instanceOf: TypeError })
  const closed = zerosFile('float64', [5, 4])
  closed.close()
  t.throws(() => inp('X').add(1, { out: closed }), { code: 'ERR_MMNPY_CLOSED' } as never)
  await t.throwsAsync(inp('X').addAsync(1, { out: closed }), { code: 'ERR_MMNPY_CLOSED' } as never)

  const p = path.join(tmp, 'ro.npy')
  const before = sha256(p)
  const ro = loadNpy(p, { mmapMode: 'r' })
  const x = inp('X')
  for (const f of [
    () => x.sub(x, { out: ro }),
    () => ro.sub(1, { out: ro }),
    () => x.astype('float64', { out: ro }),
    () => ro.fill(0),
    () => ro.slice('::2').fill(1),
  ]) {
    const e = t.throws(f, { code: 'ERR_MMNPY_READONLY' } as never) as Error
    t.regex(e.message, /read-only/)
  }
  await t.throwsAsync(x.addAsync(1, { out: ro }), { code: 'ERR_MMNPY_READONLY' } as never)
  await t.throwsAsync(x.astypeAsync('float64', { out: ro }), { code: 'ERR_MMNPY_READONLY' } as never)
  await t.throwsAsync(ro.fillAsync(0), { code: 'ERR_MMNPY_READONLY' } as never)
  t.is(ro.sub(1).mode, null, "a mode-'r' array as an operand is fine: the result is in memory")
  ro.close()
  t.is(sha256(p), before, 'the read-only file is unchanged')
})

// ----------------------------------------------------------------------------- mapping modes
test("mode 'c': a.sub(a.mean(), { out: a }) equals NumPy's, the file is untouched", (t) => {
  const p = path.join(tmp, 'c.npy')
  const before = sha256(p)
  const a = loadNpy(p, { mmapMode: 'c' })
  const mean = a.mean() as number
  t.is(bits(mean), E.mean, 'mean as NumPy')
  t.is(a.sub(mean, { out: a }), a)
  t.is(differs(a, E.centered), null)
  a.flush()
  t.is(sha256(p), before)
  a.close()
  t.is(sha256(p), before)
  // Column normalization, (x - mean(0)) / std(0), in place.
  const q = path.join(tmp, 'c_axis.npy')
  const qb = sha256(q)
  const c = loadNpy(q, { mmapMode: 'c' })
  const m0 = c.mean({ axis: 0 })
  t.is(differs(m0, E.mean0), null, 'mean(axis=0) as NumPy')
  c.sub(m0, { out: c })
  const s0 = c.std({ axis: 0 })
  t.is(differs(s0, E.std0), null, 'std(axis=0) as NumPy')
  c.div(s0, { out: c })
  t.is(differs(c, E.normalized), null, 'normalized as NumPy')
  c.close()
  t.is(sha256(q), qb)
})

test("NumPy reads what mmnpy wrote: mode 'r+' after flush(), out= into w+ files, astype into w+ files of other dtypes", async (t) => {
  const checks: { path: string; expect: Enc; what: string }[] = []
  // r+: normalization written through to the file.
  const p = path.join(tmp, 'rplus.npy')
  const before = sha256(p)
  const a = loadNpy(p, { mmapMode: 'r+' })
  await a.subAsync(a.mean() as number, { out: a })
  a.flush()
  t.not(sha256(p), before)
  checks.push({ path: p, expect: E.centered, what: "r+ a.sub(a.mean(), { out: a })" })
  a.close()
  // out= into a w+ file, little- and big-endian
  for (const dt of ['float64', '>f8']) {
    const q = path.join(tmp, `sum_${dt.replace('>', 'be')}.npy`)
    const o = openNpy(q, { mode: 'w+', dtype: dt, shape: [5, 4] })
    inp('X').add(inp('Y'), { out: o })
    o.flush()
    o.close()
    checks.push({ path: q, expect: E.out.into_file!, what: `add into w+ ${dt}` })
  }
  // astype into w+ files of other dtypes (sync and async)
  const casts: [DT, string, DT][] = [['float64', '<i2', 'int16'], ['int64', '>f4', 'float32'], ['complex128', '<f2', 'float16'], ['uint8', '>c8', 'complex64'], ['bool', '<u8', 'uint64'], ['float32', '|u1', 'uint8']]
  for (const [i, [s, spec, d]] of casts.entries()) {
    const c = E.astype[`${s} ${d}`]!
    const q = path.join(tmp, `astype_${s}_${d}.npy`)
    const src = inp(c.src)
    const o = openNpy(q, { mode: 'w+', dtype: spec, shape: [...src.shape] })
    const r = i % 2 ? await src.astypeAsync(spec, { out: o }) : src.astype(spec, { out: o })
    t.is(r, o)
    t.is(differs(o, c.expect), null, `${s} -> ${spec}`)
    o.close()
    checks.push({ path: q, expect: c.expect, what: `astype ${s} -> ${spec}` })
  }
  const seen = (await pyAsync(String.raw`
def enc(r):
    r = np.asarray(r)
    n = np.ascontiguousarray(r).astype(r.dtype.newbyteorder('='))
    return {'dtype': r.dtype.name, 'shape': list(r.shape), 'hex': n.tobytes().hex()}
out([enc(np.load(p)) for p in inp])
`, checks.map((c) => c.path))) as Enc[]
  checks.forEach((c, i) => {
    const s = seen[i]!
    const e = c.expect
    t.deepEqual(s, e, `NumPy reads ${c.what}`)
  })
})

// ----------------------------------------------------------------------------- fill
test('fill: every dtype, values checked like set, equal to NumPy (float16 rounded once from the double)', async (t) => {
  const failures: string[] = []
  let n = 0
  for (const d of DTYPES) {
    const values = fillValues(d)
    for (const [i, { v, throws }] of values.entries()) {
      n++
      const [full, strided] = E.fill[d][i]!
      const z = inp('zeros6').astype(d)
      const viaSet = inp('zeros6').astype(d)
      if (throws) {
        const e = t.throws(() => z.fill(v)) as Error
        t.is(e.constructor.name, throws, `${d}.fill(${show(v)})`)
        const s = t.throws(() => viaSet.set(0, v)) as Error
        t.is(s.constructor.name, throws, `${d}.set(0, ${show(v)})`)
        await t.throwsAsync(z.fillAsync(v), { instanceOf: throws === 'RangeError' ? RangeError : TypeError })
        t.is(hexOf(z), '00'.repeat(6 * ITEMSIZE[d]!), 'untouched')
        continue
      }
      z.fill(v)
      const f = differs(z, full)
      if (f) failures.push(`${d}.fill(${show(v)}): ${f}`)
      for (let k = 0; k < 6; k++) viaSet.set(k, v)
      if (hexOf(viaSet) !== hexOf(z)) failures.push(`${d}: set(k, ${show(v)}) gives ${hexOf(viaSet)}, fill ${hexOf(z)}`)
      const w = inp('zeros6').astype(d)
      w.slice('::2').fill(v)
      const g = differs(w, strided)
      if (g) failures.push(`${d}[::2].fill(${show(v)}): ${g}`)
      const y = inp('zeros6').astype(d)
      await y.fillAsync(v)
      if (hexOf(y) !== hexOf(z)) failures.push(`${d}.fillAsync(${show(v)}) differs from fill`)
    }
  }
  noFailures(t, failures, n, 'fills')
  // into a big-endian mapped file
  const o = zerosFile('>f2', [3])
  o.fill(1 + 2 ** -11 + 2 ** -40)
  t.deepEqual(o.toArray(), [1 + 2 ** -10, 1 + 2 ** -10, 1 + 2 ** -10])
})

// ----------------------------------------------------------------------------- astype
test("astype: every dtype pair equals NumPy's cast (sync and async, also big-endian sources)", async (t) => {
  const failures: string[] = []
  let n = 0
  for (const s of DTYPES) {
    for (const d of DTYPES) {
      n++
      const c = E.astype[`${s} ${d}`]!
      const src = inp(c.src)
      const f = outcome(() => src.astype(d), c.expect)
      if (f) failures.push(`${s} -> ${d}: ${f}`)
      const g = await outcomeAsync(() => src.astypeAsync(d), c.expect)
      if (g) failures.push(`async ${s} -> ${d}: ${g}`)
      // A strided, reversed view of the source into a big-endian result.
      const r = src.slice('::-1').astype(E.big_order[d])
      if (r.dtype !== d || hexOf(r.slice('::-1')) !== ('hex' in c.expect ? c.expect.hex : '')) failures.push(`${s}[::-1] -> '>' ${d} differs`)
    }
  }
  noFailures(t, failures, n, 'casts')
  // Specific NumPy semantics, spelled out.
  const f = inp('cast_float64_int8')
  t.deepEqual((f.slice('2:7').astype('int8').toArray() as number[]), [0, 0, 2, 0, -2], 'truncation toward zero')
  t.deepEqual(inp('A_int16').slice(0, [0, 3]).astype('int8').toArray(), [0, 0, -1], 'int16 0, -32768, 32767 wrap to 0, 0, -1')
  const c = inp('cast_complex128_any').slice('0:3')
  t.deepEqual(c.astype('float64').toArray(), (c.toArray() as { re: number }[]).map((z) => z.re), 'complex -> real takes the real part')
  t.throws(() => inp('X').astype('float32', { out: zerosFile('float64', [5, 4]) }), { code: 'ERR_MMNPY_INVALID_ARG' } as never)
  await t.throwsAsync(inp('X').astypeAsync('float32', { out: zerosFile('float64', [5, 4]) }), { code: 'ERR_MMNPY_INVALID_ARG' } as never)
})

// ----------------------------------------------------------------------------- large and async
test('large arrays (parallel rows, long rows) match NumPy, sync and async', async (t) => {
  const cases: Record<string, () => [NdArray, Operand]> = {
    'sub L1 L2': () => [inp('L1'), inp('L2')],
    'div L3 3': () => [inp('L3'), 3],
    'mul L4 L5': () => [inp('L4'), inp('L5')],
    'div L6 L6r': () => [inp('L6'), inp('L6').slice('::-1')],
    'add L1T 1.5': () => [inp('L1').T, 1.5],
  }
  for (const [k, args] of Object.entries(cases)) {
    const op = k.split(' ')[0] as Op
    const exp = E.large[k]!
    const [a, b] = args()
    const r = SYNC[op](a, b)
    t.is(r.dtype as string, exp.dtype, k)
    t.deepEqual([...r.shape], exp.shape, k)
    t.is(shaOf(r), exp.sha, k)
    const q = await ASYNC[op](a, b)
    t.is(shaOf(q), exp.sha, `${k} async`)
  }
  // Into a mapped file, async.
  const o = zerosFile('float32', [300, 2500])
  await inp('L1').subAsync(inp('L2'), { out: o })
  t.is(shaOf(o), E.large['sub L1 L2']!.sha)
})

test('async forms give the same results as sync ones, and reject rather than throw', async (t) => {
  const failures: string[] = []
  let n = 0
  for (const op of OPS) {
    for (const [i, a] of DTYPES.entries()) {
      for (const [j, b] of DTYPES.entries()) {
        if ((i + j) % 3 !== 0) continue
        n++
        const f = await outcomeAsync(() => ASYNC[op](inp(`A_${a}`), inp(`B_${b}`)), E.pairs[op][`${a} ${b}`]!)
        if (f) failures.push(`${a} ${op}Async ${b}: ${f}`)
      }
      for (const [k, s] of SCALARS.entries()) {
        n++
        const f = await outcomeAsync(() => ASYNC[op](inp(`A_${a}`), s), E.scalars[op][a][k]!)
        if (f) failures.push(`${a} ${op}Async ${show(s)}: ${f}`)
      }
    }
  }
  noFailures(t, failures, n, 'async cases')
  // Errors arrive as rejections, never as synchronous throws.
  const p = inp('A_int8').addAsync(300)
  t.true(p instanceof Promise)
  await t.throwsAsync(p, { instanceOf: RangeError })
  await t.throwsAsync(inp('A_bool').subAsync(inp('B_bool')), { message: /boolean subtract/ })
  await t.throwsAsync(inp('I32').divAsync(2, { out: inp('I32').copy() }), { message: /same_kind/ })
  await t.throwsAsync(inp('A_int8').copy().fillAsync(1.5), { instanceOf: RangeError })
  await t.throwsAsync(inp('X').astypeAsync('nope'), { code: 'ERR_MMNPY_UNSUPPORTED_DTYPE' } as never)
})
