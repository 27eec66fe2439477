'use strict';
// Helper of mmbench's `kernels` scenario (not a CLI of its own): `node kernels-child.js
// data.npy cols runs` with MMNPY_THREADS set. Times every reduction of KERNELS over the
// file, 1-D and as a (rows, cols) matrix for the axis reductions; one warm-up each, then
// `runs` timed calls. Prints one JSON line { seconds: { op: [...] }, threads }.
const mm = require('..');

const now = () => Number(process.hrtime.bigint()) / 1e9;

/** The reductions timed, as [id, call]: `a` is the 1-D file, `m` the same data as a matrix. */
const KERNELS = [
  ['sum', (a) => a.sum()],
  ['mean', (a) => a.mean()],
  ['var', (a) => a.var()],
  ['std', (a) => a.std()],
  ['min', (a) => a.min()],
  ['max', (a) => a.max()],
  ['argmax', (a) => a.argmax()],
  ['sumAxis0', (a, m) => m.sum({ axis: 0 })],
  ['sumAxisLast', (a, m) => m.sum({ axis: -1 })],
];

if (require.main === module) {
  const [file, colsArg, runsArg] = process.argv.slice(2);
  const runs = Number(runsArg) || 1;
  const a = mm.loadNpy(file, { mmapMode: 'r' });
  const cols = Number(colsArg);
  const m = a.reshape([a.size / cols, cols]);
  const seconds = {};
  for (const [id, f] of KERNELS) {
    f(a, m);
    seconds[id] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = now();
      f(a, m);
      seconds[id].push(now() - t0);
    }
  }
  a.close();
  process.stdout.write(`${JSON.stringify({ seconds, threads: require('../binding.js').kernelThreads() })}\n`);
}

module.exports = { KERNELS };
