'use strict';
// The benchmark scenarios, shared by `mmbench` (the CLI users run) and BENCHMARKS.md.
//
// A scenario is `async (ctx) => Row[]`. A row is one measured figure:
//   { id, name, unit: 'GB/s' | 's' | 'elem/s', samples: number[], baseline?: kind,
//     compare?: string[], note?: string, rss?: { anon, file } | null, extra?: object, error?: string }
// `samples` are per run (GB = 10^9 bytes); `compare` names the ids of the baseline rows this
// row is compared with (the harness computes the ratios of the medians when they ran);
// `baseline` marks a baseline row and says which kind it is ('fs.readSync', 'fs.readFile',
// 'numpy', 'ceiling' or 'other'). `rss` is the peak RssAnon / RssFile (bytes) of the process
// that did the work while the row was measured (null where /proc/self/status does not exist).
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
const { spawn, spawnSync } = require('node:child_process');
const { Worker } = require('node:worker_threads');
const mm = require('..');

const MiB = 2 ** 20;
const CHILD = path.join(__dirname, 'sum-child.js');

function now() {
  return Number(process.hrtime.bigint()) / 1e9;
}

const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));

/** RssAnon and RssFile of this process in bytes, or null off Linux. */
/** A `/proc/self/status` field in bytes (NaN when absent). */
function statusBytes(status, key) {
  const m = new RegExp(`^${key}:\\s+(\\d+)\\s*kB`, 'm').exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Growth of the peak RSS (VmHWM, reset through /proc/self/clear_refs) while `f` runs; null where Linux's counters are missing. */
function peakGrowth(f) {
  if (process.platform !== 'linux') return null;
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
    const before = statusBytes(fs.readFileSync('/proc/self/status', 'utf8'), 'VmRSS');
    f();
    const grew = statusBytes(fs.readFileSync('/proc/self/status', 'utf8'), 'VmHWM') - before;
    return Number.isFinite(grew) ? grew : null;
  } catch {
    return null;
  }
}

function readRss() {
  if (process.platform !== 'linux') return null;
  try {
    const st = fs.readFileSync('/proc/self/status', 'utf8');
    const r = { anon: statusBytes(st, 'RssAnon'), file: statusBytes(st, 'RssFile') };
    return Number.isFinite(r.anon) && Number.isFinite(r.file) ? r : null;
  } catch {
    return null;
  }
}

/** The running peak of RssAnon and RssFile (each its own maximum) while a row is measured. */
const rss = {
  peak: null,
  reset() {
    this.peak = readRss();
  },
  sample(r = readRss()) {
    if (!r) return;
    if (!this.peak) this.peak = { ...r };
    else {
      this.peak.anon = Math.max(this.peak.anon, r.anon);
      this.peak.file = Math.max(this.peak.file, r.file);
    }
  },
  take() {
    return this.peak ? { ...this.peak } : null;
  },
};

/**
 * Runs `fn` `warmup` times unmeasured, then `runs` times measured; yields to the event loop
 * between runs (so Ctrl-C is handled within one run) and samples RSS after each. `fn` may be
 * async and may return `{ seconds }` to time only part of its work itself. `before(i)`, if given,
 * runs untimed before each measured run. The memory profile (`memit`) is of the first call (the
 * warm-up when there is one): its sampler is a native thread waking every millisecond, which on a
 * 2-core machine took 2-6% from the kernels beside it and far more from microsecond calls, so
 * the timed runs go without it (NumPy's figures never had one).
 */
async function measure(ctx, label, fn, { runs = ctx.runs, warmup = 1, before = null } = {}) {
  rss.reset();
  const seconds = [];
  let profile = null;
  for (let i = -warmup; i < runs; i++) {
    ctx.progress(`${label} ${i < 0 ? 'warm-up' : `${i + 1}/${runs}`}`);
    if (before && i >= 0) {
      const b = before(i);
      if (b && typeof b.then === 'function') await b;
    }
    const call = async () => {
      const t0 = now();
      let r = fn(i);
      if (r && typeof r.then === 'function') r = await r;
      return r && typeof r === 'object' && typeof r.seconds === 'number' ? r.seconds : now() - t0;
    };
    let t;
    if (profile === null) {
      profile = await mm.memitAsync(call);
      t = profile.result;
    } else {
      t = await call();
    }
    rss.sample();
    if (i >= 0) seconds.push(t);
    await yieldToLoop();
  }
  return { seconds, rss: rss.take(), memit: profile === null ? null : memitOf(profile) };
}

/** The fields of a `memit` result a row reports (bytes): the peak during the profiled call, its increment, and its split by kind. */
function memitOf(m) {
  return { peak: m.peak, increment: m.increment, anon: m.anon, file: m.file, shmem: m.shmem };
}

/**
 * The memory of `Parallel` workers summing an eighth and then the whole data file, each on a
 * fresh pool over a fresh mapping (so every page read is new to the mapping): the anonymous
 * memory the pass added does not grow with the data, the file pages do. Threads share this
 * process: `memit` around the call measures them together. Worker processes measure their own
 * sum with `memit` and report their RssAnon after it; the figures are summed over workers.
 */
async function parallelMemory(ctx, backend, work, halves) {
  const out = {};
  for (const [label, part] of [['Eighth', 8], ['Whole', 1]]) {
    ctx.progress(`parallel ${backend} memory: ${label.toLowerCase()}`);
    const { a, flat } = openFlat(ctx.file);
    const pool = new mm.Parallel({ nJobs: 2, backend });
    try {
      const m = Math.floor(flat.size / part);
      // Both workers started first: their isolates' heaps are not the pass's.
      await pool.map(work, 'noop', [[], []]);
      if (backend === 'threads') {
        const r = await mm.memitAsync(() => pool.map(work, 'rangeSum', halves(flat, m)));
        out[`anonGrowth${label}`] = r.anon;
        out[`fileGrowth${label}`] = r.file;
        out[`anonSum${label}`] = r.result[0].memory.anon;
        out[`perWorker${label}`] = r.result.map((p) => ({ anon: p.memory.anon, file: p.memory.file }));
      } else {
        const parts = await pool.map(work, 'rangeSumMemit', halves(flat, m));
        out[`anonGrowth${label}`] = parts.reduce((x, p) => x + p.memit.anon, 0);
        out[`fileGrowth${label}`] = parts.reduce((x, p) => x + p.memit.file, 0);
        out[`anonSum${label}`] = parts.reduce((x, p) => x + p.memory.anon, 0);
        out[`perWorker${label}`] = parts.map((p) => ({ pid: p.pid, anon: p.memory.anon, file: p.memory.file, memit: p.memit }));
      }
    } finally {
      await pool.close();
      a.close();
    }
  }
  return out;
}

const gbps = (bytes, seconds) => seconds.map((t) => bytes / t / 1e9);
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const h = Math.floor(s.length / 2);
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Maps the data file; `flat` is a 1-D view of all elements in memory order (C or Fortran files). */
function openFlat(file, mode = 'r') {
  const a = mm.loadNpy(file, { mmapMode: mode });
  let flat = a;
  if (a.ndim !== 1) flat = a.flags.cContiguous ? a.reshape(-1) : a.T.reshape(-1);
  return { a, flat };
}

/** Sums a 1-D view block by block through zero-copy `data`, in JavaScript. */
function sumChunks(a) {
  let s = 0;
  for (const c of a.chunks({ bytes: 64 * MiB })) {
    const d = c.data;
    for (let i = 0; i < d.length; i++) s += d[i];
  }
  return s;
}

/** Reads a file once so its pages are in the page cache. */
function warmCache(file) {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(16 * MiB);
  while (fs.readSync(fd, buf, 0, buf.length, null) > 0);
  fs.closeSync(fd);
}

/** sha256 of a file, read in 16 MiB blocks. */
function hashFile(file) {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(16 * MiB);
  let n;
  while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) h.update(buf.subarray(0, n));
  fs.closeSync(fd);
  return h.digest('hex');
}

const EVICT = 'import os,sys\nfd=os.open(sys.argv[1], os.O_RDONLY)\nos.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)';

/** Evicts a file's pages from the page cache (posix_fadvise DONTNEED via python3); resolves to null or why not. */
async function evict(ctx, file) {
  const r = await ctx.run(ctx.python, ['-c', EVICT, file]);
  if (r.status === 0) return null;
  if (r.error) return `${ctx.python} not available (${r.error.code ?? r.error.message})`;
  return `posix_fadvise failed: ${r.stderr.trim().split('\n').pop()}`;
}

