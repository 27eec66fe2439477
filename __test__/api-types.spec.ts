// The hand-written public types (index.d.ts) must describe what the implementation (lib/) exports:
// `tsc --noEmit` fails when they drift apart, and the test checks the runtime exports.
import test from 'ava';
import type * as Api from '../index';
import * as impl from '../lib/index';
import * as pkg from '../index';

// saveNpy takes the implementation's NdArray (with its internals), so it is checked through instanceConforms.
const conforms: Pick<typeof Api, 'loadNpy' | 'openNpy' | 'memmap' | 'fromFile' | 'array' | 'load' | 'dump'> = impl;
const npzConforms = (z: impl.NpzFile): Api.NpzFile => z;
const h5Conforms = (f: impl.H5File): Api.H5File => f;
const openH5Conforms: typeof Api.openH5 = impl.openH5;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const dtypesMatch: Same<Api.DType, import('../lib/dtype').DType> = true;
const instanceConforms = (a: impl.NdArray): Api.NdArray => a;

test('the package exports every documented function and class', (t) => {
  for (const name of ['loadNpy', 'openNpy', 'memmap', 'fromFile', 'saveNpy', 'array', 'NdArray', 'MmnpyError', 'loadNpz', 'saveNpz', 'NpzFile', 'load', 'dump', 'openH5', 'H5File', 'Group', 'Dataset'] as const) {
    t.is(typeof (pkg as Record<string, unknown>)[name], 'function', name);
  }
  t.truthy(conforms && dtypesMatch && instanceConforms);
  t.is(typeof npzConforms, 'function');
  t.is(typeof h5Conforms, 'function');
  t.is(typeof openH5Conforms, 'function');
});

test('ESM entry exposes the same functions', async (t) => {
  const esm = (await import('../index.mjs' as string)) as Record<string, unknown>;
  t.is(esm.loadNpy, (pkg as Record<string, unknown>).loadNpy);
  t.is(typeof esm.NdArray, 'function');
});
