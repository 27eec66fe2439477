#!/usr/bin/env node
'use strict';
// mmbench: how fast this machine and its files go through mmnpy (see --help).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const HELP = `Usage: mmbench [options]

Measures mmnpy on this machine: with no arguments it writes a float64 data set to a
temporary folder, runs every scenario, prints a table and removes the data.

Options:
  --size N         data set size: bytes or units (64MB, 1GiB); default min(1 GiB, RAM/8)
  --file a.npy     benchmark an existing float64 .npy file, read-only (no data set made)
  --runs N         measured runs per scenario after a warm-up (default 5)
  --scenarios a,b  run only these (${'ceiling,open,get,firstPass,steady,sum,meanStd,matrix,budget,write,cold,numpy'})
  --no-numpy       skip the NumPy baseline
  --json           print machine-readable results instead of the table
  --help           this text

GB = 10^9 bytes. Figures are the median (and p95) over the runs.`;

class UsageError extends Error {}

function parseSize(s) {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb|kib|mib|gib|tib)?$/i.exec(String(s).trim());
  if (!m) throw new UsageError(`--size: cannot read '${s}' (give bytes or e.g. 64MB, 1GiB)`);
  const mult = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 }[(m[2] || 'b').toLowerCase()];
  const bytes = Math.floor(Number(m[1]) * mult);
  if (!(bytes >= 8)) throw new UsageError(`--size: ${s} is too small`);
  return bytes;
}

function parseArgs(argv) {
  const o = { runs: 5, json: false, noNumpy: false, size: undefined, file: undefined, scenarios: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new UsageError(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--help' || a === '-h') o.help = true;
    else if (a === '--json') o.json = true;
    else if (a === '--no-numpy') o.noNumpy = true;
    else if (a === '--size') o.size = parseSize(val());
    else if (a === '--file') o.file = val();
    else if (a === '--runs') {
      o.runs = Number(val());
      if (!Number.isInteger(o.runs) || o.runs < 1) throw new UsageError('--runs must be a positive integer');
    } else if (a === '--scenarios') o.scenarios = val().split(',').map((s) => s.trim()).filter(Boolean);
    else throw new UsageError(`unknown option '${a}' (see --help)`);
  }
  return o;
}

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
  return { median: s.length ? q(0.5) : NaN, p95: s.length ? q(0.95) : NaN };
}

function fmt(v, unit) {
  if (!Number.isFinite(v)) return '-';
  if (unit === 's') return v < 1e-3 ? `${(v * 1e6).toFixed(1)} µs` : `${(v * 1e3).toFixed(2)} ms`;
  if (unit === 'elem/s') return `${(v / 1e6).toFixed(1)} M/s`;
  return `${v.toFixed(2)} ${unit}`;
}

function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`mmbench: ${e.message}`);
    process.exit(2);
  }
  if (opts.help) {
    console.log(HELP);
    return;
  }
  const { scenarios } = require('./scenarios');
  const mm = require('..');
  const names = opts.scenarios ?? Object.keys(scenarios);
  for (const n of names) {
    if (!(n in scenarios)) {
      console.error(`mmbench: unknown scenario '${n}' (known: ${Object.keys(scenarios).join(', ')})`);
      process.exit(2);
    }
  }

  let dir;
  let file = opts.file;
  const cleanup = () => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  };
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { cleanup(); process.exit(130); });

  let bytes;
  if (file) {
    let a;
    try {
      a = mm.loadNpy(file, { mmapMode: 'r' });
    } catch (e) {
      console.error(`mmbench: ${e.message}`);
      process.exit(2);
    }
    if (a.dtype !== 'float64' || a.byteOrder === '>') {
      console.error(`mmbench: ${file}: the scenarios read native float64 files (this one is ${a.byteOrder}${a.dtype})`);
      process.exit(2);
    }
    bytes = a.nbytes;
    a.close();
    if (names.includes('write')) names.splice(names.indexOf('write'), 1); // read-only on user files
  } else {
    bytes = opts.size ?? Math.min(2 ** 30, Math.floor(os.totalmem() / 8));
    bytes -= bytes % 8;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmbench-'));
    const free = fs.statfsSync(dir);
    if (free.bavail * free.bsize < bytes * 2.2) {
      cleanup();
      console.error(`mmbench: --size ${bytes} needs ${Math.ceil(bytes * 2.2)} free bytes in ${os.tmpdir()}, only ${free.bavail * free.bsize} are free`);
      process.exit(2);
    }
    file = path.join(dir, 'data.npy');
    const a = mm.openNpy(file, { mode: 'w+', dtype: 'float64', shape: [bytes / 8] });
    let k = 0;
    for (const c of a.chunks({ bytes: 64 * 2 ** 20 })) {
      const d = c.data;
      for (let i = 0; i < d.length; i++) d[i] = (k++ % 1000) * 0.001;
    }
    a.flush();
    a.close();
  }

  const ctx = { file, bytes, runs: opts.runs, noNumpy: opts.noNumpy, scratch: dir };
  const results = [];
  for (const n of names) {
    if (!opts.json && process.stderr.isTTY && !process.env.CI) process.stderr.write(`mmbench: ${n}...\r`);
    const r = scenarios[n](ctx);
    results.push({ id: n, ...r, stats: stats(r.samples), baselineStats: r.baseline ? stats(r.baseline.samples) : undefined, steadyStats: r.steady ? stats(r.steady) : undefined });
  }
  const machine = { cpus: os.cpus().length, totalmem: os.totalmem(), platform: `${process.platform}-${process.arch}`, node: process.version };
  if (opts.json) {
    console.log(JSON.stringify({ machine, bytes, file: opts.file ?? null, runs: opts.runs, results: results.map(({ sink, ...r }) => r) }, null, 2));
    return;
  }
  console.log(`mmbench: ${(bytes / 1e9).toFixed(3)} GB float64, ${opts.runs} runs, ${machine.cpus} cpus, node ${machine.node}`);
  const rows = [['scenario', 'median', 'p95', 'baseline', 'ratio']];
  for (const r of results) {
    const extra = (r.meanStd ? `, mean+std: ${fmt(stats(r.meanStd).median, r.unit)}` : '') + (r.ofCeiling ? `, ${r.ofCeiling.toFixed(2)}x the ceiling` : '');
    const base = r.baselineStats ? `${r.baseline.name}: ${fmt(r.baselineStats.median, r.unit)}` : r.steadyStats ? `steady: ${fmt(r.steadyStats.median, r.unit)}${extra}` : r.note ?? '';
    if (r.detail) r.name += ' (sum axis 0)';
    const ratio = r.baselineStats ? `${(r.stats.median / r.baselineStats.median).toFixed(2)}x` : '';
    rows.push([r.name, fmt(r.stats.median, r.unit), fmt(r.stats.p95, r.unit), base, ratio]);
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd());
}

main();