/** A /proc/meminfo field in bytes (`Cached`, `MemAvailable`), or null off Linux. */
function meminfo(field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s*kB`, 'm').exec(fs.readFileSync('/proc/meminfo', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

function ioReadBytes() {
  try {
    const m = /^read_bytes:\s+(\d+)/m.exec(fs.readFileSync('/proc/self/io', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

function onHypervisor() {
  try {
    return /^flags\s*:.*\bhypervisor\b/m.test(fs.readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

/** Runs a python snippet that prints one JSON line; resolves to the value or `{ error }`. */
async function python(ctx, code, args) {
  if (!ctx.numpy) return { error: 'skipped (--no-numpy)' };
  const r = await ctx.run(ctx.python, ['-c', `import sys, time, json\nimport numpy as np\n${code}`, ...args.map(String)]);
  if (r.error) return { error: `${ctx.python} not available` };
  if (r.status !== 0) {
    if (/No module named .?numpy/.test(r.stderr)) return { error: `NumPy not installed for ${ctx.python}` };
    return { error: `NumPy run failed: ${r.stderr.trim().split('\n').pop()}` };
  }
  try {
    return JSON.parse(r.stdout.trim().split('\n').pop());
  } catch {
    return { error: 'NumPy run printed no result' };
  }
}

const PY_TIMER = `
runs = int(sys.argv[2])
def t(fn, warm=1, n=None, own=False):
    # own: fn returns the seconds of the part it times itself
    for _ in range(warm): fn()
    out = []
    for _ in range(n or runs):
        s = time.perf_counter(); r = fn(); e = time.perf_counter() - s
        out.append(float(r) if own else e)
    return out
`;

/**
 * A python3 child that keeps `joblib.Parallel(n_jobs=2)` open over `np.load(file, mmap_mode='r')`
 * and sums the two halves each time `pass()` is called (timed in Python), so that its passes
 * interleave with mmnpy's in the same run: on a shared machine the load changes by the second,
 * and passes measured minutes apart do not compare.
 */
function joblibHalves(ctx) {
  if (!ctx.numpy) return { error: 'skipped (--no-numpy)' };
  const code = `import sys, time, json
import numpy as np
from joblib import Parallel, delayed, __version__ as jv
a = np.load(sys.argv[1], mmap_mode='r').reshape(-1, order='A')
n = a.shape[0]
def part(a, s, e):
    return float(a[s:e].sum())
with Parallel(n_jobs=2) as p:
    run = lambda: p(delayed(part)(a, s, e) for s, e in ((0, n // 2), (n // 2, n)))
    run()
    print(json.dumps({'version': jv}), flush=True)
    for line in sys.stdin:
        s = time.perf_counter(); run(); e = time.perf_counter() - s
        print(json.dumps({'secs': e}), flush=True)
`;
  const child = spawn(ctx.python, ['-c', code, ctx.file], { stdio: ['pipe', 'pipe', 'pipe'] });
  let buf = '';
  let stderr = '';
  const waiting = [];
  const fail = (why) => {
    for (const w of waiting.splice(0)) w.reject(new Error(why));
  };
  child.stdout.on('data', (d) => {
    buf += d;
    let k;
    while ((k = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, k);
      buf = buf.slice(k + 1);
      const w = waiting.shift();
      try {
        w?.resolve(JSON.parse(line));
      } catch {
        w?.reject(new Error(`joblib child printed ${line}`));
      }
    }
  });
  child.stderr.on('data', (d) => (stderr += d));
  child.on('error', (e) => fail(`${ctx.python} not available (${e.code ?? e.message})`));
  child.on('exit', () => fail(/No module named .?(numpy|joblib)/.test(stderr) ? `NumPy/joblib not installed for ${ctx.python}` : `joblib child failed: ${stderr.trim().split('\n').pop()}`));
  const next = () => new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  const ready = next();
  return {
    ready,
    /** One timed pass (seconds). */
    pass: () => {
      const r = next();
      child.stdin.write('go\n');
      return r.then((x) => x.secs);
    },
    close: () => {
      child.stdin.end();
      return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', resolve)));
    },
  };
}

/** A row that did not run, with the reason. */
const skipped = (id, name, unit, note) => ({ id, name, unit, samples: [], note, rss: null });

/** Full passes over the file compare with these baselines. */
const PASS = ['fs.readSync', 'fs.readFile', 'ceiling.read'];

const scenarios = {
  /** The machine's ceiling: all kernel threads reading the data file's mapping, faulted in; one thread copying memory (native probe). */
  async ceiling(ctx) {
    const binding = require('../binding.js');
    const size = 256 * MiB; // well beyond the CPU caches, whatever the data set's size
    const read = [];
    const memcpy = [];
    let threads = 0;
    const m = await measure(ctx, 'ceiling', () => {
      const c = binding.machineCeiling(size, 3, ctx.file);
      read.push(c.read / 1e9);
      memcpy.push(c.memcpy / 1e9);
      threads = c.threads;
    }, { warmup: 0 });
    const note = `native probe: read = the data file's own mapping, faulted in; memcpy = ${(size / MiB).toFixed(0)} MiB of memory`;
    return [
      { id: 'ceiling.read', name: `ceiling: native read, ${threads} threads`, unit: 'GB/s', samples: read, baseline: 'ceiling', rss: m.rss, memit: m.memit, note, extra: { threads, bytes: size } },
      { id: 'ceiling.memcpy', name: 'ceiling: native memcpy, 1 thread', unit: 'GB/s', samples: memcpy, baseline: 'other', rss: m.rss, memit: m.memit, note },
    ];
  },

  /** Time to map a file and parse its header. */
  async open(ctx) {
    const m = await measure(ctx, 'open', () => mm.loadNpy(ctx.file, { mmapMode: 'r' }).close(), { runs: ctx.runs * 20, warmup: 5 });
    return [{ id: 'open', name: "open: loadNpy(p, 'r') + close()", unit: 's', samples: m.seconds, compare: ['numpy.open'], rss: m.rss, memit: m.memit }];
  },

  /**
   * The fixed cost of a call on a small in-memory array (1,000 float64, 8 KB), per call,
   * against the same NumPy expression: sum(), sum along an axis of the (40, 25) view,
   * add with out and into a new result, get(i) and a slice.
   */
  async small(ctx) {
    const a = mm.array(Float64Array.from({ length: 1000 }, (_, i) => i % 7));
    const m = a.reshape([40, 25]);
    const out = mm.zeros([1000]);
    let sink = 0;
    const CALLS = [
      // [id suffix, what, our call, NumPy's expression]
      ['', 'sum() of 1,000 float64 in memory', () => a.sum(), 'a.sum()'],
      ['.sumAxis0', 'sum({ axis: 0 }) of (40, 25) float64', () => m.sum({ axis: 0 }), 'm.sum(axis=0)'],
      ['.addOut', 'add(b, { out }) of 1,000 float64', () => a.add(a, { out }), 'np.add(a, a, out=out)'],
      ['.add', 'add(b) of 1,000 float64 (a new result)', () => a.add(a), 'a + a'],
      ['.get', 'get(i) of 1,000 float64', () => { sink += a.get(sink & 511); }, 'a[5]'],
      ['.slice', 'slice([10, 20]) of 1,000 float64', () => a.slice([10, 20]), 'a[10:20]'],
    ];
    const calls = 2000;
    const WARM_CALLS = 20000;
    const held = { v: null };
    const rows = [];
    const np = await python(ctx, `${PY_TIMER}
a = np.arange(1000, dtype=np.float64) % 7; m = a.reshape(40, 25); out = np.zeros(1000)
def per(f):
    # Samples of at least 20 ms, as ours below.
    s = time.perf_counter()
    for _ in range(${calls}): f()
    n = min(2000000, max(${calls}, int(${calls} * 0.02 / max(time.perf_counter() - s, 1e-9)) + 1))
    def run():
        s = time.perf_counter()
        for _ in range(n): f()
        return (time.perf_counter() - s) / n
    return run
fs = [${CALLS.map((c) => `lambda: ${c[3]}`).join(', ')}]
print(json.dumps({'small': [t(per(f), own=True) for f in fs]}))`, ['-', ctx.runs]);
    for (const [k, [suffix, what, f]] of CALLS.entries()) {
      // Each row's loop is a function of its own, so its call site sees one operation, as a
      // user's loop over one call does: one loop calling the six closures went megamorphic,
      // V8 then inlined none of them, and the same slice() measured 0.1 µs in one run and
      // 0.3 µs in the next. V8 compiles a loop with its optimizing tier after some thousands
      // of calls: the rows are the steady per-call cost of a loop of small calls, as NumPy's are.
      // Every result is stored where the loop cannot see it die (`held.v`), so no allocation
      // of an inlined call is optimized away.
      const loop = new Function('f', 'n', 'held', 'for (let i = 0; i < n; i++) held.v = f();');
      loop(f, WARM_CALLS, held);
      // Samples of at least 20 ms: 2,000 calls of 0.1 µs are 0.2 ms, and one young-generation
      // collection (about 0.5 ms) landing in a sample or not tripled it (slice() measured 0.1,
      // 0.1 and 0.4 µs in three runs). Longer samples spread the collections' cost evenly
      // over the calls that caused them, which is the cost a loop of calls pays.
      const t1 = now();
      loop(f, calls, held);
      const n = Math.min(2e6, Math.max(calls, Math.ceil((calls * 0.02) / Math.max(now() - t1, 1e-9))));
      const ours = await measure(ctx, `small${suffix}`, () => {
        const t0 = now();
        loop(f, n, held);
        return { seconds: (now() - t0) / n };
      });
      const npId = `numpy.small${suffix}`;
      rows.push({ id: `small${suffix}`, name: `${what}, per call`, unit: 's', samples: ours.seconds, compare: [npId], rss: ours.rss, memit: ours.memit });
      rows.push(np.error ? skipped(npId, `NumPy: ${CALLS[k][3]}, per call`, 's', np.error)
        : { id: npId, name: `NumPy: ${CALLS[k][3]}, per call`, unit: 's', samples: np.small[k], baseline: 'numpy', rss: null });
    }
    rows[0].extra = { sink: Number.isFinite(sink) };
    return rows;
  },

  /** `get(i)` over a 1-D view against a plain TypedArray loop over the same memory. */
  async get(ctx) {
    const { a, flat } = openFlat(ctx.file);
    const n = Math.min(flat.size, 2 ** 23);
    const v = flat.slice([0, n]);
    const ta = v.data;
    let sink = 0;
    const typed = await measure(ctx, 'get: TypedArray', () => { let s = 0; for (let i = 0; i < n; i++) s += ta[i]; sink += s; });
    const got = await measure(ctx, 'get', () => { let s = 0; for (let i = 0; i < n; i++) s += v.get(i); sink += s; });
    a.close();
    return [
      { id: 'get', name: 'get(i) loop over a 1-D view', unit: 'elem/s', samples: got.seconds.map((t) => n / t), compare: ['get.typed'], rss: got.rss, memit: got.memit, note: `${n} elements`, extra: { elements: n, sink: Number.isFinite(sink) } },
      { id: 'get.typed', name: 'TypedArray loop, same memory', unit: 'elem/s', samples: typed.seconds.map((t) => n / t), baseline: 'other', rss: typed.rss, memit: typed.memit },
    ];
  },

  /** A full JS pass over a fresh mapping of a file already in the page cache, against reading it with fs. */
  async firstPass(ctx) {
    warmCache(ctx.file);
    const ours = await measure(ctx, 'first pass', () => {
      const { a, flat } = openFlat(ctx.file);
      sumChunks(flat);
      rss.sample();
      a.close();
    }, { warmup: 0 });
    const Arr = ctx.dtype === 'float32' ? Float32Array : Float64Array;
    const start = ctx.dataOffset;
    const readSync = await measure(ctx, 'fs.readSync', () => {
      const fd = fs.openSync(ctx.file, 'r');
      const buf = Buffer.allocUnsafe(64 * MiB);
      const f = new Arr(buf.buffer, buf.byteOffset, buf.length / Arr.BYTES_PER_ELEMENT);
      let pos = start;
      let n;
      let s = 0;
      while ((n = fs.readSync(fd, buf, 0, buf.length, pos)) > 0) {
        pos += n;
        const k = Math.floor(n / Arr.BYTES_PER_ELEMENT);
        for (let i = 0; i < k; i++) s += f[i];
      }
      fs.closeSync(fd);
      return s;
    }, { warmup: 0 });
    ctx.gc();
    const rows = [
      { id: 'firstPass', name: 'first pass, fresh mapping (JS loop)', unit: 'GB/s', samples: gbps(ctx.bytes, ours.seconds), compare: PASS, rss: ours.rss, memit: ours.memit },
      { id: 'fs.readSync', name: 'fs.readSync 64 MiB + JS loop', unit: 'GB/s', samples: gbps(ctx.bytes, readSync.seconds), baseline: 'fs.readSync', rss: readSync.rss, memit: readSync.memit },
    ];
    const fileSize = fs.statSync(ctx.file).size;
    if (fileSize >= 2 ** 31) {
      rows.push(skipped('fs.readFile', 'fs.readFileSync + JS loop', 'GB/s', 'skipped: the file is 2 GiB or larger (readFileSync limit)'));
    } else {
      const readFile = await measure(ctx, 'fs.readFileSync', () => {
        const t0 = now();
        let buf = fs.readFileSync(ctx.file);
        const f = new Arr(buf.buffer, buf.byteOffset + start, Math.floor((buf.length - start) / Arr.BYTES_PER_ELEMENT));
        let s = 0;
        for (let i = 0; i < f.length; i++) s += f[i];
        const seconds = now() - t0;
        rss.sample();
        buf = null;
        ctx.gc(); // so that the next run's buffer does not add to this one's in the RSS figure
        return { seconds, s };
      }, { warmup: 0 });
      ctx.gc();
      rows.push({ id: 'fs.readFile', name: 'fs.readFileSync + JS loop', unit: 'GB/s', samples: gbps(ctx.bytes, readFile.seconds), baseline: 'fs.readFile', rss: readFile.rss, memit: readFile.memit });
    }
    return rows;
  },

  /** Repeated JS passes over one mapping whose pages are already mapped. */
  async steady(ctx) {
    const { a, flat } = openFlat(ctx.file);
    const m = await measure(ctx, 'steady', () => sumChunks(flat));
    a.close();
    return [{ id: 'steady', name: 'steady state, one mapping (JS loop)', unit: 'GB/s', samples: gbps(ctx.bytes, m.seconds), compare: PASS, rss: m.rss, memit: m.memit }];
  },

  /** Rust `sum()` over a fresh mapping each run (file in page cache), then over one mapping (steady). */
  async sum(ctx) {
    warmCache(ctx.file);
    const first = await measure(ctx, 'sum first pass', () => {
      const a = mm.loadNpy(ctx.file, { mmapMode: 'r' });
      a.sum();
      rss.sample();
      a.close();
    }, { warmup: 0 });
    const a = mm.loadNpy(ctx.file, { mmapMode: 'r' });
    // This VM's memory speed drifts by tens of percent within a minute: the ceiling is also
    // measured right before each steady run, over the same file, and the steady row compares with it.
    const binding = require('../binding.js');
    const probe = [];
    const steady = await measure(ctx, 'sum steady', () => a.sum(), { before: () => probe.push(binding.machineCeiling(1 << 20, 1, ctx.file).read / 1e9) });
    a.close();
    return [
      { id: 'sum.first', name: 'sum(), fresh mapping', unit: 'GB/s', samples: gbps(ctx.bytes, first.seconds), compare: [...PASS, 'numpy.first'], rss: first.rss, memit: first.memit },
      { id: 'sum.steady', name: 'sum(), steady state', unit: 'GB/s', samples: gbps(ctx.bytes, steady.seconds), compare: ['fs.readSync', 'fs.readFile', 'sum.ceiling', 'numpy.steady', 'ceiling.read'], rss: steady.rss, memit: steady.memit },
      { id: 'sum.ceiling', name: 'ceiling: native read, before each steady run', unit: 'GB/s', samples: probe, baseline: 'ceiling', rss: null, note: 'the ceiling probe over the data file, run right before each steady sum()' },
    ];
  },

  /** `mean()` and `std()` together on one mapping: std given the mean (two passes), and std on its own (three). */
  async meanStd(ctx) {
    const a = mm.loadNpy(ctx.file, { mmapMode: 'r' });
    const given = await measure(ctx, 'mean+std', () => { a.std({ mean: a.mean() }); });
    const plain = await measure(ctx, 'mean+std', () => { a.mean(); a.std(); });
    a.close();
    return [
      { id: 'meanStd', name: 'mean() + std({ mean })', unit: 'GB/s', samples: gbps(ctx.bytes, given.seconds), compare: ['numpy.meanStd', 'numpy.meanStdGiven', 'ceiling.read'], rss: given.rss, memit: given.memit },
      { id: 'meanStd.plain', name: 'mean() + std()', unit: 'GB/s', samples: gbps(ctx.bytes, plain.seconds), compare: ['numpy.meanStd', 'ceiling.read'], rss: plain.rss, memit: plain.memit },
    ];
  },

  /** Copy-on-write normalization in place: the mapping changes, the file must not (checked by its hash). */
  async cow(ctx) {
    const name = "copy-on-write normalize ('c')";
    const avail = meminfo('MemAvailable');
    if (avail !== null && ctx.bytes > avail * 0.6) {
      return [skipped('cow', name, 'GB/s', `skipped: needs ${(ctx.bytes / MiB).toFixed(0)} MiB of private memory, ${(avail / MiB).toFixed(0)} MiB available`)];
    }
    ctx.progress('cow: hashing the file');
    const before = hashFile(ctx.file);
    let check = null;
    const m = await measure(ctx, 'cow normalize', () => {
      const a = mm.loadNpy(ctx.file, { mmapMode: 'c' });
      const t0 = now();
      a.sub(a.mean(), { out: a });
      a.div(a.std(), { out: a });
      const seconds = now() - t0;
      rss.sample();
      if (!check) check = { mean: Number(a.mean()), std: Number(a.std()) };
      a.close();
      return { seconds };
    });
    ctx.gc();
    ctx.progress('cow: hashing the file');
    const after = hashFile(ctx.file);
    const tol = ctx.dtype === 'float32' ? 1e-3 : 1e-9;
    const okValues = check && Math.abs(check.mean) < tol && Math.abs(check.std - 1) < tol;
    const rows = [{
      id: 'cow', name, unit: 'GB/s', samples: gbps(ctx.bytes, m.seconds), compare: ['cow.numpy', 'ceiling.memcpy'], rss: m.rss, memit: m.memit,
      note: 'a.sub(a.mean(), { out: a }); a.div(a.std(), { out: a }); ' + (before === after ? 'file unchanged (sha256 verified)' : 'FILE CHANGED: copy-on-write leaked into the file')
        + (okValues ? '' : `; result not normalized (mean ${check?.mean}, std ${check?.std})`),
      extra: { sha256: after, unchanged: before === after, mean: check?.mean ?? null, std: check?.std ?? null },
    }];
    if (before !== after || !okValues) rows[0].error = rows[0].note;
    const np = await python(ctx, `${PY_TIMER}
def run():
    a = np.load(sys.argv[1], mmap_mode='c'); s = time.perf_counter()
    a -= a.mean(); a /= a.std()
    return float(time.perf_counter() - s)
print(json.dumps({'cow': t(run, own=True)}))`, [ctx.file, ctx.runs]);
    rows.push(np.error
      ? skipped('cow.numpy', "NumPy: 'c', a -= a.mean(); a /= a.std()", 'GB/s', np.error)
      : { id: 'cow.numpy', name: "NumPy: 'c', a -= a.mean(); a /= a.std()", unit: 'GB/s', samples: gbps(ctx.bytes, np.cow), baseline: 'numpy', rss: null });
    return rows;
  },

  /** Strided column access of a C-order matrix view of the data: `m.slice(null, j).sum()` and `toTypedArray()`. */
  async column(ctx) {
    const { a, flat } = openFlat(ctx.file);
    let cols = a.ndim === 2 && a.flags.cContiguous ? a.shape[1] : 1024;
    if (flat.size < cols * 2) cols = Math.max(1, Math.floor(flat.size / 2));
    const rows = Math.floor(flat.size / cols);
    const m = a.ndim === 2 && a.flags.cContiguous ? a : flat.slice([0, rows * cols]).reshape(rows, cols);
    const per = 8;
    const pick = (r) => Array.from({ length: per }, (_, q) => ((r + 1) * per + q) * 131 % cols);
    m.sum(); // map every page first: the figures are for strided access, not page faults
    const sums = await measure(ctx, 'column sum', (i) => { for (const j of pick(i)) m.slice(null, j).sum(); });
    const copies = await measure(ctx, 'column copy', (i) => { for (const j of pick(i)) m.slice(null, j).toTypedArray(); });
    a.close();
    const elems = (s) => s.map((t) => (per * rows) / t);
    const shape = `${rows}x${cols} ${ctx.dtype} matrix view, C order, column stride ${cols * ctx.itemsize} B; ${per} columns per run`;
    const out = [
      { id: 'column.sum', name: 'column: m.slice(null, j).sum()', unit: 'elem/s', samples: elems(sums.seconds), compare: ['column.numpy.sum'], rss: sums.rss, memit: sums.memit, note: shape },
      { id: 'column.copy', name: 'column: m.slice(null, j).toTypedArray()', unit: 'elem/s', samples: elems(copies.seconds), compare: ['column.numpy.copy'], rss: copies.rss, memit: copies.memit },
    ];
    const picks = Array.from({ length: ctx.runs + 1 }, (_, i) => pick(i - 1));
    const np = await python(ctx, `${PY_TIMER}
rows, cols, picks = int(sys.argv[3]), int(sys.argv[4]), json.loads(sys.argv[5])
m = np.load(sys.argv[1], mmap_mode='r').ravel(order='K')[:rows * cols].reshape(rows, cols)
m.sum()
it = iter(picks)
def sums():
    for j in next(it): m[:, j].sum()
def copies():
    for j in next(it): np.ascontiguousarray(m[:, j])
s = t(sums); it = iter(picks); c = t(copies)
print(json.dumps({'sum': s, 'copy': c}))`, [ctx.file, ctx.runs, rows, cols, JSON.stringify(picks)]);
    if (np.error) {
      out.push(skipped('column.numpy.sum', 'NumPy: m[:, j].sum()', 'elem/s', np.error), skipped('column.numpy.copy', 'NumPy: ascontiguousarray(m[:, j])', 'elem/s', np.error));
    } else {
      out.push(
        { id: 'column.numpy.sum', name: 'NumPy: m[:, j].sum()', unit: 'elem/s', samples: elems(np.sum), baseline: 'numpy', rss: null },
        { id: 'column.numpy.copy', name: 'NumPy: ascontiguousarray(m[:, j])', unit: 'elem/s', samples: elems(np.copy), baseline: 'numpy', rss: null },
      );
    }
    return out;
  },

  /** `min`+`max`, `sum(axis=0)` and matrix·vector `dot` of a float32 matrix, against NumPy in the same run. */
  async matrix(ctx) {
    const ids = ['minmax', 'sum0', 'matvec'];
    const label = { minmax: 'min() + max()', sum0: 'sum({ axis: 0 })', matvec: 'dot(vector)' };
    if (!ctx.scratch) return ids.map((k) => skipped(`matrix.${k}`, `f32 matrix ${label[k]}`, 'GB/s', 'skipped with --file (needs a scratch file)'));
    const file = path.join(ctx.scratch, 'matrix.npy');
    const cols = 16384;
    const rows = Math.max(1, Math.min(8192, Math.floor(ctx.bytes / 2 / (cols * 4))));
    ctx.progress('matrix: writing');
    const w = mm.openNpy(file, { mode: 'w+', dtype: 'float32', shape: [rows, cols] });
    for (const c of w.chunks({ bytes: 64 * MiB })) c.fill(0.25);
    w.set(rows - 1, cols - 1, 2);
    w.flush();
    w.close();
    const bytes = rows * cols * 4;
    const a = mm.loadNpy(file, { mmapMode: 'r' });
    const v = mm.array(new Float32Array(cols).fill(1));
    const ours = {
      minmax: await measure(ctx, 'matrix min+max', () => { a.min(); a.max(); }),
      sum0: await measure(ctx, 'matrix sum axis 0', () => a.sum({ axis: 0 })),
      matvec: await measure(ctx, 'matrix dot', () => a.dot(v)),
    };
    a.close();
    const np = await python(ctx, `${PY_TIMER}
a = np.load(sys.argv[1], mmap_mode='r'); v = np.ones(a.shape[1], dtype=np.float32)
print(json.dumps({'minmax': t(lambda: (a.min(), a.max())), 'sum0': t(lambda: a.sum(axis=0)), 'matvec': t(lambda: a.dot(v))}))`, [file, ctx.runs]);
    fs.rmSync(file, { force: true });
    const passes = (k) => (k === 'minmax' ? 2 : 1) * bytes;
    const out = [];
    for (const k of ids) {
      out.push({ id: `matrix.${k}`, name: `f32 matrix ${label[k]}`, unit: 'GB/s', samples: gbps(passes(k), ours[k].seconds), compare: [`matrix.numpy.${k}`], rss: ours[k].rss, note: k === 'minmax' ? `${rows}x${cols} float32 file` : null });
    }
    for (const k of ids) {
      out.push(np.error ? skipped(`matrix.numpy.${k}`, `NumPy: f32 matrix ${label[k]}`, 'GB/s', np.error)
        : { id: `matrix.numpy.${k}`, name: `NumPy: f32 matrix ${label[k]}`, unit: 'GB/s', samples: gbps(passes(k), np[k]), baseline: 'numpy', rss: null });
    }
    return out;
  },

  /**
   * `dot`: matrix·vector of the data file as a (rows, 16384) matrix, float64 and a float32
   * copy (memory-bound: GB/s of the matrix, against NumPy with its BLAS and the ceiling), and
   * matrix·matrix of two 1024x1024 in-memory arrays (GFLOP/s, 2n³ flops), against NumPy's BLAS
   * on its own threads.
   */
  async dot(ctx) {
    const ids = ['f64.matvec', 'f32.matvec', 'f64.matmat', 'f32.matmat'];
    if (!ctx.scratch) return ids.map((k) => skipped(`dot.${k}`, `dot ${k}`, k.endsWith('matvec') ? 'GB/s' : 'GFLOP/s', 'skipped with --file (needs a scratch file)'));
    const f32 = path.join(ctx.scratch, 'dot-float32.npy');
    const out = [];
    try {
      {
        const { a, flat } = openFlat(ctx.file);
        const w = mm.openNpy(f32, { mode: 'w+', dtype: 'float32', shape: [a.size] });
        flat.astype('float32', { out: w });
        w.close();
        a.close();
      }
      const N = 1024;
      for (const [dt, file] of [['f64', ctx.file], ['f32', f32]]) {
        const dtype = dt === 'f64' ? 'float64' : 'float32';
        const { a, flat } = openFlat(file);
        let cols = Math.min(16384, a.size);
        while (a.size % cols) cols--;
        const m = flat.reshape([a.size / cols, cols]);
        const v = mm.array(Float64Array.from({ length: cols }, (_, i) => 1 + (i % 3))).astype(dtype);
        ctx.progress(`dot: ${dtype} matrix·vector`);
        const mv = await measure(ctx, `dot ${dtype} matvec`, () => m.dot(v));
        const rnd = (seed) => mm.array(Float64Array.from({ length: N * N }, (_, i) => ((i * 2654435761 + seed) % 1000) / 1000)).astype(dtype).reshape([N, N]);
        const [x, y] = [rnd(1), rnd(7)];
        ctx.progress(`dot: ${dtype} matrix·matrix`);
        const mmul = await measure(ctx, `dot ${dtype} matmat`, () => x.dot(y));
        a.close();
        const np = await python(ctx, `${PY_TIMER}
a = np.load(sys.argv[1], mmap_mode='r'); m = a.reshape(-1, int(sys.argv[3])); v = (1 + np.arange(m.shape[1]) % 3).astype(m.dtype)
n = ${N}; i = np.arange(n * n, dtype=np.int64)
x = (((i * 2654435761 + 1) % 1000) / 1000).astype(m.dtype).reshape(n, n); y = (((i * 2654435761 + 7) % 1000) / 1000).astype(m.dtype).reshape(n, n)
print(json.dumps({'matvec': t(lambda: m.dot(v)), 'matmat': t(lambda: x.dot(y))}))`, [file, ctx.runs, cols]);
        const flops = 2 * N ** 3;
        const shape = `${a.size / cols}x${cols}`;
        out.push(
          { id: `dot.${dt}.matvec`, name: `${dtype} matrix ${shape} dot(vector), all cores`, unit: 'GB/s', samples: gbps(a.nbytes, mv.seconds), compare: [`dot.numpy.${dt}.matvec`, 'ceiling.read'], rss: mv.rss, note: 'mapped file, page cache warm' },
          { id: `dot.${dt}.matmat`, name: `${dtype} ${N}x${N} dot(${N}x${N}), all cores`, unit: 'GFLOP/s', samples: mmul.seconds.map((t) => flops / t / 1e9), compare: [`dot.numpy.${dt}.matmat`], rss: mmul.rss, note: 'in memory (matrixmultiply)' },
        );
        for (const k of ['matvec', 'matmat']) {
          const id = `dot.numpy.${dt}.${k}`;
          const name = k === 'matvec' ? `NumPy: ${dtype} matrix ${shape} dot(vector) (BLAS threads)` : `NumPy: ${dtype} ${N}x${N} dot(${N}x${N}) (BLAS threads)`;
          const unit = k === 'matvec' ? 'GB/s' : 'GFLOP/s';
          out.push(np.error ? skipped(id, name, unit, np.error)
            : { id, name, unit, samples: k === 'matvec' ? gbps(a.nbytes, np.matvec) : np.matmat.map((t) => flops / t / 1e9), baseline: 'numpy', rss: null });
        }
      }
    } finally {
      fs.rmSync(f32, { force: true });
    }
    return out;
  },

  /** A full pass in blocks with `chunks({ release: true })`: peak RSS against the data size. */
  async budget(ctx) {
    let worst = NaN;
    const m = await measure(ctx, 'budget', () => {
      const { a, flat } = openFlat(ctx.file);
      const start = readRss();
      for (const c of flat.chunks({ bytes: 32 * MiB, release: true })) {
        c.sum();
        const r = readRss();
        rss.sample(r);
        if (r && start) worst = Math.max(Number.isFinite(worst) ? worst : 0, r.anon + r.file - start.anon - start.file);
      }
      a.close();
    }, { warmup: 0 });
    // The reductions' own streaming mode: one sum() over a fresh mapping; the peak from VmHWM, reset first.
    let peak = NaN;
    const streamed = await measure(ctx, 'budget', () => {
      const a = mm.loadNpy(ctx.file, { mmapMode: 'r' });
      const grew = peakGrowth(() => a.sum({ release: true }));
      if (grew !== null) peak = Math.max(Number.isFinite(peak) ? peak : 0, grew);
      a.close();
    }, { warmup: 0 });
    const note = (v) => (Number.isFinite(v) ? `peak RSS growth ${(v / MiB).toFixed(0)} MiB for ${(ctx.bytes / MiB).toFixed(0)} MiB of data` : 'RSS not measurable here (n/a)');
    return [{
      id: 'budget', name: 'sum() by 32 MiB blocks, release: true', unit: 'GB/s', samples: gbps(ctx.bytes, m.seconds), compare: PASS, rss: m.rss, memit: m.memit,
      note: note(worst), extra: { peakGrowth: Number.isFinite(worst) ? worst : null },
    }, {
      id: 'budget.stream', name: 'sum({ release: true }), fresh mapping', unit: 'GB/s', samples: gbps(ctx.bytes, streamed.seconds), compare: [...PASS, 'sum.first'], rss: streamed.rss, memit: streamed.memit,
      note: note(peak), extra: { peakGrowth: Number.isFinite(peak) ? peak : null },
    }];
  },

  /** Sequential write of a new file through openNpy('w+') and flush(). */
  async write(ctx) {
    const name = "write: openNpy('w+'), fill, flush()";
    if (!ctx.scratch) return [skipped('write', name, 'GB/s', 'skipped with --file (read-only)')];
    const out = path.join(ctx.scratch, 'write.npy');
    const n = ctx.bytes / ctx.itemsize;
    const m = await measure(ctx, 'write', () => {
      const a = mm.openNpy(out, { mode: 'w+', dtype: ctx.dtype, shape: [n] });
      for (const c of a.chunks({ bytes: 64 * MiB })) c.data.fill(1.5);
      a.flush();
      rss.sample();
      a.close();
    }, { warmup: 0 });
    fs.rmSync(out, { force: true });
    return [{ id: 'write', name, unit: 'GB/s', samples: gbps(ctx.bytes, m.seconds), compare: ['ceiling.memcpy'], rss: m.rss, memit: m.memit }];
  },

  /**
   * The page-cache-cold pass: pages evicted with posix_fadvise(DONTNEED) before each run. Whether
   * eviction worked is checked, not assumed: /proc/meminfo Cached must fall by the file's size, and
   * a pass much faster than the device allows (about the cached speed) means a cache below us.
   */
  async cold(ctx) {
    const name = 'cold pass: sum() after eviction';
    warmCache(ctx.file);
    const why = await evict(ctx, ctx.file);
    if (why) return [skipped('cold', name, 'GB/s', `cannot evict pages here: ${why}`)];
    const fileSize = fs.statSync(ctx.file).size;
    let dropped = 0;
    let fromDevice = 0;
    let measurable = true;
    const cold = await measure(ctx, 'cold pass', async () => {
      warmCache(ctx.file);
      const c0 = meminfo('Cached');
      await evict(ctx, ctx.file);
      const c1 = meminfo('Cached');
      const io0 = ioReadBytes();
      const t0 = now();
      const a = mm.loadNpy(ctx.file, { mmapMode: 'r' });
      a.sum();
      const seconds = now() - t0;
      rss.sample();
      a.close();
      const io1 = ioReadBytes();
      if (c0 === null || c1 === null) measurable = false;
      else dropped = Math.max(dropped, c0 - c1);
      if (io0 !== null && io1 !== null) fromDevice = Math.max(fromDevice, io1 - io0);
      return { seconds };
    }, { warmup: 0 });
    // The issue's reference: a plain sequential read() of the same file, page-cache cold.
    const plain = await measure(ctx, 'cold: plain read()', async () => {
      await evict(ctx, ctx.file);
      const t0 = now();
      warmCache(ctx.file);
      return { seconds: now() - t0 };
    }, { warmup: 0 });
    warmCache(ctx.file);
    const cached = await measure(ctx, 'cold: cached reference', () => {
      const a = mm.loadNpy(ctx.file, { mmapMode: 'r' });
      a.sum();
      a.close();
    });
    const coldS = gbps(ctx.bytes, cold.seconds);
    const cachedS = gbps(ctx.bytes, cached.seconds);
    const ratio = median(coldS) / median(cachedS);
    const mib = (b) => `${(b / MiB).toFixed(0)} MiB`;
    let effective;
    let note;
    if (measurable && dropped < fileSize * 0.5) {
      effective = false;
      note = `eviction not effective: the page cache kept the file (Cached fell by ${mib(dropped)} of ${mib(fileSize)})`;
    } else if (ratio >= 0.5) {
      effective = false;
      note = `eviction not effective on this machine (host cache): the cold pass runs at ${ratio.toFixed(2)}x the cached one`;
    } else {
      effective = true;
      note = `pages evicted (Cached -${measurable ? mib(dropped) : '? (no /proc/meminfo)'}, ${fromDevice ? `${mib(fromDevice)} read from the device` : 'device reads not measurable'})`;
      if (onHypervisor()) note += '; on a VM the device may itself be cached by the host';
    }
    note = `posix_fadvise(DONTNEED) via ${ctx.python} before each run: ${note}`;
    return [
      { id: 'cold', name, unit: 'GB/s', samples: coldS, compare: ['cold.read', 'cold.cached'], rss: cold.rss, memit: cold.memit, note, extra: { evictionEffective: effective, cachedDropped: measurable ? dropped : null, deviceReadBytes: fromDevice || null } },
      { id: 'cold.read', name: 'plain read() in 16 MiB blocks, cold', unit: 'GB/s', samples: gbps(fileSize, plain.seconds), baseline: 'other', rss: plain.rss, memit: plain.memit },
      { id: 'cold.cached', name: 'same pass, file cached', unit: 'GB/s', samples: cachedS, baseline: 'other', rss: cached.rss, memit: cached.memit },
    ];
  },

  /**
   * Everyday NumPy over the whole data file, on one kernel thread and on all cores (one child process
   * each, MMNPY_THREADS is per process), against NumPy in the same run: `w.assign(a)` (`w[...] = a`)
   * into a 'w+' file of the data's shape; `a.compress(m)` (`a[m]`) with `m` a mapped bool file, half true at random.
   */
  async everyday(ctx) {
    const OPS = [
      ['assign', "assign: w.assign(a), 'w+' file", "w[...] = a, 'w+' file", 'w[...] = a', 'everyday.npy'],
      ['compress', 'compress: a.compress(m), m a mapped random bool file', 'a[m], m a mapped random bool file', 'a[w]', 'everyday-mask.npy'],
    ];
    if (!ctx.scratch) return OPS.map(([op, what]) => skipped(`everyday.${op}`, what, 'GB/s', 'skipped with --file (needs a scratch file)'));
    const { a } = openFlat(ctx.file);
    mm.openNpy(path.join(ctx.scratch, OPS[0][4]), { mode: 'w+', dtype: a.dtype, shape: [...a.shape] }).close();
    // A mask of the data's length, half true at random (xorshift32, fixed seed): no pattern for branches to learn.
    const m = mm.openNpy(path.join(ctx.scratch, OPS[1][4]), { mode: 'w+', dtype: 'bool', shape: [a.size] });
    let x = 2463534242;
    for (const c of m.chunks({ rows: 1 << 24 })) {
      const d = c.data;
      for (let i = 0; i < d.length; i++) {
        x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
        d[i] = x & 1;
      }
    }
    m.close();
    a.close();
    const out = [];
    const counts = [...new Set([1, ctx.cpus])];
    try {
      for (const [op, what, npWhat, npCode, file] of OPS) {
        const scratch = path.join(ctx.scratch, file);
        for (const k of counts) {
          ctx.progress(`everyday: ${op}, ${k} thread${k === 1 ? '' : 's'}`);
          const r = await ctx.run(process.execPath, [path.join(__dirname, 'everyday-child.js'), op, ctx.file, scratch, String(ctx.runs)], { env: { ...process.env, MMNPY_THREADS: String(k) } });
          const id = `everyday.${op}.${k === 1 ? 'one' : 'all'}`;
          const name = `${what}, ${k === 1 ? 'one thread' : `${k} threads`}`;
          let res;
          try {
            res = JSON.parse(r.stdout.trim().split('\n').pop());
          } catch {
            out.push({ ...skipped(id, name, 'GB/s', `child process failed: ${(r.stderr || String(r.error)).trim().split('\n').pop()}`), error: 'child process failed' });
            continue;
          }
          out.push({ id, name, unit: 'GB/s', samples: gbps(ctx.bytes, res.seconds), compare: [`everyday.numpy.${op}`, 'ceiling.memcpy'], rss: res.rss, memit: res.memit, note: `pool of ${res.threads} thread${res.threads === 1 ? '' : 's'} (child process); GB/s of the data file`, extra: { threads: res.threads } });
        }
        const np = await python(ctx, `${PY_TIMER}
a = np.load(sys.argv[1], mmap_mode='r'); w = np.load(sys.argv[3], mmap_mode='r+')
def run():
    ${npCode}
print(json.dumps({'s': t(run)}))`, [ctx.file, ctx.runs, scratch]);
        out.push(np.error ? skipped(`everyday.numpy.${op}`, `NumPy: ${npWhat}`, 'GB/s', np.error)
          : { id: `everyday.numpy.${op}`, name: `NumPy: ${npWhat}`, unit: 'GB/s', samples: gbps(ctx.bytes, np.s), baseline: 'numpy', rss: null });
      }
    } finally {
      for (const op of OPS) fs.rmSync(path.join(ctx.scratch, op[4]), { force: true });
    }
    return out;
  },

  /**
   * Every single-pass reduction, float64 and float32, on one thread (MMNPY_THREADS=1) and on
   * all cores, against NumPy's one thread in the same run: the one-thread rows are the figure
   * that carries to many-core machines. Axis reductions view the data as (rows, 16384).
   */
  async kernels(ctx) {
    const { KERNELS } = require('./kernels-child.js');
    const files = [[ctx.dtype, ctx.file]];
    const other = ctx.dtype === 'float64' ? 'float32' : 'float64';
    const scratch = ctx.scratch ? path.join(ctx.scratch, `kernels-${other}.npy`) : null;
    const out = [];
    try {
      if (scratch) {
        const { a, flat } = openFlat(ctx.file);
        const w = mm.openNpy(scratch, { mode: 'w+', dtype: other, shape: [a.size] });
        flat.astype(other, { out: w });
        w.close();
        a.close();
        files.push([other, scratch]);
      }
      for (const [dtype, file] of files) {
        const { a } = openFlat(file);
        const [n, bytes] = [a.size, a.nbytes];
        a.close();
        let cols = Math.min(16384, n);
        while (n % cols) cols--;
        const mine = {};
        for (const [k, label] of [[1, 'one'], [ctx.cpus, 'all']]) {
          ctx.progress(`kernels: ${dtype}, ${label === 'one' ? 'one thread' : `${k} threads`}`);
          const r = await ctx.run(process.execPath, [path.join(__dirname, 'kernels-child.js'), file, String(cols), String(ctx.runs)], { env: { ...process.env, MMNPY_THREADS: String(k) } });
          try {
            mine[label] = JSON.parse(r.stdout.trim().split('\n').pop());
          } catch {
            mine[label] = { error: `child process failed: ${(r.stderr || String(r.error)).trim().split('\n').pop()}` };
          }
        }
        ctx.progress(`kernels: ${dtype}, NumPy`);
        const np = await python(ctx, `${PY_TIMER}
a = np.load(sys.argv[1], mmap_mode='r'); m = a.reshape(-1, int(sys.argv[3]))
ops = {'sum': a.sum, 'mean': a.mean, 'var': a.var, 'std': a.std, 'min': a.min, 'max': a.max, 'argmax': a.argmax,
       'sumAxis0': lambda: m.sum(axis=0), 'sumAxisLast': lambda: m.sum(axis=-1)}
print(json.dumps({k: t(f) for k, f in ops.items()}))`, [file, ctx.runs, cols]);
        const shape = `[${n / cols}, ${cols}]`;
        for (const [op] of KERNELS) {
          const what = op === 'sumAxis0' ? `sum({ axis: 0 }) of ${shape}` : op === 'sumAxisLast' ? `sum({ axis: -1 }) of ${shape}` : `${op}()`;
          const npId = `kernels.numpy.${dtype}.${op}`;
          for (const label of ['one', 'all']) {
            const id = `kernels.${dtype}.${op}.${label}`;
            const res = mine[label];
            const name = `${what} ${dtype}, ${label === 'one' ? 'one thread' : 'all cores'}`;
            if (res.error) {
              out.push({ ...skipped(id, name, 'GB/s', res.error), error: 'child process failed' });
              continue;
            }
            const compare = label === 'one' ? [npId] : [npId, 'ceiling.read'];
            out.push({ id, name, unit: 'GB/s', samples: gbps(bytes, res.seconds[op]), compare, rss: null, note: `pool of ${res.threads} thread${res.threads === 1 ? '' : 's'} (child process)`, extra: { threads: res.threads, dtype, op } });
          }
          out.push(np.error ? skipped(npId, `NumPy: ${what} ${dtype}`, 'GB/s', np.error)
            : { id: npId, name: `NumPy: ${what} ${dtype} (one thread)`, unit: 'GB/s', samples: gbps(bytes, np[op]), baseline: 'numpy', rss: null });
        }
      }
    } finally {
      if (scratch) fs.rmSync(scratch, { force: true });
    }
    return out;
  },

  /**
   * The dtypes ETL files carry (issue 15), against NumPy in the same run: `field('x').sum()`
   * over a record array of the data set's size (32-byte records, `x` is 8 of them: a quarter
   * of the stream is useful) and `min()` of a datetime64[ns] column of the same size, each in
   * a child process with one kernel thread and with all cores (the all-cores rows compare
   * with the ceiling probe). Wall time per call; CPU time in `extra.cpu` (every thread).
   */
  async etl(ctx) {
    const ops = [['fieldSum', "field('x').sum() of a record array", "a['x'].sum()"], ['timeMin', 'min() of a datetime64[ns] array', 't.min()']];
    const ids = ops.flatMap(([op]) => [`etl.${op}.one`, `etl.${op}.all`, `etl.numpy.${op}`]);
    if (!ctx.scratch) return ids.map((id) => skipped(id, id, 'GB/s', 'skipped with --file (read-only)'));
    if (!ctx.numpy) return ids.map((id) => skipped(id, id, 'GB/s', 'skipped (--no-numpy): NumPy writes the files'));
    const records = path.join(ctx.scratch, 'etl-records.npy');
    const times = path.join(ctx.scratch, 'etl-times.npy');
    const out = [];
    try {
      ctx.progress('etl: writing the record and datetime64[ns] files (NumPy)');
      const made = await python(ctx, `
import numpy.lib.format as fmt
size, records, times = int(sys.argv[1]), sys.argv[2], sys.argv[3]
dt = np.dtype([('id', '<i8'), ('x', '<f8'), ('t', '<M8[ns]'), ('flag', '?'), ('tag', 'S7')])
r = fmt.open_memmap(records, mode='w+', dtype=dt, shape=(size // dt.itemsize,))
m = fmt.open_memmap(times, mode='w+', dtype='<M8[ns]', shape=(size // 8,))
step = 1 << 22
for lo in range(0, r.shape[0], step):
    k = np.arange(lo, min(lo + step, r.shape[0]))
    r['id'][lo:lo + len(k)] = k
    r['x'][lo:lo + len(k)] = (k % 1000) * 0.25
for lo in range(0, m.shape[0], step):
    k = np.arange(lo, min(lo + step, m.shape[0]), dtype=np.int64)
    m[lo:lo + len(k)] = (1_700_000_000_000_000_000 + ((k * 2654435761) % 1_000_000_007)).view('<M8[ns]')
r.flush(); m.flush()
print(json.dumps({'records': int(r.shape[0]), 'rbytes': int(r.nbytes), 'times': int(m.shape[0]), 'tbytes': int(m.nbytes)}))`, [ctx.bytes, records, times]);
      if (made.error) return ids.map((id) => skipped(id, id, 'GB/s', made.error));
      const mine = {};
      for (const [k, label] of [[1, 'one'], [ctx.cpus, 'all']]) {
        ctx.progress(`etl: ${label === 'one' ? 'one thread' : `${k} threads`}`);
        const r = await ctx.run(process.execPath, [path.join(__dirname, 'etl-child.js'), records, times, String(ctx.runs)], { env: { ...process.env, MMNPY_THREADS: String(k) } });
        try {
          mine[label] = JSON.parse(r.stdout.trim().split('\n').pop());
        } catch {
          mine[label] = { error: `child process failed: ${(r.stderr || String(r.error)).trim().split('\n').pop()}` };
        }
      }
      ctx.progress('etl: NumPy');
      const np = await python(ctx, `${PY_TIMER}
a = np.load(sys.argv[1], mmap_mode='r'); tm = np.load(sys.argv[3], mmap_mode='r')
res = {'seconds': {}, 'cpu': {}}
for k, f in [('fieldSum', lambda: a['x'].sum()), ('timeMin', lambda: tm.min())]:
    f()
    res['seconds'][k], res['cpu'][k] = [], []
    for _ in range(runs):
        s, c = time.perf_counter(), time.process_time(); f()
        res['seconds'][k].append(time.perf_counter() - s); res['cpu'][k].append(time.process_time() - c)
print(json.dumps(res))`, [records, ctx.runs, times]);
      const bytes = { fieldSum: made.rbytes, timeMin: made.tbytes };
      const useful = { fieldSum: 'x is 8 of every 32 bytes: 25% of the record stream is useful', timeMin: 'every byte is useful' };
      for (const [op, what, npWhat] of ops) {
        const npId = `etl.numpy.${op}`;
        for (const label of ['one', 'all']) {
          const id = `etl.${op}.${label}`;
          const res = mine[label];
          const name = `${what}, ${label === 'one' ? 'one thread' : 'all cores'}`;
          if (res.error) {
            out.push({ ...skipped(id, name, 'GB/s', res.error), error: 'child process failed' });
            continue;
          }
          const compare = label === 'one' ? [npId] : [npId, 'ceiling.read'];
          out.push({
            id, name, unit: 'GB/s', samples: gbps(bytes[op], res.seconds[op]), compare, rss: null,
            note: `GB/s of the whole stream read; ${useful[op]}; pool of ${res.threads} thread${res.threads === 1 ? '' : 's'} (child process)`,
            extra: { threads: res.threads, op, bytes: bytes[op], cpu: res.cpu[op] },
          });
        }
        out.push(np.error ? skipped(npId, `NumPy: ${npWhat}`, 'GB/s', np.error)
          : { id: npId, name: `NumPy: ${npWhat} (one thread)`, unit: 'GB/s', samples: gbps(bytes[op], np.seconds[op]), baseline: 'numpy', rss: null, extra: { cpu: np.cpu[op] } });
      }
    } finally {
      fs.rmSync(records, { force: true });
      fs.rmSync(times, { force: true });
    }
    return out;
  },

  /** sum() steady state with 1..N kernel threads: one child process per count (MMNPY_THREADS is per process). */
  async threads(ctx) {
    const out = [];
    let one = null;
    for (const k of ctx.threads) {
      ctx.progress(`threads: ${k}`);
      const r = await ctx.run(process.execPath, [CHILD, ctx.file, String(ctx.runs)], { env: { ...process.env, MMNPY_THREADS: String(k) } });
      const id = `threads.${k}`;
      const name = `sum() steady, MMNPY_THREADS=${k}`;
      let res;
      try {
        res = JSON.parse(r.stdout.trim().split('\n').pop());
      } catch {
        out.push({ ...skipped(id, name, 'GB/s', `child process failed: ${(r.stderr || String(r.error)).trim().split('\n').pop()}`), error: 'child process failed' });
        continue;
      }
      const samples = gbps(ctx.bytes, res.seconds);
      if (k === 1) one = median(samples);
      const notes = [`pool of ${res.threads} thread${res.threads === 1 ? '' : 's'} (child process)`];
      if (one && k !== 1) notes.push(`${(median(samples) / one).toFixed(2)}x one thread`);
      out.push({ id, name, unit: 'GB/s', samples, compare: ['ceiling.read', 'numpy.steady'], rss: res.rss, memit: res.memit, note: notes.join('; '), extra: { threads: k, poolThreads: res.threads } });
    }
    return out;
  },

  /** Several worker_threads mapping one file, each running sum(); aggregate GB/s. */
  async workers(ctx) {
    const W = ctx.workers;
    const ws = await Promise.all(Array.from({ length: W }, () => new Promise((resolve, reject) => {
      const w = new Worker(CHILD, { workerData: { file: ctx.file } });
      w.once('message', () => resolve(w));
      w.once('error', reject);
    })));
    const round = () => Promise.all(ws.map((w) => new Promise((resolve, reject) => {
      const onError = (e) => reject(e);
      w.once('error', onError);
      w.once('message', (msg) => { w.off('error', onError); resolve(msg); });
      w.postMessage('go');
    })));
    try {
      const m = await measure(ctx, `${W} workers`, async () => {
        for (const r of await round()) rss.sample(r.rss);
      });
      const agg = gbps(ctx.bytes * W, m.seconds);
      return [{
        id: 'workers', name: `${W} worker_threads, sum() each (total)`, unit: 'GB/s', samples: agg,
        compare: ['ceiling.read', 'sum.steady'], rss: m.rss, memit: m.memit, note: 'each worker maps the file itself; the kernel pool is shared; GB/s of all workers together', extra: { workers: W },
      }];
    } finally {
      await Promise.all(ws.map((w) => w.terminate()));
    }
  },

  /**
   * `Parallel`: 2 workers summing disjoint halves of the data file (threads: one mapping shared
   * through a process-wide handle, the workers' kernels on the process's pool; processes:
   * each worker maps the file once, cached), against the ceiling probe run right before each pass
   * and `joblib.Parallel(n_jobs=2)` doing the same over `np.load(mmap_mode='r')` in a python3
   * child; the round trip of a tiny task (against tinypool alone and a bare worker_threads echo);
   * and the workers' memory on fresh pools after summing an eighth and the whole file.
   */
  async parallel(ctx) {
    const binding = require('../binding.js');
    const work = path.join(__dirname, 'parallel-work.js');
    const { a, flat } = openFlat(ctx.file);
    const n = flat.size;
    const halves = (v, m) => [[v, 0, Math.floor(m / 2)], [v, Math.floor(m / 2), m]];
    const rows = [];
    const probe = [];
    const N = 2000;
    // joblib's passes interleave with the threads passes: joblib, ceiling probe, threads, ...
    const jl = joblibHalves(ctx);
    let jlError = jl.error ?? null;
    let jlVersion = null;
    const jlSecs = [];
    if (jlError === null) {
      ctx.progress('parallel: starting joblib');
      jlVersion = await jl.ready.then((x) => x.version, (e) => ((jlError = e.message), null));
    }
    const beforeThreads = async () => {
      if (jlError === null) jlSecs.push(await jl.pass().catch((e) => ((jlError = e.message), null)));
      probe.push(binding.machineCeiling(1 << 20, 1, ctx.file).read / 1e9);
    };
    try {
      for (const backend of ['threads', 'processes']) {
        const pool = new mm.Parallel({ nJobs: 2, backend });
        let row;
        try {
          let parts = [];
          const m = await measure(ctx, `parallel ${backend}`, async () => {
            parts = await pool.map(work, 'rangeSum', halves(flat, n));
          }, { before: backend === 'threads' ? beforeThreads : null });
          const workers = parts.map((p) => ({ pid: p.pid, anon: p.memory.anon, file: p.memory.file }));
          const rowRss = backend === 'processes' ? { anon: workers.reduce((x, w) => x + w.anon, 0), file: workers.reduce((x, w) => x + w.file, 0) } : m.rss;
          row = {
            id: `parallel.${backend}`, name: `Parallel(nJobs: 2, ${backend}): sum of halves`, unit: 'GB/s', samples: gbps(ctx.bytes, m.seconds),
            compare: ['parallel.ceiling', 'parallel.joblib', 'sum.steady'], rss: rowRss, memit: m.memit, extra: { workers: 2, backend, perWorker: workers },
            note: backend === 'threads' ? 'one mapping shared by handle; each worker sum() runs on the kernel pool' : 'each worker process maps the file once (cached), MMNPY_THREADS=1; rss = the workers\' RssAnon/RssFile summed',
          };
          rows.push(row);
          // Round trip of a tiny task (one at a time).
          const rt = await measure(ctx, `parallel ${backend} round trip`, async () => {
            const t0 = now();
            for (let i = 0; i < N; i++) await pool.run(work, 'noop', []);
            return { seconds: (now() - t0) / N };
          });
          rows.push({ id: `parallel.roundtrip.${backend}`, name: `Parallel ${backend}: tiny task round trip`, unit: 's', samples: rt.seconds, rss: rt.rss, memit: rt.memit, compare: backend === 'threads' ? ['parallel.roundtrip.tinypool', 'parallel.roundtrip.postMessage'] : undefined, note: `${N} sequential run() calls of a no-op export, mean per call` });
        } finally {
          await pool.close();
        }
        const mem = await parallelMemory(ctx, backend, work, halves);
        Object.assign(row.extra, mem);
        const MB = (x) => (x / 1e6).toFixed(1);
        row.note += `; fresh pools, an eighth / the whole file: workers' anon growth ${MB(mem.anonGrowthEighth)} / ${MB(mem.anonGrowthWhole)} MB, file pages ${MB(mem.fileGrowthEighth)} / ${MB(mem.fileGrowthWhole)} MB`;
      }
      // The same round trip through tinypool alone (the pool library the processes backend runs on).
      const { Tinypool } = await new Function('s', 'return import(s)')('tinypool');
      const bare = new Tinypool({ filename: work, minThreads: 1, maxThreads: 1 });
      try {
        const rt = await measure(ctx, 'tinypool round trip', async () => {
          const t0 = now();
          for (let i = 0; i < N; i++) await bare.run(null, { name: 'noop' });
          return { seconds: (now() - t0) / N };
        });
        rows.push({ id: 'parallel.roundtrip.tinypool', name: 'tinypool alone (threads): tiny task round trip', unit: 's', samples: rt.seconds, baseline: 'other', rss: rt.rss, memit: rt.memit, note: `${N} sequential runs of the same no-op through tinypool without Parallel` });
      } finally {
        await bare.destroy();
      }
      // The floor: a bare worker thread echoing a message of the same shape.
      const echo = new Worker("require('node:worker_threads').parentPort.on('message', (m) => require('node:worker_threads').parentPort.postMessage({ id: m.id, ok: true, value: 0 }))", { eval: true });
      try {
        let pending = null;
        echo.on('message', (m) => pending(m));
        const once = (id) => new Promise((resolve) => {
          pending = resolve;
          echo.postMessage({ id, module: work, exportName: 'noop', args: [] });
        });
        const rt = await measure(ctx, 'postMessage round trip', async () => {
          const t0 = now();
          for (let i = 0; i < N; i++) await once(i);
          return { seconds: (now() - t0) / N };
        });
        rows.push({ id: 'parallel.roundtrip.postMessage', name: 'bare worker_threads postMessage echo: round trip', unit: 's', samples: rt.seconds, baseline: 'other', rss: rt.rss, memit: rt.memit, note: `${N} sequential postMessage round trips to a worker thread that answers at once (the floor of any thread pool)` });
      } finally {
        await echo.terminate();
      }
      rows.push({ id: 'parallel.ceiling', name: 'ceiling: native read, before each Parallel pass', unit: 'GB/s', samples: probe, baseline: 'ceiling', rss: null, note: 'the ceiling probe over the data file, run right before each threads pass (and right after a joblib pass)' });
    } finally {
      a.close();
      if (!jl.error) await jl.close();
    }
    rows.push(jlError !== null
      ? skipped('parallel.joblib', 'joblib.Parallel(n_jobs=2): sum of halves', 'GB/s', jlError)
      : { id: 'parallel.joblib', name: 'joblib.Parallel(n_jobs=2): sum of halves', unit: 'GB/s', samples: gbps(ctx.bytes, jlSecs), baseline: 'numpy', rss: null, note: `joblib ${jlVersion} (loky), np.load(mmap_mode='r'), python3 child kept open; one pass right before each ceiling probe and threads pass (RSS not measured)`, extra: { version: jlVersion } });
    return rows;
  },

  /** NumPy on the same file, in the same run: open, sum (fresh mapping / steady), mean + std. */
  /**
   * `.npz`: the data set as one member of a stored archive (saveNpz) and of NumPy's
   * savez_compressed archive. Opening + the first member (mapped) against np.load(p)['x'];
   * sum() over the stored member against the same .npy; inflating NumPy's compressed archive
   * against np.load; saveNpz({ compress: true }) against np.savez_compressed.
   */
  async npz(ctx) {
    const names = ['npz.open', 'npz.sum', 'npz.inflate', 'npz.deflate'];
    if (!ctx.scratch) return names.map((id) => skipped(id, id, id === 'npz.open' ? 's' : 'GB/s', 'skipped with --file (read-only)'));
    const stored = path.join(ctx.scratch, 'stored.npz');
    const ours = path.join(ctx.scratch, 'ours-compressed.npz');
    const theirs = path.join(ctx.scratch, 'numpy-compressed.npz');
    const src = mm.loadNpy(ctx.file, { mmapMode: 'r' });
    ctx.progress('npz: writing the stored archive');
    mm.saveNpz(stored, { x: src });
    const runs = Math.max(1, Math.min(ctx.runs, 3));
    const np = await python(ctx, `${PY_TIMER}
src, stored, theirs = sys.argv[1], sys.argv[3], sys.argv[4]
a = np.load(src, mmap_mode='r')
def savez():
    np.savez_compressed(theirs, x=a)
deflate = t(savez, warm=0, n=${runs})
def first():
    with np.load(stored) as z:
        return z['x']
opened = t(first)
inflate = t(lambda: np.load(theirs)['x'], n=${runs})
print(json.dumps({'open': opened, 'inflate': inflate, 'deflate': deflate}))`, [ctx.file, ctx.runs, stored, theirs]);
    const open = await measure(ctx, 'npz: open + first member', () => {
      const z = mm.loadNpz(stored, { mmapMode: 'r' });
      z.get('x');
      z.close();
    }, { runs: ctx.runs * 20, warmup: 5 });
    // Interleaved, so that both see the same machine state.
    const z = mm.loadNpz(stored, { mmapMode: 'r' });
    const member = z.get('x');
    const viaNpy = [];
    const sum = await measure(ctx, 'npz: sum() over the stored member', () => member.sum(), {
      before: () => { const t0 = now(); src.sum(); viaNpy.push(now() - t0); },
    });
    z.close();
    let inflate = null;
    if (fs.existsSync(theirs)) {
      inflate = await measure(ctx, 'npz: inflate NumPy\'s savez_compressed', () => {
        const c = mm.loadNpz(theirs);
        c.get('x');
        c.close();
        ctx.gc();
      }, { runs, warmup: 1 });
    }
    const deflate = await measure(ctx, 'npz: saveNpz({ compress: true })', () => mm.saveNpz(ours, { x: src }, { compress: true }), { runs, warmup: 0 });
    src.close();
    const sizes = { stored: fs.statSync(stored).size, ours: fs.statSync(ours).size, numpy: fs.existsSync(theirs) ? fs.statSync(theirs).size : null };
    const threads = require('../binding.js').kernelThreads();
    const gb = ctx.bytes;
    const rows = [
      { id: 'npz.open', name: "npz: loadNpz(p, 'r') + get('x') + close()", unit: 's', samples: open.seconds, compare: ['npz.numpy.open'], rss: open.rss, memit: open.memit, note: `stored archive of ${(sizes.stored / 1e9).toFixed(2)} GB, one member` },
      { id: 'npz.sum', name: 'npz: sum() over the mapped stored member', unit: 'GB/s', samples: gbps(gb, sum.seconds), compare: ['npz.sum.npy'], rss: sum.rss, memit: sum.memit },
      { id: 'npz.sum.npy', name: 'sum() over the same data as a .npy (interleaved)', unit: 'GB/s', samples: gbps(gb, viaNpy), baseline: 'other', rss: null },
      inflate
        ? { id: 'npz.inflate', name: "npz: loadNpz(numpy's savez_compressed).get('x')", unit: 'GB/s', samples: gbps(gb, inflate.seconds), compare: ['npz.numpy.inflate'], rss: inflate.rss, memit: inflate.memit, note: `GB of array data per second; archive ${sizes.numpy} bytes` }
        : skipped('npz.inflate', "npz: loadNpz(numpy's savez_compressed).get('x')", 'GB/s', 'needs the archive NumPy writes'),
      { id: 'npz.deflate', name: 'npz: saveNpz({ compress: true }), one member', unit: 'GB/s', samples: gbps(gb, deflate.seconds), compare: ['npz.numpy.deflate'], rss: deflate.rss, memit: deflate.memit, note: `${threads} threads; archive ${sizes.ours} bytes (NumPy's ${sizes.numpy})` },
    ];
    if (np.error) {
      for (const id of ['npz.numpy.open', 'npz.numpy.inflate', 'npz.numpy.deflate']) rows.push(skipped(id, `NumPy: ${id}`, id.endsWith('open') ? 's' : 'GB/s', np.error));
    } else {
      rows.push(
        { id: 'npz.numpy.open', name: "NumPy: np.load(p)['x'] (reads the member)", unit: 's', samples: np.open, baseline: 'numpy', rss: null },
        { id: 'npz.numpy.inflate', name: "NumPy: np.load(savez_compressed)['x']", unit: 'GB/s', samples: gbps(gb, np.inflate), baseline: 'numpy', rss: null },
        { id: 'npz.numpy.deflate', name: 'NumPy: np.savez_compressed, one member', unit: 'GB/s', samples: gbps(gb, np.deflate), baseline: 'numpy', rss: null },
      );
    }
    for (const f of [stored, ours, theirs]) fs.rmSync(f, { force: true });
    return rows;
  },

  /**
   * joblib files: the data set as four arrays (quarters of it) plus a little metadata.
   * `load(p, { mmapMode: 'r' })` against `joblib.load(p, mmap_mode='r')` (both O(opcodes): four
   * mappings); `dump` against `joblib.dump` (both bounded by the write into the page cache; `sync`
   * before each run on both sides, so no run pays for the previous one's dirty pages); compressed `dump` and
   * `load` (zlib level 3, joblib's `compress=3`) of at most 256 MiB of it against joblib's.
   */
  async joblib(ctx) {
    const names = ['joblib.load', 'joblib.dump', 'joblib.cdump', 'joblib.cload'];
    if (!ctx.scratch) return names.map((id) => skipped(id, id, id === 'joblib.load' ? 's' : 'GB/s', 'skipped with --file (read-only)'));
    const ours = path.join(ctx.scratch, 'ours.joblib');
    const theirs = path.join(ctx.scratch, 'joblib.joblib');
    const oursZ = path.join(ctx.scratch, 'ours.joblib.z');
    const theirsZ = path.join(ctx.scratch, 'joblib.joblib.z');
    const src = mm.loadNpy(ctx.file, { mmapMode: 'r' });
    const flatSrc = src.ndim === 1 ? src : src.reshape(src.size);
    const n = flatSrc.size;
    const q = Math.floor(n / 4);
    const cn = Math.min(q, Math.floor((64 * MiB) / src.itemsize));
    const meta = { name: 'mmbench', epoch: 3, tags: ['a', 'b'], scale: 0.5 };
    const value = { a: flatSrc.slice([0, q]), b: flatSrc.slice([q, 2 * q]), c: flatSrc.slice([2 * q, 3 * q]), d: flatSrc.slice([3 * q, n]), meta };
    const cvalue = { a: flatSrc.slice([0, cn]), b: flatSrc.slice([q, q + cn]), c: flatSrc.slice([2 * q, 2 * q + cn]), d: flatSrc.slice([3 * q, 3 * q + cn]), meta };
    const gb = ctx.bytes;
    const cgb = 4 * cn * src.itemsize;
    const runs = Math.max(1, Math.min(ctx.runs, 3));
    const np = await python(ctx, `${PY_TIMER}
import joblib
src, theirs, theirs_z, q, cn = sys.argv[1], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
a = np.load(src, mmap_mode='r').reshape(-1)
n = len(a)
meta = {'name': 'mmbench', 'epoch': 3, 'tags': ['a', 'b'], 'scale': 0.5}
value = {'a': a[:q], 'b': a[q:2 * q], 'c': a[2 * q:3 * q], 'd': a[3 * q:], 'meta': meta}
cvalue = {'a': a[:cn], 'b': a[q:q + cn], 'c': a[2 * q:2 * q + cn], 'd': a[3 * q:3 * q + cn], 'meta': meta}
import os
def dump_synced():
    os.sync()  # no dirty pages of an earlier run throttle this one (as before mmnpy's runs)
    s = time.perf_counter(); joblib.dump(value, theirs); return time.perf_counter() - s
dump = t(dump_synced, warm=0, n=runs, own=True)
load = t(lambda: joblib.load(theirs, mmap_mode='r'), n=runs * 20)
cdump = t(lambda: joblib.dump(cvalue, theirs_z, compress=3), warm=0, n=${runs})
cload = t(lambda: joblib.load(theirs_z), n=${runs})
print(json.dumps({'dump': dump, 'load': load, 'cdump': cdump, 'cload': cload, 'version': joblib.__version__}))`, [ctx.file, ctx.runs, theirs, theirsZ, q, cn]);
    const closeAll = (v) => { for (const k of ['a', 'b', 'c', 'd']) v[k].close(); };
    const sync = () => spawnSync('sync');
    const dump = await measure(ctx, 'joblib: dump', () => mm.dump(value, ours), { warmup: 0, before: sync });
    const load = await measure(ctx, 'joblib: load mapped', () => closeAll(mm.load(ours, { mmapMode: 'r' })), { runs: ctx.runs * 20, warmup: 5 });
    const cdump = await measure(ctx, 'joblib: dump compressed', () => mm.dump(cvalue, oursZ, { compress: 3 }), { runs, warmup: 0 });
    const cload = await measure(ctx, 'joblib: load compressed', () => { closeAll(mm.load(oursZ)); ctx.gc(); }, { runs, warmup: 1 });
    // Python's files load here too (mapped where joblib maps them).
    let readsTheirs = 'joblib not installed';
    if (fs.existsSync(theirs)) {
      const v = mm.load(theirs, { mmapMode: 'r' });
      readsTheirs = v.d.shape[0] === n - 3 * q && v.a.offset % 16 === 0 ? 'reads joblib.dump\'s file mapped' : 'MISREAD joblib.dump\'s file';
      closeAll(v);
    }
    src.close();
    const size = (f) => (fs.existsSync(f) ? fs.statSync(f).size : null);
    const threads = require('../binding.js').kernelThreads();
    const rows = [
      { id: 'joblib.load', name: "joblib: load(p, { mmapMode: 'r' }), 4 arrays", unit: 's', samples: load.seconds, compare: ['joblib.py.load'], rss: load.rss, note: `${(gb / 1e9).toFixed(2)} GB of arrays; ${readsTheirs}` },
      { id: 'joblib.dump', name: 'joblib: dump(4 mapped arrays)', unit: 'GB/s', samples: gbps(gb, dump.seconds), compare: ['joblib.py.dump'], rss: dump.rss, note: `file ${size(ours)} bytes` },
      { id: 'joblib.cdump', name: 'joblib: dump(..., { compress: 3 })', unit: 'GB/s', samples: gbps(cgb, cdump.seconds), compare: ['joblib.py.cdump'], rss: cdump.rss, note: `${(cgb / 1e9).toFixed(3)} GB of arrays, ${threads} threads; ${size(oursZ)} bytes (joblib's ${size(theirsZ)})` },
      { id: 'joblib.cload', name: 'joblib: load(compressed)', unit: 'GB/s', samples: gbps(cgb, cload.seconds), compare: ['joblib.py.cload'], rss: cload.rss, note: 'zlib, into memory' },
    ];
    if (np.error) {
      for (const id of ['joblib.py.load', 'joblib.py.dump', 'joblib.py.cdump', 'joblib.py.cload']) rows.push(skipped(id, `joblib: ${id}`, id.endsWith('.load') ? 's' : 'GB/s', np.error));
    } else {
      rows.push(
        { id: 'joblib.py.load', name: "Python: joblib.load(p, mmap_mode='r')", unit: 's', samples: np.load, baseline: 'numpy', rss: null, note: `joblib ${np.version}` },
        { id: 'joblib.py.dump', name: 'Python: joblib.dump (the same 4 arrays)', unit: 'GB/s', samples: gbps(gb, np.dump), baseline: 'numpy', rss: null },
        { id: 'joblib.py.cdump', name: 'Python: joblib.dump(compress=3)', unit: 'GB/s', samples: gbps(cgb, np.cdump), baseline: 'numpy', rss: null },
        { id: 'joblib.py.cload', name: 'Python: joblib.load(compressed)', unit: 'GB/s', samples: gbps(cgb, np.cload), baseline: 'numpy', rss: null },
      );
    }
    for (const f of [ours, theirs, oursZ, theirsZ]) fs.rmSync(f, { force: true });
    return rows;
  },

  /**
   * HDF5 writing against h5py in the same run: the data set written into a new file as one 1-D
   * float64 dataset, slab by slab (64 MiB slabs of the mapped data file, the pattern of the seeds:
   * create a chunked dataset, fill it block by block), chunked 1 MiB with gzip level 4 (h5py's
   * `compression='gzip'`), and contiguous; `close()` / the `with` block included; before each run,
   * on both sides, the previous output is deleted and `sync` run (no run pays for the previous
   * one's dirty pages or for freeing its file); and the gzip write of 128 MiB
   * of random doubles (incompressible). mmnpy compresses chunks on the kernel pool, a batch at a
   * time; h5py on one thread. The rows' peak RssAnon, and the peak RSS growth (VmHWM) of one more
   * gzip write, show memory stays bounded by a few slabs whatever the data set's size.
   */
  async h5write(ctx) {
    const ids = [['h5write.gzip', 'GB/s'], ['h5write.contig', 'GB/s'], ['h5write.random', 'GB/s']];
    if (!ctx.scratch) return ids.map(([id, unit]) => skipped(id, id, unit, 'skipped with --file (needs scratch files)'));
    const ours = path.join(ctx.scratch, 'ours.h5');
    const theirs = path.join(ctx.scratch, 'h5py.h5');
    const slabBytes = 64 * MiB;
    const chunk = Math.floor(MiB / ctx.itemsize);
    const runs = Math.max(1, Math.min(ctx.runs, 3));
    // Incompressible data too (random doubles, 128 MiB at most): deflate's slow case.
    const randFile = path.join(ctx.scratch, 'h5write-random.npy');
    const randN = Math.floor(Math.min(ctx.bytes, 128 * MiB) / 8);
    {
      let x = 2463534242;
      const next = () => {
        x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
        return x >>> 0;
      };
      // Written through a mapping: the values take no anonymous memory the writes would be charged for.
      const a = mm.openNpy(randFile, { mode: 'w+', dtype: 'float64', shape: [randN] });
      const r = a.data;
      for (let i = 0; i < randN; i++) r[i] = ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992 - 0.5;
      a.flush();
      a.close();
    }
    const np = await python(ctx, `${PY_TIMER}
import h5py, os, resource
src, out, slab, chunk, runs, rand = sys.argv[1], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
def write(a, gzip):
    n = len(a)
    step = slab // a.itemsize
    if os.path.exists(out):
        os.remove(out)
    os.sync()
    s = time.perf_counter()
    with h5py.File(out, 'w') as f:
        if gzip:
            d = f.create_dataset('x', shape=(n,), dtype=a.dtype, chunks=(chunk,), compression='gzip')
        else:
            d = f.create_dataset('x', shape=(n,), dtype=a.dtype)
        for i in range(0, n, step):
            d[i:i + step] = a[i:i + step]
    return time.perf_counter() - s
a = np.load(src, mmap_mode='r').reshape(-1)
gz = [write(a, True) for _ in range(runs)]
size = os.path.getsize(out)
contig = [write(a, False) for _ in range(runs)]
r = np.load(rand, mmap_mode='r')
rgz = [write(r, True) for _ in range(runs)]
print(json.dumps({'gzip': gz, 'contig': contig, 'random': rgz, 'size': size, 'maxrss': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, 'version': h5py.version.version, 'hdf5': h5py.version.hdf5_version}))`, [ctx.file, ctx.runs, theirs, slabBytes, chunk, runs, randFile]);
    const src = mm.loadNpy(ctx.file, { mmapMode: 'r' });
    const flat = src.ndim === 1 ? src : src.reshape(src.size);
    const rand = mm.loadNpy(randFile, { mmapMode: 'r' });
    const write = (a, gzip) => {
      const n = a.size;
      const step = Math.floor(slabBytes / a.itemsize);
      const f = mm.openH5(ours, { mode: 'w' });
      const d = f.createDataset('x', gzip ? { shape: [n], dtype: a.dtype, chunks: [chunk], compression: 'gzip' } : { shape: [n], dtype: a.dtype });
      for (let i = 0; i < n; i += step) d.write([[i, Math.min(i + step, n)]], a.slice([i, Math.min(i + step, n)]));
      f.close();
    };
    // Neither side pays for freeing the previous run's file (h5py truncates it, mmnpy replaces it).
    const sync = () => {
      fs.rmSync(ours, { force: true });
      spawnSync('sync');
    };
    const gz = await measure(ctx, 'h5write: gzip', () => write(flat, true), { runs, warmup: 0, before: sync });
    const size = fs.statSync(ours).size;
    sync();
    ctx.progress('h5write: gzip, peak RSS');
    const peak = peakGrowth(() => write(flat, true));
    // h5py reads what mmnpy wrote (first and last slab).
    let check = 'h5py not run';
    if (!np.error) {
      const r = await python(ctx, `
import h5py
a = np.load(sys.argv[1], mmap_mode='r').reshape(-1)
with h5py.File(sys.argv[3], 'r') as f:
    d = f['x']; k = min(len(a), 1 << 20)
    ok = d.shape == a.shape and (d[:k] == a[:k]).all() and (d[-k:] == a[-k:]).all()
print(json.dumps({'ok': bool(ok)}))`, [ctx.file, ctx.runs, ours]);
      check = r.ok ? "h5py reads mmnpy's file back equal" : `h5py check failed: ${r.error ?? 'values differ'}`;
    }
    const contig = await measure(ctx, 'h5write: contiguous', () => write(flat, false), { runs, warmup: 0, before: sync });
    const rgz = await measure(ctx, 'h5write: gzip, random data', () => write(rand, true), { runs, warmup: 0, before: sync });
    rand.close();
    fs.rmSync(randFile, { force: true });
    src.close();
    const threads = require('../binding.js').kernelThreads();
    const gb = ctx.bytes;
    const rows = [
      { id: 'h5write.gzip', name: 'HDF5: write chunked gzip dataset slab by slab', unit: 'GB/s', samples: gbps(gb, gz.seconds), compare: ['h5write.h5py.gzip'], rss: gz.rss, memit: gz.memit, note: `${(gb / 1e9).toFixed(2)} GB in 64 MiB slabs, 1 MiB chunks, gzip 4, ${threads} threads; file ${size} bytes; one more such write grew the peak RSS (VmHWM) by ${peak === null ? 'n/a' : `${(peak / MiB).toFixed(0)} MiB`} (the mapped data file's pages already resident); ${check}`, extra: { peakGrowth: peak, size } },
      { id: 'h5write.contig', name: 'HDF5: write contiguous dataset slab by slab', unit: 'GB/s', samples: gbps(gb, contig.seconds), compare: ['h5write.h5py.contig'], rss: contig.rss, memit: contig.memit, note: 'aligned at 64 bytes (mmap-able); pwrite per slab' },
      { id: 'h5write.random', name: 'HDF5: write chunked gzip, random doubles', unit: 'GB/s', samples: gbps(randN * 8, rgz.seconds), compare: ['h5write.h5py.random'], rss: rgz.rss, memit: rgz.memit, note: `${(randN * 8 / 1e9).toFixed(3)} GB of uniform random float64 (incompressible: deflate's slow case), same chunks and level` },
    ];
    if (np.error) {
      for (const [id, unit] of [['h5write.h5py.gzip', 'GB/s'], ['h5write.h5py.contig', 'GB/s'], ['h5write.h5py.random', 'GB/s']]) rows.push(skipped(id, `h5py: ${id}`, unit, np.error));
    } else {
      rows.push(
        { id: 'h5write.h5py.gzip', name: 'h5py: the same chunked gzip write', unit: 'GB/s', samples: gbps(gb, np.gzip), baseline: 'numpy', rss: null, note: `h5py ${np.version} (HDF5 ${np.hdf5}), one thread; file ${np.size} bytes; python3 peak RSS ${(np.maxrss / MiB).toFixed(0)} MiB` },
        { id: 'h5write.h5py.contig', name: 'h5py: the same contiguous write', unit: 'GB/s', samples: gbps(gb, np.contig), baseline: 'numpy', rss: null },
        { id: 'h5write.h5py.random', name: 'h5py: the same gzip write, random doubles', unit: 'GB/s', samples: gbps(randN * 8, np.random), baseline: 'numpy', rss: null },
      );
    }
    for (const f of [ours, theirs]) fs.rmSync(f, { force: true });
    return rows;
  },

  /**
   * HDF5 reading against h5py in the same run, on files h5py writes (from the data set's values):
   * - the whole of a 1-D chunked gzip dataset (1 MiB chunks, gzip 4 = h5py's `compression='gzip'`):
   *   `d.read()` on all kernel threads and, in a child process, with MMNPY_THREADS=1, against h5py's
   *   `d[...]` (one thread);
   * - one column of a row-chunked 2-D gzip dataset (shape (n/64, 64), chunks of 1 MiB rows):
   *   `d.read(':, 0')` against `d[:, 0]`, with the chunks each side reads: mmnpy's counted by its
   *   reader, h5py's from the layout (the stored chunks the selection intersects: HDF5 reads each
   *   once);
   * - `mmap()` of a contiguous dataset: openH5 + get + mmap + close for the whole data set and for
   *   a 64 MiB dataset in the same file (O(1): no dependence on size), against h5py + `np.memmap`
   *   at `d.id.get_offset()`; then `sum()` over the mapping, against the same values as a `.npy`
   *   mapping (`loadNpy(.., { mmapMode: 'r' })`) and NumPy's sum over the `np.memmap`.
   * Results are checked against the data set (first and last values, and the column).
   */
  async hdf5(ctx) {
    const ids = [['hdf5.gzip', 'GB/s'], ['hdf5.gzip.one', 'GB/s'], ['hdf5.column', 's'], ['hdf5.mmap.open', 's'], ['hdf5.mmap.open.small', 's'], ['hdf5.mmap.sum', 'GB/s']];
    if (!ctx.scratch) return ids.map(([id, unit]) => skipped(id, id, unit, 'skipped with --file (needs scratch files)'));
    const gz = path.join(ctx.scratch, 'read-gzip.h5');
    const contig = path.join(ctx.scratch, 'read-contig.h5');
    const chunk = Math.floor(MiB / ctx.itemsize);
    const cols = 64;
    const rowsPerChunk = Math.floor(chunk / cols);
    const smallBytes = Math.min(64 * MiB, ctx.bytes);
    ctx.progress('hdf5: h5py writes the files');
    const made = await python(ctx, `
import h5py
src, gz, contig, chunk, cols, rpc, small = sys.argv[1], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])
a = np.load(src, mmap_mode='r').reshape(-1)
n = len(a) // cols * cols
with h5py.File(gz, 'w') as f:
    f.create_dataset('x', data=a, chunks=(chunk,), compression='gzip')
    f.create_dataset('m', data=a[:n].reshape(-1, cols), chunks=(rpc, cols), compression='gzip')
with h5py.File(contig, 'w') as f:
    f.create_dataset('x', data=a)
    f.create_dataset('s', data=a[:small // a.itemsize])
print(json.dumps({'ok': True}))`, [ctx.file, ctx.runs, gz, contig, chunk, cols, rowsPerChunk, smallBytes]);
    if (made.error) {
      for (const f of [gz, contig]) fs.rmSync(f, { force: true });
      return ids.map(([id, unit]) => skipped(id, id, unit, `h5py writes the files: ${made.error}`));
    }
    const runs = Math.max(1, ctx.runs);
    const np = await python(ctx, `${PY_TIMER}
import h5py
gz, contig = sys.argv[3], sys.argv[4]
out = {'version': h5py.version.version, 'hdf5': h5py.version.hdf5_version}
with h5py.File(gz, 'r') as f:
    d = f['x']
    out['full'] = t(lambda: d[...])
    m = f['m']
    out['column'] = t(lambda: m[:, 0])
    out['chunks'] = sum(1 for i in range(m.id.get_num_chunks()) if m.id.get_chunk_info(i).chunk_offset[1] == 0)
    out['total'] = m.id.get_num_chunks()
def mapped(name):
    with h5py.File(contig, 'r') as f:
        d = f[name]
        return np.memmap(contig, dtype=d.dtype, mode='r', offset=d.id.get_offset(), shape=d.shape)
out['open'] = t(lambda: mapped('x'), warm=3, n=runs * 20)
out['openSmall'] = t(lambda: mapped('s'), warm=3, n=runs * 20)
x = mapped('x')
out['sum'] = t(lambda: x.sum())
print(json.dumps(out))`, [ctx.file, runs, gz, contig]);

    const src = mm.loadNpy(ctx.file, { mmapMode: 'r' });
    const flat = src.ndim === 1 ? src : src.reshape(src.size);
    const n = flat.size;
    const f = mm.openH5(gz);
    const chunksRead = () => f._h.live().chunksRead();
    const d = f.get('x');
    const m = f.get('m');
    // What mmnpy read is the data set (ends, and the column).
    let check;
    {
      const a = d.read();
      const k = Math.min(n, MiB);
      const ok = mm.arrayEqual(a.slice([0, k]), flat.slice([0, k])) && mm.arrayEqual(a.slice([n - k, n]), flat.slice([n - k, n]));
      a.close();
      const c = m.read(':, 0');
      const okc = mm.arrayEqual(c, flat.slice([0, m.shape[0] * cols, cols]));
      c.close();
      check = ok && okc ? 'values equal to the data set' : 'VALUES DIFFER from the data set';
    }
    const full = await measure(ctx, 'hdf5: gzip read', () => d.read().close(), { runs });
    ctx.progress('hdf5: gzip read, one thread (child)');
    const one = await ctx.run(process.execPath, [path.join(__dirname, 'h5read-child.js'), gz, 'x', String(runs)], { env: { ...process.env, MMNPY_THREADS: '1' } });
    let oneRes = null;
    try {
      oneRes = JSON.parse(one.stdout.trim().split('\n').pop());
    } catch {
      oneRes = { error: `child process failed: ${(one.stderr || String(one.error)).trim().split('\n').pop()}` };
    }
    const before = chunksRead();
    m.read(':, 0').close();
    const colChunks = chunksRead() - before;
    const col = await measure(ctx, 'hdf5: one column', () => m.read(':, 0').close(), { runs });
    const b2 = chunksRead();
    m.read(`${rowsPerChunk}:${3 * rowsPerChunk}, 0`).close();
    const bandChunks = chunksRead() - b2;
    f.close();

    const mapped = (name) => {
      const h = mm.openH5(contig);
      const a = h.get(name).mmap();
      h.close();
      return a;
    };
    const open = await measure(ctx, 'hdf5: mmap open (whole)', () => mapped('x'), { runs: runs * 20, warmup: 3 });
    const openSmall = await measure(ctx, 'hdf5: mmap open (64 MiB)', () => mapped('s'), { runs: runs * 20, warmup: 3 });
    // Closing the file detaches what it mapped: it stays open while the mapping is summed.
    const h = mm.openH5(contig);
    const xm = h.get('x').mmap();
    const sumOk = xm.sum() === flat.sum() ? 'sum equal to the .npy mapping\'s' : 'SUMS DIFFER';
    const sum = await measure(ctx, 'hdf5: sum over mmap()', () => xm.sum(), { runs });
    const npySum = await measure(ctx, 'hdf5: sum over the .npy mapping', () => flat.sum(), { runs });
    h.close();
    src.close();

    const threads = require('../binding.js').kernelThreads();
    const gb = n * ctx.itemsize;
    const colSeconds = col.seconds;
    const rows = [
      { id: 'hdf5.gzip', name: 'HDF5: read a chunked gzip dataset whole', unit: 'GB/s', samples: gbps(gb, full.seconds), compare: ['hdf5.h5py.gzip'], rss: full.rss, memit: full.memit, note: `${(gb / 1e9).toFixed(2)} GB, 1 MiB chunks, gzip 4 (h5py wrote it; file ${fs.statSync(gz).size} bytes with the 2-D dataset), ${threads} threads; ${check}` },
      oneRes.error
        ? { ...skipped('hdf5.gzip.one', 'HDF5: the same read, one thread', 'GB/s', oneRes.error), error: 'child process failed' }
        : { id: 'hdf5.gzip.one', name: 'HDF5: the same read, one thread', unit: 'GB/s', samples: gbps(gb, oneRes.seconds), compare: ['hdf5.h5py.gzip'], rss: null, note: `child process, MMNPY_THREADS=1 (pool of ${oneRes.threads})` },
      { id: 'hdf5.column', name: 'HDF5: one column of a row-chunked gzip dataset', unit: 's', samples: colSeconds, compare: ['hdf5.h5py.column'], rss: col.rss, memit: col.memit, note: `shape [${m.shape}], chunks [${m.chunks}]; chunks read: ${colChunks} of ${Math.ceil(m.shape[0] / rowsPerChunk)} (counted by the reader)${np.error ? '' : `, h5py ${np.chunks} of ${np.total} (intersected, from the layout)`}; rows ${rowsPerChunk}:${3 * rowsPerChunk} of the column: ${bandChunks} chunks`, extra: { chunks: colChunks, h5pyChunks: np.error ? null : np.chunks, bandChunks } },
      { id: 'hdf5.mmap.open', name: 'HDF5: openH5 + get + mmap() + close, contiguous', unit: 's', samples: open.seconds, compare: ['hdf5.h5py.open'], rss: open.rss, memit: open.memit, note: `${(gb / 1e9).toFixed(2)} GB dataset` },
      { id: 'hdf5.mmap.open.small', name: 'HDF5: the same for a 64 MiB dataset', unit: 's', samples: openSmall.seconds, compare: ['hdf5.h5py.open.small', 'hdf5.mmap.open'], rss: openSmall.rss, memit: openSmall.memit, note: `${(smallBytes / 1e9).toFixed(3)} GB dataset (same file): the same time as the whole one` },
      { id: 'hdf5.mmap.sum', name: 'HDF5: sum() over the mmap() of a contiguous dataset', unit: 'GB/s', samples: gbps(gb, sum.seconds), compare: ['hdf5.npy.sum', 'hdf5.h5py.sum'], rss: sum.rss, memit: sum.memit, note: `${threads} threads; ${sumOk}` },
      { id: 'hdf5.npy.sum', name: "sum() over the same values as a .npy mapping (loadNpy mmapMode 'r')", unit: 'GB/s', samples: gbps(gb, npySum.seconds), baseline: 'other', rss: npySum.rss, memit: npySum.memit },
    ];
    if (np.error) {
      for (const [id, unit] of [['hdf5.h5py.gzip', 'GB/s'], ['hdf5.h5py.column', 's'], ['hdf5.h5py.open', 's'], ['hdf5.h5py.open.small', 's'], ['hdf5.h5py.sum', 'GB/s']]) rows.push(skipped(id, `h5py: ${id}`, unit, np.error));
    } else {
      rows.push(
        { id: 'hdf5.h5py.gzip', name: 'h5py: d[...] of the same dataset', unit: 'GB/s', samples: gbps(gb, np.full), baseline: 'numpy', rss: null, note: `h5py ${np.version} (HDF5 ${np.hdf5}), one thread` },
        { id: 'hdf5.h5py.column', name: 'h5py: d[:, 0]', unit: 's', samples: np.column, baseline: 'numpy', rss: null },
        { id: 'hdf5.h5py.open', name: 'h5py: File + np.memmap at d.id.get_offset(), whole', unit: 's', samples: np.open, baseline: 'numpy', rss: null },
        { id: 'hdf5.h5py.open.small', name: 'h5py: the same, 64 MiB dataset', unit: 's', samples: np.openSmall, baseline: 'numpy', rss: null },
        { id: 'hdf5.h5py.sum', name: 'NumPy: sum() over that np.memmap', unit: 'GB/s', samples: gbps(gb, np.sum), baseline: 'numpy', rss: null },
      );
    }
    for (const p of [gz, contig]) fs.rmSync(p, { force: true });
    return rows;
  },

  /**
   * Sparse products against SciPy in the same run: CSR float64 x vector for a banded pattern (11
   * diagonals) and a random column pattern (11 nonzeros per row, columns uniform over all), as
   * GB/s of matrix data (12 bytes per nonzero: float64 value + int32 index) against a bandwidth
   * probe (all kernel threads reading the banded file's own mapping, in the same run); loadSparse
   * of the stored file against load_npz; the streaming product's peak RSS.
   */
  async sparse(ctx) {
    const ids = ['sparse.banded', 'sparse.random', 'sparse.open', 'sparse.stream'];
    if (!ctx.scratch) return ids.map((id) => skipped(id, id, id === 'sparse.open' ? 's' : 'GB/s', 'skipped with --file (needs scratch files)'));
    const binding = require('../binding.js');
    const perRow = 11;
    const nnz = Math.max(perRow * 1024, Math.min(Math.floor(ctx.bytes / 12), 96 * 2 ** 20));
    const n = Math.floor(nnz / perRow);
    const files = { banded: path.join(ctx.scratch, 'sparse-banded.npz'), random: path.join(ctx.scratch, 'sparse-random.npz') };
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (const kind of ['banded', 'random']) {
      ctx.progress(`sparse: writing the ${kind} matrix`);
      const indptr = new Int32Array(n + 1);
      const indices = new Int32Array(n * perRow);
      const data = new Float64Array(n * perRow);
      let k = 0;
      for (let i = 0; i < n; i++) {
        for (let d = 0; d < perRow; d++) {
          const j = kind === 'banded' ? i - 5 + d : Math.floor(rand() * n);
          if (j < 0 || j >= n) continue;
          indices[k] = j;
          data[k++] = rand() - 0.5;
        }
        indptr[i + 1] = k;
      }
      const m = mm.csr({ data: data.subarray(0, k), indices: indices.subarray(0, k), indptr }, [n, n]);
      mm.saveSparse(files[kind], m, { compress: false });
      m.close();
    }
    // The 2 GB of arrays the files were built from collected, and the files' dirty pages
    // written back, before anything is timed: either would otherwise run on the cores
    // beside the products (V8's concurrent collector, the kernel's writeback).
    ctx.gc();
    spawnSync('sync');
    const runs = Math.max(1, Math.min(ctx.runs, 5));
    const np = await python(ctx, `${PY_TIMER}
import scipy, scipy.sparse as sp
banded, rnd = sys.argv[3], sys.argv[4]
opened = t(lambda: sp.load_npz(banded), n=${runs})
out = {'version': scipy.__version__, 'open': opened}
for name, f in (('banded', banded), ('random', rnd)):
    A = sp.load_npz(f); x = np.ones(A.shape[1])
    out[name] = t(lambda: A @ x)
    out[name + '_nnz'] = int(A.nnz)
print(json.dumps(out))`, [ctx.file, ctx.runs, files.banded, files.random]).catch((e) => ({ error: String(e) }));
    const x = mm.array(new Float64Array(n).fill(1));
    const rows = [];
    const nnzOf = {};
    const ours = {};
    const probe = [];
    for (const kind of ['banded', 'random']) {
      const A = mm.loadSparse(files[kind], { mmapMode: 'r' });
      nnzOf[kind] = A.nnz;
      // Each result closed as soon as it is made, as SciPy's `A @ x` frees its y when the
      // timed lambda returns: its region goes back to the scratch cache for the next product.
      // Left to the garbage collector, results pile up (finalizers run only after a GC and
      // an event-loop turn), and each new one takes fresh pages, which a VM whose host
      // reclaims freed memory (free page reporting) backs at about 100 MB/s: every third
      // product here ran 2.5x slower (BENCHMARKS.md, ninth session).
      ours[kind] = await measure(ctx, `sparse: ${kind} A.dot(x)`, () => A.dot(x).close(), {
        // The bandwidth probe runs right before each banded product: the same machine state.
        before: kind === 'banded' ? () => probe.push(binding.machineCeiling(64 * MiB, 1, files.banded).read / 1e9) : null,
      });
      A.close();
    }
    const open = await measure(ctx, 'sparse: loadSparse + close', () => mm.loadSparse(files.banded, { mmapMode: 'r' }).close(), { runs: ctx.runs * 10, warmup: 3 });
    // Streaming: a fresh mapping multiplied with release: true; the peak from VmHWM, reset first.
    ctx.progress('sparse: streaming dot');
    rss.reset();
    const fresh = mm.loadSparse(files.banded, { mmapMode: 'r' });
    const t0 = now();
    const peak = peakGrowth(() => fresh.dot(x, { release: true }));
    const streamSeconds = now() - t0;
    rss.sample();
    fresh.close();
    const stream = { seconds: [streamSeconds], rss: rss.take() };
    const gbOf = (kind) => 12 * nnzOf[kind];
    const threads = binding.kernelThreads();
    const fileGB = (fs.statSync(files.banded).size / 1e9).toFixed(2);
    rows.push(
      { id: 'sparse.banded', name: 'sparse: CSR f64 A.dot(x), banded', unit: 'GB/s', samples: gbps(gbOf('banded'), ours.banded.seconds), compare: ['sparse.scipy.banded', 'sparse.ceiling'], rss: ours.banded.rss, memit: ours.banded.memit, note: `${n}x${n}, 11 diagonals, ${nnzOf.banded} nonzeros, int32 indices, mapped (GB/s = 12 bytes per nonzero); ${threads} threads; each result closed when made (SciPy frees its y)` },
      { id: 'sparse.random', name: 'sparse: CSR f64 A.dot(x), random columns', unit: 'GB/s', samples: gbps(gbOf('random'), ours.random.seconds), compare: ['sparse.scipy.random', 'sparse.ceiling'], rss: ours.random.rss, memit: ours.random.memit, note: `${n}x${n}, 11 nonzeros per row at uniform random columns (x: ${(n * 8 / 2 ** 20).toFixed(0)} MiB, gathers dominate)` },
      { id: 'sparse.ceiling', name: 'bandwidth probe: all threads reading the banded file\'s mapping', unit: 'GB/s', samples: probe, baseline: 'ceiling', rss: null, note: 'native probe, run right before each banded product' },
      { id: 'sparse.open', name: "sparse: loadSparse(p, { mmapMode: 'r' }) + close()", unit: 's', samples: open.seconds, compare: ['sparse.scipy.open'], rss: open.rss, memit: open.memit, note: `stored file of ${fileGB} GB: O(1) in the nonzeros` },
      { id: 'sparse.stream', name: 'sparse: A.dot(x, { release: true }), fresh mapping', unit: 'GB/s', samples: gbps(gbOf('banded'), stream.seconds), compare: ['sparse.banded'], rss: stream.rss, memit: stream.memit, note: peak === null ? 'no VmHWM here' : `peak RSS growth ${(peak / 2 ** 20).toFixed(0)} MiB for a ${fileGB} GB file (x and y: ${(2 * n * 8 / 2 ** 20).toFixed(0)} MiB)`, extra: { peakGrowth: peak } },
    );
    if (np.error) {
      for (const [id, unit] of [['sparse.scipy.banded', 'GB/s'], ['sparse.scipy.random', 'GB/s'], ['sparse.scipy.open', 's']]) rows.push(skipped(id, `SciPy: ${id}`, unit, np.error));
    } else {
      rows.push(
        { id: 'sparse.scipy.banded', name: 'SciPy: A @ x, banded', unit: 'GB/s', samples: gbps(12 * np.banded_nnz, np.banded), baseline: 'numpy', rss: null, note: `SciPy ${np.version}, load_npz in memory, one thread (csr_matvec)` },
        { id: 'sparse.scipy.random', name: 'SciPy: A @ x, random columns', unit: 'GB/s', samples: gbps(12 * np.random_nnz, np.random), baseline: 'numpy', rss: null },
        { id: 'sparse.scipy.open', name: 'SciPy: load_npz(p) (reads everything)', unit: 's', samples: np.open, baseline: 'numpy', rss: null },
      );
    }
    x.close();
    for (const f of Object.values(files)) fs.rmSync(f, { force: true });
    return rows;
  },

  async numpy(ctx) {
    warmCache(ctx.file);
    ctx.progress('numpy');
    const r = await python(ctx, `${PY_TIMER}
f = sys.argv[1]
opn = t(lambda: np.load(f, mmap_mode='r'), warm=5, n=runs * 20)
def first():
    a = np.load(f, mmap_mode='r'); a.sum()
fp = t(first, warm=0)
a = np.load(f, mmap_mode='r')
def given():
    m = a.mean(); a.std(mean=m)
print(json.dumps({'version': np.__version__, 'open': opn, 'first': fp, 'steady': t(lambda: a.sum()), 'meanStd': t(lambda: (a.mean(), a.std())), 'meanStdGiven': t(given)}))`, [ctx.file, ctx.runs]);
    const rows = [
      ['numpy.open', "np.load(p, mmap_mode='r')", 's', 'open'],
      ['numpy.first', 'load + sum(), file cached', 'GB/s', 'first'],
      ['numpy.steady', 'sum(), steady state', 'GB/s', 'steady'],
      ['numpy.meanStd', 'mean() + std()', 'GB/s', 'meanStd'],
      ['numpy.meanStdGiven', 'mean() + std(mean=m)', 'GB/s', 'meanStdGiven'],
    ];
    return rows.map(([id, what, unit, k]) => (r.error
      ? skipped(id, `NumPy: ${what}`, unit, r.error)
      : { id, name: `NumPy: ${what}`, unit, samples: unit === 's' ? r[k] : gbps(ctx.bytes, r[k]), baseline: 'numpy', rss: null, note: id === 'numpy.open' ? `NumPy ${r.version}, python3 in a child process (RSS not measured)` : null, extra: { version: r.version } }));
  },
};

module.exports = { scenarios, measure, evict, warmCache, hashFile, readRss, rss, openFlat, sumChunks };
