'use strict';
// The benchmark scenarios, shared by `mmbench` (the CLI users run) and BENCHMARKS.md.
// Each scenario returns { name, unit, samples: number[], bytes?, note? } and, when a
// baseline ran, the baseline's samples for a ratio.
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
const mm = require('..');

function now() {
  return Number(process.hrtime.bigint()) / 1e9;
}

function timeRuns(runs, fn, warmup = 1) {
  for (let i = 0; i < warmup; i++) fn();
  const out = [];
  for (let i = 0; i < runs; i++) {
    const t0 = now();
    fn();
    out.push(now() - t0);
  }
  return out;
}

/** Sums a float64 view block by block through zero-copy `data`. */
function sumChunks(a) {
  let s = 0;
  for (const c of a.chunks({ bytes: 64 * 2 ** 20 })) {
    const d = c.data;
    for (let i = 0; i < d.length; i++) s += d[i];
  }
  return s;
}

/** Evicts a file's pages from the page cache where the platform allows it. */
function evict(file) {
  const r = spawnSync('python3', ['-c', 'import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.posix_fadvise(fd,0,0,os.POSIX_FADV_DONTNEED)', file]);
  return r.status === 0;
}

function warmCache(file) {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(16 * 2 ** 20);
  while (fs.readSync(fd, buf, 0, buf.length, null) > 0);
  fs.closeSync(fd);
}

