"""NumPy as the reference for __test__/views.spec.ts (one process per test run).

Reads one JSON request on stdin:
  dir     folder where the base arrays are written
  arrays  [{name, dtype, shape, order}]: np.arange(size).astype(dtype) in `order`
          ('C' or 'F'), saved as dir/name.npy
  exprs   [{array, ops}] where ops is a list of
          {op: 'slice', specs: [int | null | [start, stop, step]]}
          {op: 'str', s: 'basic indexing text'}
          {op: 'T'} | {op: 'transpose', axes: [...]} | {op: 'reshape', shape: [...]}
  half    float64 values as 16 hex digits (big-endian bits) to round to float16
Writes one JSON answer on stdout:
  arrays  {name: {offset}}: the data offset in the file
  exprs   per expression either {error: 'copy' | 'index' | 'other', message} or
          {shape, strides, offset, c, f, list, flat, mem}
  half    the float16 bit patterns NumPy gives
  halfValue  the same float16 values as float64 (16 hex digits)
"""
import json
import os
import struct
import sys

import numpy as np


def to_index(spec):
    if spec is None:
        return slice(None)
    if isinstance(spec, list):
        return slice(*spec)
    return spec


def apply(a, ops):
    v = a
    for o in ops:
        kind = o['op']
        if kind == 'slice':
            # A trailing Ellipsis makes integer-only indexing give a 0-d view, not a scalar.
            v = v[tuple(to_index(s) for s in o['specs']) + (Ellipsis,)]
        elif kind == 'str':
            s = o['s']
            text = s if '...' in s else (s + ', ...' if s.strip() else '...')
            v = eval('v[' + text + ']', {'v': v})  # our own test strings only
        elif kind == 'T':
            v = v.T
        elif kind == 'transpose':
            v = v.transpose(o['axes'])
        elif kind == 'reshape':
            v = v.reshape(o['shape'], copy=False)
        else:
            raise AssertionError('unknown op ' + kind)
    return v


def main():
    req = json.load(sys.stdin)
    out = {'arrays': {}, 'exprs': [], 'half': [], 'halfValue': []}
    roots = {}
    for spec in req['arrays']:
        shape = tuple(spec['shape'])
        size = int(np.prod(shape)) if shape else 1
        base = np.arange(size).astype(spec['dtype']).reshape(shape)
        if spec['order'] == 'F':
            base = np.asfortranarray(base)
        path = os.path.join(req['dir'], spec['name'] + '.npy')
        np.save(path, base)
        m = np.load(path, mmap_mode='r')
        out['arrays'][spec['name']] = {'offset': int(m.offset)}
        roots[spec['name']] = (np.load(path), int(m.offset))

    for e in req['exprs']:
        root, header = roots[e['array']]
        try:
            v = apply(root, e['ops'])
        except ValueError as ex:
            kind = 'copy' if 'avoid creating a copy' in str(ex) else 'other'
            out['exprs'].append({'error': kind, 'message': str(ex)})
            continue
        except IndexError as ex:
            out['exprs'].append({'error': 'index', 'message': str(ex)})
            continue
        assert np.shares_memory(v, root) or v.size == 0, 'every op must be a view'
        delta = v.__array_interface__['data'][0] - root.__array_interface__['data'][0]
        contiguous = v.flags.c_contiguous or v.flags.f_contiguous
        out['exprs'].append({
            'shape': list(v.shape),
            'strides': list(v.strides),
            'offset': header + delta,
            'c': bool(v.flags.c_contiguous),
            'f': bool(v.flags.f_contiguous),
            'list': v.tolist(),
            'flat': v.ravel(order='C').tolist(),
            # memory order of a contiguous view ('A': Fortran order when F- but not C-contiguous)
            'mem': v.ravel(order='A').tolist() if contiguous else None,
        })

    for h in req['half']:
        x = struct.unpack('>d', bytes.fromhex(h))[0]
        with np.errstate(over='ignore'):
            h16 = np.float16(x)
        out['half'].append(int(h16.view(np.uint16)))
        out['halfValue'].append(struct.pack('>d', float(h16)).hex())

    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main()
