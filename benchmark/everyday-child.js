'use strict';
// Helper of mmbench's `everyday` scenario (not a CLI of its own): `node everyday-child.js
// op data.npy scratch.npy runs` with MMNPY_THREADS set. Runs `op` once to warm up (every
// page mapped), then `runs` times; prints one JSON line { seconds: [...], threads, rss }.
const mm = require('..');
const { readRss } = require('./scenarios');

const now = () => Number(process.hrtime.bigint()) / 1e9;

const OPS = {
  /** w[...] = a: the whole data file into a 'w+' file of its shape. */
  assign: (a, w) => w.assign(a),
};

const [op, file, scratch, runsArg] = process.argv.slice(2);
const runs = Number(runsArg) || 1;
const a = mm.loadNpy(file, { mmapMode: 'r' });
const w = mm.openNpy(scratch, { mode: 'r+' });
const f = OPS[op];
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
