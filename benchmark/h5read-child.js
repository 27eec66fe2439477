'use strict';
// Helper of mmbench's `hdf5` scenario (not a CLI of its own): `node h5read-child.js file.h5
// dataset runs` with MMNPY_THREADS set. Reads the whole dataset once to warm up, then `runs`
// times, freeing each result; prints one JSON line { seconds: [...], threads, chunks }.
const mm = require('..');

const now = () => Number(process.hrtime.bigint()) / 1e9;
const [file, name, runsArg] = process.argv.slice(2);
const runs = Number(runsArg) || 1;
const f = mm.openH5(file);
const d = f.get(name);
d.read().close();
const seconds = [];
for (let i = 0; i < runs; i++) {
  const t0 = now();
  const a = d.read();
  seconds.push(now() - t0);
  a.close();
}
const chunks = f._h.live().chunksRead();
f.close();
process.stdout.write(`${JSON.stringify({ seconds, threads: require('../binding.js').kernelThreads(), chunks })}\n`);
