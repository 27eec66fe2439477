'use strict';
// Helper of mmbench's `everyday` scenario (not a CLI of its own): `node everyday-child.js
// op data.npy scratch.npy runs` with MMNPY_THREADS set. Runs `op` once to warm up (every
// page mapped), then `runs` times; prints one JSON line { seconds: [...], threads, rss }.
// `scratch.npy` is the op's second operand: a 'w+' file of the data's shape for `assign`,
// a bool mask file of the data's length for `compress`.
const mm = require('..');
const { readRss } = require('./scenarios');

const now = () => Number(process.hrtime.bigint()) / 1e9;

const OPS = {
  /** w[...] = a: the whole data file into a 'w+' file of its shape. */
  assign: { mode: 'r+', run: (a, w) => w.assign(a) },
  /** a[m]: the elements where a mapped bool file is true, into memory (freed at once, as NumPy frees its result). */
  compress: { mode: 'r', run: (a, m) => a.compress(m).close() },
};

const [op, file, scratch, runsArg] = process.argv.slice(2);
const runs = Number(runsArg) || 1;
const a = mm.loadNpy(file, { mmapMode: 'r' });
const w = mm.openNpy(scratch, { mode: OPS[op].mode });
const f = OPS[op].run;
f(a, w);
const seconds = [];
for (let i = 0; i < runs; i++) {
  const t0 = now();
  f(a, w);
  seconds.push(now() - t0);
}
const rss = readRss();
a.close();
w.close();
process.stdout.write(`${JSON.stringify({ seconds, threads: require('../binding.js').kernelThreads(), rss })}\n`);
