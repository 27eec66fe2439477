'use strict';
// Helper of mmbench's `threads` and `workers` scenarios (not a CLI of its own).
// As a child process: `node sum-child.js file runs` with MMNPY_THREADS set; prints one JSON
// line { seconds: [...], threads, rss } for `runs` steady-state sum() passes after a warm-up.
// As a worker thread (workerData.file): maps the file, answers each 'go' with one sum().
const fs = require('node:fs');
const { isMainThread, parentPort, workerData } = require('node:worker_threads');
const mm = require('..');

function readRss() {
  if (process.platform !== 'linux') return null;
  try {
    const st = fs.readFileSync('/proc/self/status', 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(st)?.[1] ?? NaN) * 1024;
    const r = { anon: kb('RssAnon'), file: kb('RssFile') };
    return Number.isFinite(r.anon) && Number.isFinite(r.file) ? r : null;
  } catch {
    return null;
  }
}

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
  const threads = require('../binding.js').machineCeiling(1 << 20, 1).threads;
  process.stdout.write(`${JSON.stringify({ seconds, threads, rss: r })}\n`);
} else {
  const a = mm.loadNpy(workerData.file, { mmapMode: 'r' });
  parentPort.on('message', () => {
    a.sum();
    parentPort.postMessage({ rss: readRss() });
  });
  parentPort.postMessage('ready');
}
