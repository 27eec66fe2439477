"""NumPy as the reference for __test__/reduce.spec.ts (one process per test run).

Reads one JSON request on stdin:
  dir     folder for the extra arrays
  extras  [{name, dtype, shape, order, seed, rawOffset?}]: random arrays written as
          dir/name.npy, or headerless as dir/name.bin after rawOffset bytes
          (floats ~ N(3, 1), complex with both parts so; float16 ~ U[0, 1))
  arrays  [{path, raw?, ops, calls, axes}]: np.load(path, mmap_mode='r') (with raw
          {dtype, offset, shape, order}: np.memmap(path, ...)) then view ops
          {op: 'str', s} (basic indexing text), {op: 'T'}, {op: 'transpose', axes};
          calls [{op, dtype?, ddof?, mean?, release?}] (mean: 'own' = the view's own
          mean, or a number; release is mmnpy's alone), each evaluated with axis=None and, if axes, each axis
  cow     [path]: mean, then the file's values minus that mean, then reduced again
Writes one JSON answer on stdout:
  results  per array, per call, [axis None, axis 0, axis 1, ...] where each entry is
           {e: exception class name, m: message}, {s: value, t: dtype} for axis=None or
           {a: tolist(), t: dtype, sh: shape} for an axis
  cow      per path {mean, after: {sum, mean, std, var, min, max}}
Values: bool -> true/false; int64/uint64 -> decimal string; other ints -> number;
floats -> number or 'nan' / 'inf' / '-inf' (-0.0 stays -0.0); complex -> [re, im].
"""
import json
import math
import os
import sys
import warnings

import numpy as np


def enc_float(x):
    x = float(x)
    if math.isnan(x):
        return 'nan'
    if math.isinf(x):
        return 'inf' if x > 0 else '-inf'
    return x


def encoder(dt):
    k = dt.kind
    if k == 'b':
        return bool
    if k in 'iu':
        return (lambda v: str(int(v))) if dt.itemsize == 8 else int
    if k == 'f':
        return enc_float
    if k == 'c':
        return lambda v: [enc_float(v.real), enc_float(v.imag)]
    raise ValueError(dt)


def nested(a, enc):
    if a.ndim == 0:
        return enc(a[()])
    return [nested(a[i], enc) for i in range(a.shape[0])]


def apply(a, ops):
    v = a
    for o in ops:
        kind = o['op']
        if kind == 'str':
            v = eval('v[' + o['s'] + ', ...]', {'v': v})  # our own test strings only
        elif kind == 'T':
            v = v.T
        elif kind == 'transpose':
            v = v.transpose(o['axes'])
        else:
            raise AssertionError('unknown op ' + kind)
    return v


FUNCS = {
    'sum': np.sum, 'prod': np.prod, 'mean': np.mean, 'var': np.var, 'std': np.std,
    'min': np.min, 'max': np.max, 'argmin': np.argmin, 'argmax': np.argmax,
}


def call(v, c, axis):
    kw = {}
    if 'dtype' in c:
        kw['dtype'] = c['dtype']
    if 'ddof' in c:
        kw['ddof'] = c['ddof']
    try:
        if c.get('mean') == 'own':
            # mmnpy passes a.mean() (a JS number: a Python scalar) or a.mean({ axis }) (an array)
            kw['mean'] = np.mean(v).item() if axis is None else np.mean(v, axis=axis, keepdims=True)
        elif 'mean' in c:
            kw['mean'] = float(c['mean'])
        r = FUNCS[c['op']](v, axis=axis, **kw)
    except Exception as ex:  # NumPy's refusal is the expected outcome
        return {'e': type(ex).__name__, 'm': str(ex)}
    r = np.asarray(r)
    enc = encoder(r.dtype)
    if axis is None:
        return {'s': enc(r[()]), 't': str(r.dtype)}
    return {'a': nested(r, enc), 't': str(r.dtype), 'sh': list(r.shape)}


def make_extra(spec, folder):
    rng = np.random.default_rng(spec['seed'])
    shape = tuple(spec['shape'])
    n = int(np.prod(shape))
    dt = np.dtype(spec['dtype'])
    if dt.kind == 'c':
        a = rng.normal(3, 1, n) + 1j * rng.normal(3, 1, n)
    elif dt.itemsize == 2:
        a = rng.random(n)
    else:
        a = rng.normal(3, 1, n)
    a = a.astype(dt).reshape(shape, order=spec.get('order', 'C'))
    if spec.get('rawOffset') is None:
        np.save(os.path.join(folder, spec['name'] + '.npy'), a)
    else:
        with open(os.path.join(folder, spec['name'] + '.bin'), 'wb') as f:
            f.write(b'\x01' * spec['rawOffset'] + a.tobytes(order=spec['order']))


def main():
    req = json.load(sys.stdin)
    warnings.simplefilter('ignore')
    np.seterr(all='ignore')
    for spec in req['extras']:
        make_extra(spec, req['dir'])
    results = []
    for arr in req['arrays']:
        raw = arr.get('raw')
        if raw:
            m = np.memmap(arr['path'], dtype=raw['dtype'], mode='r', offset=raw['offset'], shape=tuple(raw['shape']), order=raw['order'])
        else:
            m = np.load(arr['path'], mmap_mode='r')
        v = apply(m, arr['ops'])
        per = []
        for c in arr['calls']:
            axes = range(v.ndim) if arr.get('axes', True) else ()
            per.append([call(v, c, None)] + [call(v, c, ax) for ax in axes])
        results.append(per)
    cow = {}
    for path in req['cow']:
        x = np.load(path)
        m = x.mean()
        y = x - m
        cow[path] = {
            'mean': enc_float(m),
            'after': {k: enc_float(getattr(y, k)()) for k in ('sum', 'mean', 'std', 'var', 'min', 'max')},
        }
    sys.stdout.write(json.dumps({'results': results, 'cow': cow}))


main()
