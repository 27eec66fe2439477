// Streaming mode of the reductions and dot ({ release: true }): the same results, with a peak
// RSS bounded whatever the array's size, and nothing lost in modes 'c' and 'r+'.
// Linux only (VmHWM and /proc/self/clear_refs). The peaks are measured in a child
// process (helpers/stream-child.js), each call on a fresh mapping of a 384 MiB file.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { csr, loadNpy, openNpy, saveSparse } from '../index';

const linux = process.platform === 'linux';
const MiB = 2 ** 20;
const SIZE = 384 * MiB;
/** The budget a streamed call must stay under: a few 8 MiB pieces per thread, far below SIZE. */
const BUDGET = 96 * MiB;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmnpy-stream-'));
const file = path.join(dir, 'big.npy');
test.before(() => {
  const a = openNpy(file, { mode: 'w+', dtype: 'float64', shape: [SIZE / 8] });
  let k = 0;
  for (const c of a.chunks()) {
    const d = c.data as Float64Array;
    for (let i = 0; i < d.length; i++) d[i] = ((k + i) % 1000) * 0.001 - 0.25;
    k += d.length;
  }
  a.close();
});
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

interface Measured {
  value: unknown;
  peak: number;
}

(linux ? test : test.skip)('release: same results, peak RSS under the budget (without it: the whole array)', (t) => {
  const out = execFileSync(process.execPath, [path.join(__dirname, 'helpers', 'stream-child.js'), file], { encoding: 'utf8', maxBuffer: 16 * MiB });
  const line = out.split('\n').find((l) => l.startsWith('MMNPY-STREAM-RESULT '));
  t.truthy(line, out);
  const results = JSON.parse(line!.slice('MMNPY-STREAM-RESULT '.length)) as Record<string, { kept: Measured; released: Measured }>;
  t.true(Object.keys(results).length >= 12);
  for (const [name, r] of Object.entries(results)) {
    t.deepEqual(r.released.value, r.kept.value, `${name}: the same result`);
    // The measurement sees the mapping: without release the pass keeps (nearly) all of what it read.
    const touched = name === 'sum of a column view' || name === 'prod' ? SIZE / 2 : SIZE * 0.9;
    t.true(r.kept.peak > touched, `${name}: without release the peak grows by ${(r.kept.peak / MiB).toFixed(0)} MiB`);
    // Documented limit: an axis reduction NumPy accumulates row by row, other than the float32/float64/int64
    // sum/min/max fast paths, releases its pages only at the end.
    if (name.includes('transposed')) continue;
    t.true(r.released.peak < BUDGET, `${name}: with release the peak grows by ${(r.released.peak / MiB).toFixed(0)} MiB (budget ${BUDGET / MiB})`);
  }
});

(linux ? test : test.skip)('release: the first sparse product of a mapped matrix releases the indices its index check read', (t) => {
  // A CSR matrix of 384 MiB of stored parts (96 nonzeros in each of 2^19 rows, float32 values,
  // int32 indices: 192 MiB of indices) saved uncompressed, so that loadSparse maps it. Its first
  // product also checks every index against the shape, reading all the indices before the
  // product starts.
  const rows = 2 ** 19;
  const perRow = 96;
  const indptr = new Int32Array(rows + 1);
  const indices = new Int32Array(rows * perRow);
  const data = new Float32Array(rows * perRow);
  for (let i = 0, k = 0; i < rows; i++) {
    for (let d = 0; d < perRow; d++, k++) {
      indices[k] = (i * 3 + d * 37) % rows;
      data[k] = ((i + d) % 11) - 5;
    }
    indptr[i + 1] = (i + 1) * perRow;
  }
  // Each row's columns in increasing order (canonical, as SciPy writes them).
  for (let i = 0; i < rows; i++) indices.subarray(i * perRow, (i + 1) * perRow).sort();
  const npz = path.join(dir, 'sparse.npz');
  const m = csr({ data, indices, indptr }, [rows, rows]);
  saveSparse(npz, m, { compress: false });
  m.close();
  const stored = fs.statSync(npz).size;
  const out = execFileSync(process.execPath, [path.join(__dirname, 'helpers', 'stream-sparse-child.js'), npz], { encoding: 'utf8', maxBuffer: 16 * MiB });
  const line = out.split('\n').find((l) => l.startsWith('MMNPY-STREAM-SPARSE '));
  t.truthy(line, out);
  const r = JSON.parse(line!.slice('MMNPY-STREAM-SPARSE '.length)) as Record<'kept' | 'first' | 'second', { peak: number; digest: number }>;
  t.is(r.first.digest, r.kept.digest, 'the same product');
  t.is(r.second.digest, r.kept.digest, 'the same product');
  const mb = (x: number): string => (x / MiB).toFixed(0);
  t.true(r.kept.peak > stored * 0.9, `without release the peak grows by ${mb(r.kept.peak)} MiB of ${mb(stored)}`);
  t.true(r.second.peak < r.kept.peak / 2, `with release the product's peak grows by ${mb(r.second.peak)} MiB, without ${mb(r.kept.peak)}`);
  // The check before the first product adds (nearly) nothing to the product's own peak: it
  // releases what it read (62-76 MiB of the 192 MiB of indices without that, 17-19 MiB with it).
  const indexBytes = indices.byteLength;
  t.true(r.first.peak - r.second.peak < indexBytes / 4, `the index check adds ${mb(r.first.peak - r.second.peak)} MiB to the product's ${mb(r.second.peak)} MiB`);
  fs.rmSync(npz, { force: true });
});

test("release in mode 'c' keeps private writes; in 'r+' writes stay in the file", (t) => {
  const c = loadNpy(file, { mmapMode: 'c' });
  c.set(5, 1e6);
  const first = c.sum({ release: true });
  t.is(c.get(5), 1e6);
  t.is(c.sum({ release: true }), first);
  t.is(c.sum(), first);
  c.close();
  const copy = path.join(dir, 'copy.npy');
  fs.copyFileSync(file, copy);
  const w = loadNpy(copy, { mmapMode: 'r+' });
  const before = w.sum() as number;
  w.set(7, 2e6);
  t.is(w.sum({ release: true }), w.sum());
  t.is(w.get(7), 2e6);
  w.close();
  const again = loadNpy(copy, { mmapMode: 'r' });
  t.is(again.get(7), 2e6);
  t.not(again.sum(), before);
  again.close();
});

test('release: in memory (ignored) and argument errors', async (t) => {
  const a = loadNpy(file).slice('0:1000');
  t.is(a.sum({ release: true }), a.sum());
  t.is(await a.stdAsync({ release: true, axis: 0 }).then((r) => (r as { get(i: number): unknown }).get !== undefined), true);
  t.throws(() => a.sum({ release: 'yes' as unknown as boolean }), { instanceOf: TypeError, message: /release must be a boolean/ });
  t.throws(() => a.sum({ mean: 1 } as never), { code: 'ERR_MMNPY_INVALID_ARG', message: /sum takes no mean/ });
});
