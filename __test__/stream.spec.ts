// Streaming mode of the reductions and dot ({ release: true }): the same results, with a peak
// RSS bounded whatever the array's size, and nothing lost in modes 'c' and 'r+'.
// Linux only (VmHWM and /proc/self/clear_refs). The peaks are measured in a child
// process (helpers/stream-child.js), each call on a fresh mapping of a 384 MiB file.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadNpy, openNpy } from '../index';

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
