// dot against np.dot: vector·vector, matrix·vector (the direct float path and the
// converting path), matrix·matrix, across dtypes, byte orders, C/F order and strided views.
// Integers are exact; floats agree within a relative 1e-5 (float32) / 1e-12 (float64)
// of the largest partial term, as summation orders differ from BLAS.
import test from 'ava';
import * as path from 'node:path';
import { loadNpy, NdArray } from '../index';
import { py, tmpDir } from './helpers/numpy';

interface Case { name: string; a: string; b: string; expr: string }

const cases: Case[] = [];
for (const dt of ['<f8', '>f8', '<f4', '>f4', '<i4', '>i8', '|u1', '<c16', '<f2', '|b1']) {
  cases.push({ name: `vec·vec ${dt}`, a: `v_${dt}`, b: `v_${dt}`, expr: 'a.dot(b)' });
  cases.push({ name: `mat·vec ${dt}`, a: `m_${dt}`, b: `w_${dt}`, expr: 'a.dot(b)' });
  cases.push({ name: `matF·vec ${dt}`, a: `mf_${dt}`, b: `w_${dt}`, expr: 'a.dot(b)' });
  cases.push({ name: `mat·mat ${dt}`, a: `m_${dt}`, b: `n_${dt}`, expr: 'a.dot(b)' });
  cases.push({ name: `vec·mat ${dt}`, a: `u_${dt}`, b: `m_${dt}`, expr: 'a.dot(b)' });
}
cases.push({ name: 'mixed f4·f8', a: 'm_<f4', b: 'w_<f8', expr: 'a.dot(b)' });
cases.push({ name: 'mixed i1·f4', a: 'm_|i1', b: 'w_<f4', expr: 'a.dot(b)' });

test('dot agrees with np.dot', (t) => {
  const dir = tmpDir(t);
  const expected = py(`
import os
d = inp['dir']; rng = np.random.default_rng(7)
def save(name, arr): np.save(os.path.join(d, name + '.npy'), arr)
for dt in ['<f8', '>f8', '<f4', '>f4', '<i4', '>i8', '|u1', '<c16', '<f2', '|b1', '|i1']:
    def mk(shape):
        x = rng.standard_normal(shape) * 4
        if np.dtype(dt).kind == 'c': x = x + 1j * rng.standard_normal(shape)
        if np.dtype(dt).kind == 'b': x = x > 0
        return x.astype(dt)
    save('v_' + dt, mk(37)); save('w_' + dt, mk(23)); save('u_' + dt, mk(19))
    m = mk((19, 23)); save('m_' + dt, m); save('mf_' + dt, np.asfortranarray(m)); save('n_' + dt, mk((23, 11)))
res = {}
for c in inp['cases']:
    a = np.load(os.path.join(d, c['a'] + '.npy')); b = np.load(os.path.join(d, c['b'] + '.npy'))
    r = np.asarray(a.dot(b))
    res[c['name']] = {'dtype': r.dtype.name, 'shape': list(r.shape),
        're': [float(x) for x in np.real(r).ravel().astype('f8')], 'im': [float(x) for x in np.imag(r).ravel().astype('f8')] if r.dtype.kind == 'c' else None,
        'scale': float(np.abs(a).astype('f8').max() * np.abs(b).astype('f8').max() * a.shape[-1]) if r.dtype.kind in 'fc' else 0}
out(res)
`, { dir, cases });
  for (const c of cases) {
    const a = loadNpy(path.join(dir, `${c.a}.npy`), { mmapMode: 'r' });
    const b = loadNpy(path.join(dir, `${c.b}.npy`), { mmapMode: 'r' });
    const e = expected[c.name];
    const r = a.dot(b);
    const flat = r instanceof NdArray ? (r.shape.length ? r.toArray() as unknown[] : [r.toArray()]).flat(2) : [r];
    const got = r instanceof NdArray ? r : null;
    if (got) {
      t.is(got.dtype, e.dtype, c.name);
      t.deepEqual([...got.shape], e.shape, c.name);
    }
    const tol = e.dtype.includes('16') && !e.dtype.startsWith('complex') ? 2e-3 : e.dtype.includes('32') || e.dtype === 'complex64' ? 1e-5 : 1e-12;
    flat.forEach((v, i) => {
      const re = typeof v === 'object' && v !== null ? (v as { re: number }).re : Number(v);
      const im = typeof v === 'object' && v !== null ? (v as { im: number }).im : 0;
      if (e.scale === 0) {
        t.is(re, e.re[i], `${c.name}[${i}]`);
      } else {
        t.true(Math.abs(re - e.re[i]) <= tol * e.scale, `${c.name}[${i}]: ${re} vs ${e.re[i]}`);
        if (e.im) t.true(Math.abs(im - e.im[i]) <= tol * e.scale, `${c.name}[${i}] im`);
      }
    });
    a.close();
    b.close();
  }
});

test('dot of strided and transposed views, async, and shape errors', async (t) => {
  const dir = tmpDir(t);
  const e = py(`
import os
a = (np.arange(24.).reshape(4, 6) - 7).astype('<f8'); np.save(os.path.join(inp, 'a.npy'), a)
out({'mv': a[::2, ::-1].dot(a[1, ::-1]).tolist(), 'mm': a.T.dot(a).tolist(), 'vv': float(a[:, 1].dot(a[:, 2]))})
`, dir);
  const a = loadNpy(path.join(dir, 'a.npy'), { mmapMode: 'c' });
  t.deepEqual((a.slice('::2, ::-1').dot(a.slice(1, [null, null, -1])) as NdArray).toArray(), e.mv);
  t.deepEqual((a.T.dot(a) as NdArray).toArray(), e.mm);
  t.is(a.slice(null, 1).dot(a.slice(null, 2)), e.vv);
  t.deepEqual(((await a.T.dotAsync(a)) as NdArray).toArray(), e.mm);
  t.throws(() => a.dot(a), { code: 'ERR_MMNPY_INVALID_ARG', message: /not aligned/ });
  await t.throwsAsync(a.dotAsync(a), { code: 'ERR_MMNPY_INVALID_ARG' });
  a.close();
});
