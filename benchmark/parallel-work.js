'use strict';
// Task functions of mmbench's `parallel` scenario, run in `Parallel` workers.
const mm = require('..');

/** Sums elements start..stop of a 1-D view; reports this worker's pid and resident memory. */
exports.rangeSum = (a, start, stop) => ({ sum: a.slice([start, stop]).sum(), pid: process.pid, memory: mm.residentMemory() });

/** rangeSum measured with memit in this worker (processes: each worker's own memory). */
exports.rangeSumMemit = (a, start, stop) => {
  const m = mm.memit(() => a.slice([start, stop]).sum());
  return { sum: m.result, pid: process.pid, memory: mm.residentMemory(), memit: { increment: m.increment, anon: m.anon, file: m.file } };
};

/** The tiny task of the round-trip figure. */
exports.noop = () => 0;
