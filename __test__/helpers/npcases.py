"""NumPy side of the specs that compare mmnpy with NumPy: inputs written into one blob
file (mapped back by the spec with `memmap`), expected results as JSON.

A spec's snippet does `sys.path.insert(0, inp['helpers']); from npcases import *`."""
import hashlib
import struct

import numpy as np


class Blob:
    """Arrays packed one after another (16-byte aligned); `manifest` maps a name to
    [offset, dtype.str, shape] for the spec's `memmap`."""

    def __init__(self):
        self.data = bytearray()
        self.manifest = {}

    def put(self, name, a):
        a = np.ascontiguousarray(a)
        while len(self.data) % 16:
            self.data.append(0)
        self.manifest[name] = [len(self.data), a.dtype.str, list(a.shape)]
        self.data.extend(a.tobytes())
        return a

    def write(self, path):
        with open(path, 'wb') as fh:
            fh.write(self.data)


def enc(r):
    """dtype, shape and the exact bytes (C order, native byte order) of a result."""
    r = np.asarray(r)
    n = np.ascontiguousarray(r).astype(r.dtype.newbyteorder('='))
    return {'dtype': r.dtype.name, 'shape': list(r.shape), 'hex': n.tobytes().hex()}


def digest(r):
    r = np.asarray(r)
    n = np.ascontiguousarray(r).astype(r.dtype.newbyteorder('='))
    return {'dtype': r.dtype.name, 'shape': list(r.shape), 'sha': hashlib.sha256(n.tobytes()).hexdigest()}


def attempt(f, e=enc):
    """`e(f())`, or the exception NumPy raised."""
    try:
        return e(f())
    except Exception as x:
        return {'error': type(x).__name__, 'msg': str(x)}


def f64(h):
    return struct.unpack('<d', bytes.fromhex(h))[0]


def dec(s):
    """A JS scalar tagged by the spec (`tag`) as the Python value it stands for."""
    t = s['t']
    if t == 'int':
        return int(s['v'])
    if t == 'float':
        return f64(s['bits'])
    if t == 'bool':
        return bool(s['v'])
    if t == 'list':
        return [dec(x) for x in s['v']]
    return complex(f64(s['re']), f64(s['im']))


def big(dt):
    return np.dtype(dt).newbyteorder('>')


def floats(rng, dt, n, top):
    """Signed floats over many magnitudes, a quarter of them integral, starting with 0.0, -0.0."""
    v = rng.choice([-1.0, 1.0], n) * 10.0 ** rng.uniform(-4, top, n) * rng.uniform(1, 2, n)
    k = rng.random(n) < 0.25
    v[k] = np.round(v[k])
    v = v.astype(dt)
    v[:2] = [0.0, -0.0]
    return v


def vals(rng, dt, shape):
    """Values over a dtype's whole range (integers include 0, min and max)."""
    dt = np.dtype(dt)
    n = int(np.prod(shape))
    if dt.kind == 'b':
        v = rng.integers(0, 2, n).astype(bool)
    elif dt.kind in 'iu':
        info = np.iinfo(dt)
        v = rng.integers(info.min, info.max, n, endpoint=True, dtype=dt)
        v[:3] = [0, info.min, info.max][:n]
    elif dt.kind == 'f':
        v = floats(rng, dt, n, 4 if dt.itemsize == 2 else 8)
    else:
        part = np.float32 if dt.itemsize == 8 else np.float64
        v = np.empty(n, dt)
        v.real = floats(rng, part, n, 8)
        v.imag = np.roll(floats(rng, part, n, 8), 3)
    return v.reshape(shape)


def cast_src(rng, s, d, n):
    """`n` values of dtype `s` whose unsafe cast to `d` NumPy defines: floats into an integer
    dtype stay inside its range (and include fractions to truncate); otherwise anything,
    with infinities, NaN and rounding cases for float destinations."""
    s, d = np.dtype(s), np.dtype(d)
    if s.kind in 'biu':
        return vals(rng, s, (n,))
    part = np.dtype(np.float32 if s.itemsize == 8 else np.float64) if s.kind == 'c' else s
    if d.kind in 'iu':
        info = np.iinfo(d)
        lo, hi = float(info.min), float(info.max)
        if part.itemsize == 2:
            lo, hi = max(lo, -65504.0), min(hi, 65504.0)
        r = rng.uniform(lo * 0.999, hi * 0.999, n)
        r[:8] = [0.0, -0.0, 0.5, 0.999, 2.75, -0.5 if d.kind == 'i' else 1.5, -2.75 if d.kind == 'i' else 3.25, 1.0]
        r = r.astype(part)
    else:
        r = floats(rng, part, n, 4 if part.itemsize == 2 else 8)
        sp = [np.inf, -np.inf, np.nan, 1 + 2**-11 + 2**-40, 65519.99, 65520.0, 2**-25 + 2**-60, 1e-8, 1/3]
        r[2:2 + len(sp)] = np.array(sp).astype(part)
    if s.kind == 'c':
        c = np.empty(n, s)
        c.real = r
        c.imag = np.roll(r, 5)
        return c
    return r
