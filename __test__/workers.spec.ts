// The addon in several worker_threads at once: each loads it, maps one file and runs
// kernels (sync and async) on the shared pool; workers exit or are terminated mid-way
// and the process carries on.
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { loadNpy, saveNpy } from '../index';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmnpy-workers-'));
const file = path.join(dir, 'v.npy');
const n = 1 << 20;
test.before(() => saveNpy(file, Float64Array.from({ length: n }, (_, i) => i % 1000)));
test.after.always(() => fs.rmSync(dir, { recursive: true, force: true }));

const worker = path.join(__dirname, 'helpers', 'kernel-worker.js');

test('four workers run kernels on one mapped file and agree with the main thread', async (t) => {
  const main = loadNpy(file, { mmapMode: 'r' });
  const expected = { sum: main.sum(), max: main.max(), axis: main.reshape(-1, 4).sum({ axis: 0 }).toArray(), mean: main.mean() };
  main.close();
  const results = await Promise.all(
    [0, 1, 2, 3].map(
      () =>
        new Promise<unknown>((resolve, reject) => {
          const w = new Worker(worker, { workerData: { file } });
          w.once('message', resolve);
          w.once('error', reject);
        }),
    ),
  );
  for (const r of results) t.deepEqual(r, expected);
});

test('terminating workers while their async kernels run does not crash the process', async (t) => {
  const workers = [0, 1, 2].map(() => new Worker(worker, { workerData: { file } }));
  await new Promise((r) => setTimeout(r, 5));
  const codes = await Promise.all(workers.map((w) => w.terminate()));
  t.is(codes.length, 3);
  // The addon still works on the main thread afterwards.
  const a = loadNpy(file, { mmapMode: 'r' });
  let expected = 0;
  for (let i = 0; i < n; i++) expected += i % 1000;
  t.is(await a.sumAsync(), expected);
  a.close();
});
