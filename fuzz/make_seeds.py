"""Writes the fuzz targets' seed corpora (committed in fuzz/corpus/<target>/): small valid
files made by the Python tools, so the fuzzer starts past the magic strings.
Usage: python3 fuzz/make_seeds.py"""
import io
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def npy(a, version=None):
    b = io.BytesIO()
    np.lib.format.write_array(b, a, version=version, allow_pickle=False)
    return b.getvalue()


def npy_seeds():
    dtypes = ['?', 'i1', 'u1', '<i2', '>u2', '<i4', '>i4', '<u8', '>i8', '<f2', '>f4', '<f8', '>f8', '<c8', '>c16']
    for dt in dtypes:
        a = (np.arange(6) % 3).astype(dt)
        tag = dt.replace('<', 'le_').replace('>', 'be_').replace('?', 'bool')
        write('npy_header', f'{tag}_6.npy', npy(a))
        write('npy_header', f'{tag}_2x3_F.npy', npy(np.asfortranarray(a.reshape(2, 3))))
    write('npy_header', 'f8_0d.npy', npy(np.array(1.5)))
    write('npy_header', 'f8_empty_0x3.npy', npy(np.zeros((0, 3))))
    write('npy_header', 'v2.npy', npy(np.arange(3.0), version=(2, 0)))
    write('npy_header', 'v3.npy', npy(np.arange(3.0), version=(3, 0)))
    write('npy_header', 'f4_3d.npy', npy(np.zeros((2, 1, 2), dtype='<f4')))


def npz_seeds():
    a = np.arange(6, dtype='<f8').reshape(2, 3)
    b = np.array([1, 2, 3], dtype='>i4')
    for name, save in [('savez', np.savez), ('savez_compressed', np.savez_compressed)]:
        buf = io.BytesIO()
        save(buf, a=a, b=b, c=np.array(7, dtype='u1'), e=np.zeros((0, 2)))
        write('npz', f'{name}.npz', buf.getvalue())
        buf = io.BytesIO()
        save(buf, a)
        write('npz', f'{name}_positional.npz', buf.getvalue())


if __name__ == '__main__':
    npy_seeds()
    npz_seeds()
