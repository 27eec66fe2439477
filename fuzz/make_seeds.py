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
    # Dtypes ETL files carry: datetimes, strings, records (list form, padding, nesting, subarrays).
    etl = {
        'M8_ns': np.array(['2024-01-02T03:04:05', 'NaT'], dtype='<M8[ns]'),
        'm8_2s_be': np.array([1, -3], dtype='>m8[2s]'),
        'M8_generic': np.zeros(2, dtype='M8'),
        'S5': np.array([b'ab', b'abcde'], dtype='S5'),
        'U6_le': np.array(['h\u00e9', 'x'], dtype='<U6'),
        'U6_be': np.array(['h\u00e9', 'x'], dtype='>U6'),
        'rec_packed': np.zeros(2, dtype=[('id', '<i4'), ('x', '<f8')]),
        'rec_aligned': np.zeros(2, dtype=np.dtype([('a', 'i1'), ('b', '<i8')], align=True)),
        'rec_nested': np.zeros(2, dtype=[('x', '>f4', (2, 3)), ('s', [('q', 'u1'), ('r', 'S3')]), ("it's", '<m8[25us]')]),
        'rec_F': np.zeros((2, 3), dtype=[('x', '<f4')], order='F'),
        'rec_utf8_names': np.zeros(1, dtype=[('\u00e9', 'i1'), ('\u4e2d', '<i8')]),
    }
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for tag, a in etl.items():
            write('npy_header', f'{tag}.npy', npy(a))


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


def pickle_seeds():
    import collections
    import pickle

    import joblib
    value = {'a': np.arange(6, dtype='<f8').reshape(2, 3), 'b': np.asfortranarray(np.ones((2, 2), dtype='>i4')),
             'c': [1, 2 ** 70, 'x', b'y', None, True, 1.5, 2 + 3j, (1, 2), {3: 'i'}, {1}, frozenset([2])],
             's': np.float32(2.5), 'od': collections.OrderedDict(k=1), 'z': np.zeros((0, 2))}
    for proto in (2, 3, 4, 5):
        b = io.BytesIO()
        joblib.dump(value, b, protocol=proto)
        write('pickle', f'joblib_p{proto}.joblib', b.getvalue())
    for comp in ('zlib', 'gzip'):
        b = io.BytesIO()
        joblib.dump(value, b, compress=(comp, 1))
        write('pickle', f'joblib_{comp}.joblib', b.getvalue())
    write('pickle', 'plain_p2.pkl', pickle.dumps(value['c'], protocol=2))
    write('pickle', 'ndarray_p2.pkl', pickle.dumps(np.arange(3, dtype='>i2'), protocol=2))
    write('pickle', 'ndarray_p5.pkl', pickle.dumps(np.arange(3, dtype='<u4'), protocol=5))


def hdf5_seeds():
    import tempfile

    import h5py
    with tempfile.TemporaryDirectory() as tmp:
        # 'v108': superblock 2, version 2 object headers, link messages, B-tree v1 chunk
        # indexes: the format mmnpy writes (the writer's reopen and 'r+' paths start here).
        for libver in ('earliest', 'v108', 'latest'):
            for kind in ('chunked', 'plain'):
                path = os.path.join(tmp, f'{libver}_{kind}.h5')
                with h5py.File(path, 'w', libver=libver) as f:
                    g = f.create_group('g')
                    g.attrs['s'] = 'text'
                    g.attrs['n'] = np.arange(3, dtype='>i2')
                    if kind == 'chunked':
                        g.create_dataset('z', data=np.arange(24, dtype='<f4').reshape(4, 6), chunks=(2, 3), compression='gzip', shuffle=True, fletcher32=True)
                        f.create_dataset('u', data=np.arange(10, dtype='<i8'), maxshape=(None,), chunks=(3,))
                    else:
                        g.create_dataset('c', data=np.arange(6, dtype='>f8').reshape(2, 3))
                        f.create_dataset('s', data=np.int32(5))
                write('hdf5', f'{libver}_{kind}.h5', open(path, 'rb').read())


if __name__ == '__main__':
    hdf5_seeds()
    npy_seeds()
    npz_seeds()
    pickle_seeds()
