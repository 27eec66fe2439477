'use strict';
// Helper of mmbench's `etl` scenario (not a CLI of its own): `node etl-child.js records.npy
// times.npy runs` with MMNPY_THREADS set. Times `field('x').sum()` over the record file and
// `min()` over the datetime64[ns] file, both mapped: one warm-up each, then `runs` timed calls,
// wall and CPU time (process.cpuUsage: every thread of the process). Prints one JSON line
// { seconds: { op: [...] }, cpu: { op: [...] }, threads }.
const mm = require('..');

const now = () => Number(process.hrtime.bigint()) / 1e9;
const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
};

if (require.main === module) {
  const [records, times, runsArg] = process.argv.slice(2);
  const runs = Number(runsArg) || 1;
  const r = mm.loadNpy(records, { mmapMode: 'r' });
  const t = mm.loadNpy(times, { mmapMode: 'r' });
  const x = r.field('x');
  const ops = [
    ['fieldSum', () => x.sum()],
    ['timeMin', () => t.min()],
  ];
  const seconds = {};
  const cpus = {};
  let sink = 0;
  for (const [id, f] of ops) {
    f();
    seconds[id] = [];
    cpus[id] = [];
    for (let i = 0; i < runs; i++) {
      const [t0, c0] = [now(), cpu()];
      const v = f();
      seconds[id].push(now() - t0);
      cpus[id].push(cpu() - c0);
      sink += typeof v === 'bigint' ? Number(v & 1n) : Number(v) || 0;
    }
  }
  r.close();
  t.close();
  process.stdout.write(`${JSON.stringify({ seconds, cpu: cpus, threads: require('../binding.js').kernelThreads(), sink: Number.isFinite(sink) })}\n`);
}
