'use strict';
// Helper of mmbench's `threads` and `workers` scenarios (not a CLI of its own).
// As a child process: `node sum-child.js file runs` with MMNPY_THREADS set; prints one JSON
// line { seconds: [...], threads, rss } for `runs` steady-state sum() passes after a warm-up.
// As a worker thread (workerData.file): maps the file, answers each 'go' with one sum().
const { isMainThread, parentPort, workerData } = require('node:worker_threads');
const mm = require('..');
const { readRss } = require('./scenarios');

const now = () => Number(process.hrtime.bigint()) / 1e9;

if (isMainThread) {
  const [file, runsArg] = process.argv.slice(2);
  const runs = Number(runsArg) || 1;
  const a = mm.loadNpy(file, { mmapMode: 'r' });
  a.sum(); // warm-up: maps every page
  const seconds = [];
  for (let i = 0; i < runs; i++) {
    const t0 = now();
    a.sum();
    seconds.push(now() - t0);
  }
  const r = readRss();
  a.close();
  const threads = require('../binding.js').kernelThreads();
  process.stdout.write(`${JSON.stringify({ seconds, threads, rss: r })}\n`);
} else {
  const a = mm.loadNpy(workerData.file, { mmapMode: 'r' });
  parentPort.on('message', () => {
    a.sum();
    parentPort.postMessage({ rss: readRss() });
  });
  parentPort.postMessage('ready');
}
