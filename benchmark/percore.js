#!/usr/bin/env node
'use strict';
// What a kernel costs per element and per call, with memory out of the way: CPU time of one
// thread (run with MMNPY_THREADS=1) on arrays that fit in the L2 cache, and CPU time per call
// of small operations, against NumPy's same expressions timed with `time.process_time` in a
// python3 child right after. CPU time, not wall time: the figures hold on a busy machine.
// Arrays under 65,536 elements run on the calling thread, so no pool thread adds CPU time.
//
// Usage: MMNPY_THREADS=1 node benchmark/percore.js [elements (default 32768)]
const { execFileSync } = require('node:child_process');
const mm = require('..');

const n = Number(process.argv[2] || 32768);
if (!(n > 0 && n < 65536)) throw new RangeError('elements: 1 to 65535 (larger arrays hand off to the pool)');
const OPS = ['sum', 'mean', 'var', 'min', 'max', 'argmax'];
const best = (f, reps) => {
  let b = Infinity;
  for (let r = 0; r < 5; r++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < reps; i++) f();
    const c = process.cpuUsage(c0);
    b = Math.min(b, (c.user + c.system) / 1e6 / reps);
  }
  return b;
};

const ours = {};
for (const dt of ['float64', 'float32']) {
  const a = mm.array(Float64Array.from({ length: n }, (_, i) => (i % 7) * 0.5)).astype(dt);
  const reps = Math.max(1, Math.floor(2 ** 28 / a.nbytes));
  for (const op of OPS) ours[`${dt} ${op}`] = a.nbytes / best(() => a[op](), reps) / 1e9;
}
// Integer min/max (int64 is also datetime64's): the lanes loop compiled per instruction set.
const INT_OPS = ['min', 'max'];
for (const dt of ['int64', 'int32']) {
  const a = mm.array(Float64Array.from({ length: n }, (_, i) => (i % 7) * 3 - 9)).astype(dt);
  const reps = Math.max(1, Math.floor(2 ** 28 / a.nbytes));
  for (const op of INT_OPS) ours[`${dt} ${op}`] = a.nbytes / best(() => a[op](), reps) / 1e9;
}
const s = mm.array(Float64Array.from({ length: 1000 }, (_, i) => i % 7));
const m = s.reshape([40, 25]);
const out = mm.zeros([1000]);
let sink = 0;
const CALLS = [
  ['sum()', () => s.sum(), 'a.sum()'],
  ['sum({ axis: 0 }) of (40, 25)', () => m.sum({ axis: 0 }), 'm.sum(axis=0)'],
  ['add(b, { out })', () => s.add(s, { out }), 'np.add(a, a, out=out)'],
  ['add(b)', () => s.add(s), 'a + a'],
  ['get(i)', () => { sink += s.get(sink & 511); }, 'a[5]'],
  ['slice([10, 20])', () => s.slice([10, 20]), 'a[10:20]'],
];
for (const [name, f] of CALLS) {
  for (let i = 0; i < 20000; i++) f();
  ours[name] = best(f, 20000) * 1e6;
}

const py = `
import json, sys, time
import numpy as np
n = ${n}
def best(f, reps):
    b = 1e9
    for _ in range(5):
        t0 = time.process_time()
        for _ in range(reps): f()
        b = min(b, (time.process_time() - t0) / reps)
    return b
r = {}
for dt in ('float64', 'float32'):
    a = (np.arange(n) % 7 * 0.5).astype(dt)
    reps = max(1, (1 << 28) // a.nbytes)
    for op in ${JSON.stringify(OPS)}:
        r[dt + ' ' + op] = a.nbytes / best(getattr(a, op), reps) / 1e9
for dt in ('int64', 'int32'):
    a = (np.arange(n) % 7 * 3 - 9).astype(dt)
    reps = max(1, (1 << 28) // a.nbytes)
    for op in ${JSON.stringify(INT_OPS)}:
        r[dt + ' ' + op] = a.nbytes / best(getattr(a, op), reps) / 1e9
a = np.arange(1000, dtype=np.float64) % 7; m = a.reshape(40, 25); out = np.zeros(1000)
for name, f in [${CALLS.map(([name, , e]) => `(${JSON.stringify(name)}, lambda: ${e})`).join(', ')}]:
    r[name] = best(f, 20000) * 1e6
print(json.dumps(r))
`;
const theirs = JSON.parse(execFileSync(process.env.PYTHON || 'python3', ['-c', py], { encoding: 'utf8' }));
console.log(`one thread (MMNPY_THREADS=${process.env.MMNPY_THREADS ?? 'unset'}), ${n} elements in cache, CPU time: GB/s`);
for (const k of Object.keys(ours).filter((k) => k.startsWith('float') || k.startsWith('int'))) {
  console.log(`  ${k.padEnd(16)} mmnpy ${ours[k].toFixed(2).padStart(6)}  NumPy ${theirs[k].toFixed(2).padStart(6)}  ${(ours[k] / theirs[k]).toFixed(2)}x`);
}
console.log('per call, 1,000 float64, CPU time: µs (ratio = NumPy / mmnpy)');
for (const [name] of CALLS) {
  console.log(`  ${name.padEnd(30)} mmnpy ${ours[name].toFixed(3).padStart(7)}  NumPy ${theirs[name].toFixed(3).padStart(7)}  ${(theirs[name] / ours[name]).toFixed(2)}x`);
}
if (!Number.isFinite(sink)) process.exitCode = 1;