const scenarios = {
  /** The machine's ceiling: all kernel threads reading faulted memory, one thread copying it (native probe). */
  ceiling(ctx) {
    const binding = require('../binding.js');
    const size = Math.min(ctx.bytes, 1024 * 2 ** 20);
    const samples = [];
    let memcpy = 0;
    for (let r = 0; r < ctx.runs; r++) {
      const c = binding.machineCeiling(size, 3);
      samples.push(c.read / 1e9);
      memcpy = Math.max(memcpy, c.memcpy / 1e9);
    }
    ctx.ceiling = Math.max(...samples);
    return { name: 'machine ceiling (native read, all threads)', unit: 'GB/s', samples, note: `memcpy (1 thread): ${memcpy.toFixed(2)} GB/s` };
  },

  /** Time to map a file and parse its header. */
  open(ctx) {
    const samples = timeRuns(ctx.runs * 20, () => mm.loadNpy(ctx.file, { mmapMode: 'r' }).close());
    return { name: 'open latency', unit: 's', samples };
  },

  /** `get(i)` over a 1-D float64 array against a plain TypedArray loop over the same memory. */
  get(ctx) {
    const a = mm.loadNpy(ctx.file, { mmapMode: 'r' });
    const n = Math.min(a.size, 2 ** 23);
    const v = a.slice([0, n]);
    const ta = v.data;
    let sink = 0;
    const typed = timeRuns(ctx.runs, () => { let s = 0; for (let i = 0; i < n; i++) s += ta[i]; sink += s; });
    const got = timeRuns(ctx.runs, () => { let s = 0; for (let i = 0; i < n; i++) s += v.get(i); sink += s; });
    a.close();
    return {
      name: 'get(i) loop', unit: 'elem/s', samples: got.map((t) => n / t),
      baseline: { name: 'TypedArray loop', samples: typed.map((t) => n / t) }, sink,
    };
  },

  /** A full pass over a fresh mapping of a file already in the page cache. */
  firstPass(ctx) {
    warmCache(ctx.file);
    const samples = timeRuns(ctx.runs, () => {
      const a = mm.loadNpy(ctx.file, { mmapMode: 'r' });
      sumChunks(a);
      a.close();
    }, 0);
    const base = timeRuns(ctx.runs, () => {
      const fd = fs.openSync(ctx.file, 'r');
      const buf = Buffer.allocUnsafe(64 * 2 ** 20);
      const f = new Float64Array(buf.buffer, buf.byteOffset, buf.length / 8);
      let n;
      let s = 0;
      while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) for (let i = 0; i < n / 8; i++) s += f[i];
      fs.closeSync(fd);
      return s;
    }, 0);
    return {
      name: 'first pass (cached file)', unit: 'GB/s', samples: samples.map((t) => ctx.bytes / t / 1e9),
      baseline: { name: 'fs.readSync + JS loop', samples: base.map((t) => ctx.bytes / t / 1e9) },
    };
  },

  /** Repeated passes over one mapping whose pages are already mapped. */
  steady(ctx) {
    const a = mm.loadNpy(ctx.file, { mmapMode: 'r' });
    const samples = timeRuns(ctx.runs, () => sumChunks(a));
    a.close();
    return { name: 'steady state', unit: 'GB/s', samples: samples.map((t) => ctx.bytes / t / 1e9) };
  },

  /** Sequential write of a new file through openNpy('w+') and flush(). */
  write(ctx) {
    const out = `${ctx.file}.write.npy`;
    const n = ctx.bytes / 8;
    const samples = timeRuns(ctx.runs, () => {
      const a = mm.openNpy(out, { mode: 'w+', dtype: 'float64', shape: [n] });
      for (const c of a.chunks({ bytes: 64 * 2 ** 20 })) c.data.fill(1.5);
      a.flush();
      a.close();
    }, 0);
    fs.rmSync(out, { force: true });
    return { name: "write via openNpy('w+') + flush", unit: 'GB/s', samples: samples.map((t) => ctx.bytes / t / 1e9) };
  },

  /** Rust `sum()` over a fresh mapping each run (file in page cache), then over one mapping (steady). */
  sum(ctx) {
    warmCache(ctx.file);
    const first = timeRuns(ctx.runs, () => {
      const a = mm.loadNpy(ctx.file, { mmapMode: 'r' });
      a.sum();
      a.close();
    }, 0);
    const a = mm.loadNpy(ctx.file, { mmapMode: 'r' });
    const steady = timeRuns(ctx.runs, () => a.sum());
    a.close();
    const r = {
      name: 'sum() first pass / steady', unit: 'GB/s',
      samples: first.map((t) => ctx.bytes / t / 1e9), steady: steady.map((t) => ctx.bytes / t / 1e9),
    };
    if (ctx.ceiling) {
      const med = [...r.steady].sort((x, y) => x - y)[Math.floor(r.steady.length / 2)];
      r.ofCeiling = med / ctx.ceiling;
    }
    return r;
  },

  /** `mean()` and `std()` together on one mapping. */
  meanStd(ctx) {
    const a = mm.loadNpy(ctx.file, { mmapMode: 'r' });
    const samples = timeRuns(ctx.runs, () => { a.mean(); a.std(); });
    a.close();
    return { name: 'mean() + std()', unit: 'GB/s', samples: samples.map((t) => ctx.bytes / t / 1e9) };
  },

  /** `min`, `max`, `sum(axis=0)` and matrix·vector `dot` of a float32 matrix, against NumPy in the same run. */
  matrix(ctx) {
    if (!ctx.scratch) return { name: 'float32 matrix kernels', unit: 'GB/s', samples: [], note: 'skipped: needs a scratch folder (not with --file)' };
    const path = require('node:path');
    const file = path.join(ctx.scratch, 'matrix.npy');
    const cols = 16384;
    const rows = Math.max(1, Math.min(8192, Math.floor(ctx.bytes / 2 / (cols * 4))));
    const m = mm.openNpy(file, { mode: 'w+', dtype: 'float32', shape: [rows, cols] });
    for (const c of m.chunks({ bytes: 64 * 2 ** 20 })) c.fill(0.25);
    m.set(rows - 1, cols - 1, 2);
    m.flush();
    m.close();
    const bytes = rows * cols * 4;
    const a = mm.loadNpy(file, { mmapMode: 'r' });
    const v = mm.array(new Float32Array(cols).fill(1));
    const ours = {
      minmax: timeRuns(ctx.runs, () => { a.min(); a.max(); }),
      sum0: timeRuns(ctx.runs, () => a.sum({ axis: 0 })),
      matvec: timeRuns(ctx.runs, () => a.dot(v)),
    };
    a.close();
    let theirs = null;
    if (!ctx.noNumpy) {
      const code = `
import sys, time, json
import numpy as np
a = np.load(sys.argv[1], mmap_mode='r'); runs = int(sys.argv[2]); v = np.ones(a.shape[1], dtype=np.float32)
def t(f):
    f(); out = []
    for _ in range(runs):
        s = time.perf_counter(); f(); out.append(time.perf_counter() - s)
    return out
print(json.dumps({'minmax': t(lambda: (a.min(), a.max())), 'sum0': t(lambda: a.sum(axis=0)), 'matvec': t(lambda: a.dot(v))}))
`;
      const r = spawnSync('python3', ['-c', code, file, String(ctx.runs)], { encoding: 'utf8' });
      if (r.status === 0) theirs = JSON.parse(r.stdout);
    }
    fs.rmSync(file, { force: true });
    const med = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    const parts = Object.keys(ours).map((k) => {
      const mine = (k === 'minmax' ? 2 : 1) * bytes / med(ours[k]) / 1e9;
      const np = theirs ? (k === 'minmax' ? 2 : 1) * bytes / med(theirs[k]) / 1e9 : NaN;
      return `${k} ${mine.toFixed(1)} GB/s` + (theirs ? ` vs NumPy ${np.toFixed(1)} (${(mine / np).toFixed(2)}x)` : '');
    });
    return {
      name: `float32 ${rows}x${cols}`, unit: 'GB/s', samples: ours.sum0.map((t) => bytes / t / 1e9),
      note: parts.join('; '), detail: { ours, numpy: theirs, bytes },
    };
  },

  /** A full pass in blocks with `chunks({ release: true })`: peak RSS (anonymous + file-backed) against the data size. */
  budget(ctx) {
    const rss = () => {
      if (process.platform !== 'linux') return NaN;
      const st = fs.readFileSync('/proc/self/status', 'utf8');
      const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(st)?.[1] ?? NaN) * 1024;
      return kb('RssAnon') + kb('RssFile');
    };
    const peaks = [];
    const samples = timeRuns(ctx.runs, () => {
      const a = mm.loadNpy(ctx.file, { mmapMode: 'r' });
      const start = rss();
      let peak = 0;
      for (const c of a.chunks({ bytes: 32 * 2 ** 20, release: true })) {
        c.sum();
        peak = Math.max(peak, rss() - start);
      }
      a.close();
      peaks.push(peak);
    }, 0);
    const worst = Math.max(...peaks);
    return {
      name: 'sum in 32 MiB blocks, release', unit: 'GB/s', samples: samples.map((t) => ctx.bytes / t / 1e9),
      note: Number.isFinite(worst) ? `peak RSS growth ${(worst / 2 ** 20).toFixed(0)} MiB for ${(ctx.bytes / 2 ** 20).toFixed(0)} MiB of data` : 'RSS not measurable here',
      peakRss: worst,
    };
  },

  /** The page-cache-cold pass (pages evicted with posix_fadvise). */
  cold(ctx) {
    if (!evict(ctx.file)) return { name: 'cold pass', unit: 'GB/s', samples: [], note: 'cannot evict pages here (posix_fadvise unavailable)' };
    const samples = [];
    for (let r = 0; r < ctx.runs; r++) {
      evict(ctx.file);
      const t0 = now();
      const a = mm.loadNpy(ctx.file, { mmapMode: 'r' });
      sumChunks(a);
      a.close();
      samples.push(ctx.bytes / (now() - t0) / 1e9);
    }
    return { name: 'cold pass (evicted)', unit: 'GB/s', samples };
  },

  /** NumPy on the same file, in the same run. */
  numpy(ctx) {
    if (ctx.noNumpy) return { name: 'NumPy sum', unit: 'GB/s', samples: [], note: 'skipped (--no-numpy)' };
    const code = `
import sys, time, json
import numpy as np
f, runs = sys.argv[1], int(sys.argv[2])
first, steady = [], []
for _ in range(runs):
    t = time.perf_counter(); a = np.load(f, mmap_mode='r'); a.sum(); first.append(time.perf_counter() - t); del a
a = np.load(f, mmap_mode='r'); a.sum()
ms = []
for _ in range(runs):
    t = time.perf_counter(); a.sum(); steady.append(time.perf_counter() - t)
for _ in range(runs):
    t = time.perf_counter(); a.mean(); a.std(); ms.append(time.perf_counter() - t)
print(json.dumps({'first': first, 'steady': steady, 'meanStd': ms}))
`;
    const r = spawnSync('python3', ['-c', code, ctx.file, String(ctx.runs)], { encoding: 'utf8' });
    if (r.status !== 0) return { name: 'NumPy sum', unit: 'GB/s', samples: [], note: 'python3 with NumPy not available' };
    const { first, steady, meanStd } = JSON.parse(r.stdout);
    return {
      name: 'NumPy sum (first pass / steady)', unit: 'GB/s',
      samples: first.map((t) => ctx.bytes / t / 1e9), steady: steady.map((t) => ctx.bytes / t / 1e9),
      meanStd: meanStd.map((t) => ctx.bytes / t / 1e9),
    };
  },
};

module.exports = { scenarios, timeRuns, evict, warmCache };
