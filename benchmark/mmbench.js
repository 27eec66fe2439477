#!/usr/bin/env node
'use strict';
// mmbench: how fast this machine and its files go through mmnpy (see --help and benchmark/README.md).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');

const SCENARIOS = ['ceiling', 'open', 'small', 'get', 'firstPass', 'steady', 'sum', 'meanStd', 'cow', 'column', 'matrix', 'everyday', 'budget', 'write', 'cold', 'threads', 'kernels', 'dot', 'etl', 'workers', 'parallel', 'numpy', 'npz', 'joblib', 'h5write', 'hdf5', 'sparse'];
// With a data set larger than half the RAM: what runs by default, and what may run at all
// (the others keep the whole set in memory, or copy or write all of it).
const OUT_OF_CORE = ['open', 'small', 'budget'];
const OUT_OF_CORE_ALLOWED = ['open', 'small', 'get', 'budget'];
const MiB = 2 ** 20;
const GiB = 2 ** 30;

const HELP = `Usage: mmbench [options]

Measures mmnpy on this machine. With no arguments it writes a data set to a temporary
folder (mmbench-* in ${os.tmpdir()}), runs every scenario with its baselines side by
side (fs reads + a JS loop, NumPy through python3, the native machine ceiling), prints
a table and removes the data, also on Ctrl-C or error.

Options:
  --size N          data set size in bytes or with units (64MB, 1.5GiB, 512KiB);
                    default min(1 GiB, RAM/8)
  --sparse          make the data set as a sparse file of zeros (nothing written: any
                    --size opens at once; reads come from the page cache's zero pages)
                    A data set larger than half the RAM runs the out-of-core read
                    scenarios only (${OUT_OF_CORE.join(', ')} by default; also allowed:
                    ${OUT_OF_CORE_ALLOWED.filter((n) => !OUT_OF_CORE.includes(n)).join(', ')})
  --dtype T         float64 (default) or float32: the data set's element type
  --file a.npy      benchmark an existing float64/float32 .npy file, read-only
                    (no data set is made; 'write' and 'matrix' are skipped)
  --runs N          measured runs per figure after one warm-up (default 5)
  --scenarios a,b   run only these, in this order:
                    ${SCENARIOS.join(',')}
  --threads 1,2,4   kernel thread counts of the 'threads' scenario (one child process
                    each, MMNPY_THREADS=k); ranges like 1-4 allowed; default 1..cores
  --workers N       worker_threads of the 'workers' scenario (default 2..8: cores)
  --no-numpy        skip the NumPy baselines (python3 -c ... with numpy otherwise)
  --json            print machine-readable results on stdout instead of the table
  --html FILE       also write a self-contained HTML report (table + SVG bar chart)
  --quiet           no progress bar (it is only drawn when stderr is a terminal, and
                    never with --json or when CI is set)
  -h, --help        this text

Figures: GB = 10^9 bytes. Each figure is the median and p95 of the measured runs.
"peak RSS" is the peak RssAnon + RssFile (/proc/self/status) while the figure was
measured (n/a off Linux); --json also gives memit's fields over all runs of a figure
done in this process (peak, increment, and its anon/file/shmem split). Ratios divide mmnpy's median by a baseline's, measured in
the same run (for latencies, the baseline's by mmnpy's): above 1x mmnpy is faster.

--json prints one object, described by the JSON Schema benchmark/mmbench.schema.json:
  { tool: "mmbench", schemaVersion: 1, mmnpy, date, gb: 1e9, runs, warmup,
    machine: { cpus, cpuModel, totalmem, platform, node, hypervisor },
    dataset: { file, temporary, bytes, dtype, shape },
    scenarios: [ids run], errors: [{ scenario, message }],
    results: [{ id, scenario, name, unit: "GB/s"|"s"|"elem/s"|"GFLOP/s",
                baseline: null|"fs.readSync"|"fs.readFile"|"numpy"|"ceiling"|"other",
                samples: [number], median, p95 (null when skipped),
                rss: { anon, file } bytes | null,
                memit: { peak, increment, anon, file, shmem } bytes | null,
                comparisons: [{ against, kind, ratio }], note, error, extra }] }

Exit codes: 0 done, 1 a scenario failed, 2 bad arguments or file, 130 interrupted.`;

class UsageError extends Error {}

const UNITS = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, pb: 1e15, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40, pib: 2 ** 50, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 };

function parseSize(s) {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(String(s).trim());
  const mult = m && UNITS[(m[2] || 'b').toLowerCase()];
  if (!m || !mult) throw new UsageError(`--size: cannot read '${s}' (give bytes, or a number with a unit: 64MB, 1GiB, 512KiB)`);
  const bytes = Math.floor(Number(m[1]) * mult);
  if (bytes < MiB) throw new UsageError(`--size: ${s} is too small (at least 1 MiB)`);
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`--size: ${s} is too large`);
  return bytes;
}

function parseInt1(name, v, max) {
  const n = Number(v);
  if (!/^\d+$/.test(String(v).trim()) || !Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${name} must be an integer from 1 to ${max} (got '${v}')`);
  return n;
}

function parseThreads(v) {
  const out = [];
  for (const part of String(v).split(',').map((s) => s.trim()).filter(Boolean)) {
    const r = /^(\d+)-(\d+)$/.exec(part);
    if (r) {
      const [a, b] = [parseInt1('--threads', r[1], 1024), parseInt1('--threads', r[2], 1024)];
      if (b < a) throw new UsageError(`--threads: empty range '${part}'`);
      for (let k = a; k <= b; k++) out.push(k);
    } else out.push(parseInt1('--threads', part, 1024));
  }
  if (!out.length) throw new UsageError('--threads needs a list of thread counts, e.g. 1,2,4 or 1-4');
  return [...new Set(out)];
}

function parseArgs(argv) {
  const o = { runs: 5, json: false, numpy: true, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let inline;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) [a, inline] = [a.slice(0, eq), a.slice(eq + 1)];
    const val = () => {
      if (inline !== undefined) return inline;
      if (i + 1 >= argv.length || argv[i + 1].startsWith('--')) throw new UsageError(`${a} needs a value (see --help)`);
      return argv[++i];
    };
    const flag = () => {
      if (inline !== undefined) throw new UsageError(`${a} takes no value`);
      return true;
    };
    switch (a) {
      case '-h': case '--help': o.help = flag(); break;
      case '--json': o.json = flag(); break;
      case '--quiet': o.quiet = flag(); break;
      case '--no-numpy': flag(); o.numpy = false; break;
      case '--sparse': o.sparse = flag(); break;
      case '--size': o.size = parseSize(val()); break;
      case '--file': o.file = val(); break;
      case '--html': o.html = val(); break;
      case '--runs': o.runs = parseInt1('--runs', val(), 1000); break;
      case '--workers': o.workers = parseInt1('--workers', val(), 64); break;
      case '--threads': o.threads = parseThreads(val()); break;
      case '--dtype': {
        const d = val();
        const canon = { float64: 'float64', f8: 'float64', '<f8': 'float64', float32: 'float32', f4: 'float32', '<f4': 'float32' }[d];
        if (!canon) throw new UsageError(`--dtype: '${d}' is not supported (float64 or float32)`);
        o.dtype = canon;
        break;
      }
      case '--scenarios': {
        const names = [...new Set(val().split(',').map((s) => s.trim()).filter(Boolean))];
        const bad = names.filter((n) => !SCENARIOS.includes(n));
        if (bad.length) throw new UsageError(`unknown scenario${bad.length > 1 ? 's' : ''} ${bad.map((n) => `'${n}'`).join(', ')} (known: ${SCENARIOS.join(', ')})`);
        if (!names.length) throw new UsageError('--scenarios needs at least one scenario');
        o.scenarios = names;
        break;
      }
      default:
        throw new UsageError(`unknown ${a.startsWith('-') ? 'option' : 'argument'} '${argv[i]}' (see --help)`);
    }
  }
  if (o.file !== undefined && o.size !== undefined) throw new UsageError('--size makes a data set; it cannot be combined with --file');
  if (o.file !== undefined && o.sparse) throw new UsageError('--sparse makes a data set; it cannot be combined with --file');
  if (o.file !== undefined && o.dtype !== undefined) throw new UsageError('--dtype chooses the data set\'s type; with --file the file\'s own type is used');
  return o;
}

// ---------- statistics, comparisons ----------

/** The median (mean of the middle two for an even count) and nearest-rank quantiles; null without samples. */
function quantile(xs, p) {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  if (p === 0.5 && s.length % 2 === 0) return (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
}

function finish(rows) {
  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const r of rows) {
    r.comparisons = [];
    if (r.median === null) continue;
    for (const id of r.compare ?? []) {
      const b = byId.get(id);
      if (!b || b.median === null || !(b.median > 0) || b.unit !== r.unit) continue;
      const ratio = r.unit === 's' ? b.median / r.median : r.median / b.median;
      r.comparisons.push({ against: id, kind: b.baseline ?? 'other', ratio });
    }
  }
  return rows;
}

function fmt(v, unit) {
  if (v === null || !Number.isFinite(v)) return '-';
  if (unit === 's') return v < 1e-3 ? `${(v * 1e6).toFixed(1)} µs` : v < 1 ? `${(v * 1e3).toFixed(2)} ms` : `${v.toFixed(2)} s`;
  if (unit === 'elem/s') return `${(v / 1e6).toFixed(1)} M/s`;
  return `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ${unit}`;
}

const fmtRss = (r) => (r ? `${Math.round(r.anon / MiB)} + ${Math.round(r.file / MiB)} MiB` : 'n/a');

const KINDS = [['fs.readSync', 'vs readSync'], ['fs.readFile', 'vs readFile'], ['numpy', 'vs NumPy'], ['ceiling', 'vs ceiling']];

function notesOf(r, byId) {
  const parts = [];
  if (r.error && r.error !== r.note) parts.push(`ERROR: ${r.error}`);
  if (r.note) parts.push(r.note);
  for (const c of r.comparisons ?? []) if (c.kind === 'other') parts.push(`${c.ratio.toFixed(2)}x ${byId.get(c.against)?.name ?? c.against}`);
  return parts.join('; ');
}

function table(doc) {
  const rows = doc.results;
  const byId = new Map(rows.map((r) => [r.id, r]));
  const head = ['scenario', 'median', 'p95', 'peak RSS anon+file', ...KINDS.map((k) => k[1])];
  const line = (r) => [
    r.name, fmt(r.median, r.unit), fmt(r.p95, r.unit), r.median === null ? '' : fmtRss(r.rss),
    ...KINDS.map(([k]) => {
      const c = r.comparisons.find((x) => x.kind === k);
      return c ? `${c.ratio.toFixed(2)}x` : '';
    }),
  ];
  const ours = rows.filter((r) => !r.baseline).map(line);
  const base = rows.filter((r) => r.baseline).map(line);
  const all = [head, ...ours, ...base];
  const w = head.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const render = (r) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ').trimEnd();
  const out = [render(head), w.map((n) => '-'.repeat(n)).join('  ')];
  for (const r of ours) out.push(render(r));
  if (base.length) {
    out.push('', 'baselines (same run):');
    for (const r of base) out.push(render(r));
  }
  const notes = rows.map((r) => [r.name, notesOf(r, byId)]).filter(([, n]) => n);
  if (notes.length) {
    out.push('', 'notes:');
    for (const [n, t] of notes) out.push(`  ${n}: ${t}`);
  }
  for (const e of doc.errors) out.push(`mmbench: scenario '${e.scenario}' failed: ${e.message}`);
  return out.join('\n');
}

// ---------- HTML report ----------

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

/** Tick step for an axis up to `max`: 1, 2, 2.5 or 5 times a power of ten, 4 to 8 ticks. */
function niceStep(max) {
  const raw = max / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((s) => max / s <= 8);
}

/**
 * Groups for the chart: each mmnpy GB/s figure followed by the baselines it is compared
 * with (same run), each baseline bar labelled with mmnpy's ratio to it.
 */
function chartGroups(rows) {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const ok = (r) => r && r.unit === 'GB/s' && r.median !== null;
  return rows.filter((r) => !r.baseline && ok(r)).map((r) => ({
    head: r,
    bases: r.comparisons.map((c) => ({ row: byId.get(c.against), ratio: c.ratio })).filter((b) => ok(b.row)),
  }));
}

function svgChart(rows) {
  const groups = chartGroups(rows);
  if (!groups.length) return '<p>No GB/s figures to chart.</p>';
  const all = groups.flatMap((g) => [g.head, ...g.bases.map((b) => b.row)]);
  const top0 = Math.max(...all.map((r) => Math.max(r.median, r.p95 ?? 0)));
  const step = niceStep(top0);
  const max = Math.ceil(top0 / step) * step;
  const labelW = 430;
  const plotW = 420;
  const barH = 15;
  const gap = 3;
  const groupGap = 14;
  const top = 28;
  const bars = all.length;
  const height = top + bars * (barH + gap) + groups.length * groupGap + 22;
  const x = (v) => labelW + (v / max) * plotW;
  const parts = [`<svg role="img" aria-label="median GB/s per figure, each beside its baselines" width="${labelW + plotW + 150}" height="${height}" viewBox="0 0 ${labelW + plotW + 150} ${height}" font-family="system-ui, sans-serif" font-size="12">`];
  parts.push(`<text x="8" y="14" fill="#444">median GB/s (GB = 10^9 bytes); whisker: p95; blue: mmnpy, grey: its baselines (same run), each with mmnpy's ratio to it (red below 1x)</text>`);
  for (let v = 0; v <= max + step / 1e6; v += step) {
    const gx = x(v);
    parts.push(`<line x1="${gx.toFixed(1)}" y1="${top - 6}" x2="${gx.toFixed(1)}" y2="${height - 18}" stroke="#ddd"/>`);
    parts.push(`<text x="${gx.toFixed(1)}" y="${height - 4}" text-anchor="middle" fill="#666">${Number(v.toFixed(6))}</text>`);
  }
  let y = top;
  const bar = (r, label, fill, bold, ratio) => {
    const text = label.length > 70 ? `${label.slice(0, 69)}…` : label;
    parts.push(`<text x="${labelW - 8}" y="${y + barH - 4}" text-anchor="end"${bold ? ' font-weight="600"' : ' fill="#444"'}>${esc(text)}</text>`);
    parts.push(`<rect x="${labelW}" y="${y}" width="${Math.max(1, x(r.median) - labelW).toFixed(1)}" height="${barH}" fill="${fill}"><title>${esc(`${r.name}: ${fmt(r.median, r.unit)} (p95 ${fmt(r.p95, r.unit)})`)}</title></rect>`);
    if (r.p95 !== null) parts.push(`<line x1="${x(r.p95).toFixed(1)}" y1="${y + 2}" x2="${x(r.p95).toFixed(1)}" y2="${y + barH - 2}" stroke="#111" stroke-width="2"/>`);
    const after = `${fmt(r.median, r.unit)}${ratio === undefined ? '' : `  (mmnpy ${ratio.toFixed(2)}x)`}`;
    parts.push(`<text x="${(x(Math.max(r.median, r.p95 ?? 0)) + 6).toFixed(1)}" y="${y + barH - 4}"${ratio !== undefined && ratio < 1 ? ' fill="#b00"' : ''}>${esc(after)}</text>`);
    y += barH + gap;
  };
  for (const g of groups) {
    bar(g.head, g.head.name, '#2b6cb0', true);
    for (const b of g.bases) bar(b.row, `  ${b.row.name}`, '#9aa5b1', false, b.ratio);
    y += groupGap;
  }
  parts.push('</svg>');
  return parts.join('\n');
}

function html(doc) {
  const byId = new Map(doc.results.map((r) => [r.id, r]));
  const th = ['figure', 'median', 'p95', 'peak RSS anon+file', ...KINDS.map((k) => k[1]), 'notes'];
  const tr = (r) => `<tr${r.baseline ? ' class="base"' : ''}><td>${esc(r.name)}</td><td>${esc(fmt(r.median, r.unit))}</td><td>${esc(fmt(r.p95, r.unit))}</td><td>${esc(r.median === null ? '' : fmtRss(r.rss))}</td>${KINDS.map(([k]) => {
    const c = r.comparisons.find((x) => x.kind === k);
    return `<td>${c ? `${c.ratio.toFixed(2)}x` : ''}</td>`;
  }).join('')}<td>${esc(notesOf(r, byId))}</td></tr>`;
  const m = doc.machine;
  const d = doc.dataset;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mmbench report</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#111}
table{border-collapse:collapse;font-size:13px}td,th{padding:3px 8px;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child,td:last-child{text-align:left}tr.base td{color:#555}
</style></head><body>
<h1>mmbench report</h1>
<p>mmnpy ${esc(doc.mmnpy)}, ${esc(doc.date)}. Machine: ${m.cpus} cpus (${esc(m.cpuModel)}), ${(m.totalmem / GiB).toFixed(1)} GiB RAM, ${esc(m.platform)}, Node ${esc(m.node)}${m.hypervisor ? ', virtual machine' : ''}.<br>
Data: ${(d.bytes / 1e9).toFixed(3)} GB ${esc(d.dtype)} [${d.shape.join(', ')}] ${d.temporary ? '(temporary data set)' : esc(d.file)}; ${doc.runs} runs after ${doc.warmup} warm-up. GB = 10^9 bytes. Ratios above 1x: mmnpy faster than the baseline of the same run.</p>
${svgChart(doc.results)}
<h2>All figures</h2>
<table><thead><tr>${th.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>
${doc.results.filter((r) => !r.baseline).map(tr).join('\n')}
${doc.results.filter((r) => r.baseline).map(tr).join('\n')}
</tbody></table>
${doc.errors.length ? `<h2>Errors</h2><ul>${doc.errors.map((e) => `<li>${esc(e.scenario)}: ${esc(e.message)}</li>`).join('')}</ul>` : ''}
</body></html>
`;
}

// ---------- progress bar ----------

function makeProgress(enabled, total) {
  let index = 0;
  let last = '';
  const t0 = Date.now();
  return {
    step(i) {
      index = i;
    },
    update(label) {
      if (!enabled) return;
      const w = 24;
      const f = Math.round((w * index) / total);
      const s = `[${'#'.repeat(f)}${'.'.repeat(w - f)}] ${index}/${total} ${((Date.now() - t0) / 1000).toFixed(0)}s ${label}`.slice(0, (process.stderr.columns || 80) - 1);
      process.stderr.write(`\r${s}${' '.repeat(Math.max(0, last.length - s.length))}`);
      last = s;
    },
    clear() {
      if (enabled && last) process.stderr.write(`\r${' '.repeat(last.length)}\r`);
      last = '';
    },
  };
}

// ---------- main ----------

function usageExit(msg) {
  console.error(`mmbench: ${msg}`);
  process.exit(2);
}

function loadGc() {
  try {
    require('v8').setFlagsFromString('--expose-gc');
    return require('vm').runInNewContext('gc');
  } catch {
    return () => {};
  }
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    usageExit(e.message);
  }
  if (opts.help) {
    console.log(HELP);
    return 0;
  }
  if (opts.html) {
    const dir = path.dirname(path.resolve(opts.html));
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) usageExit(`--html: folder ${dir} does not exist`);
  }
  const mm = require('..');
  const { scenarios, evict, warmCache } = require('./scenarios');
  let names = opts.scenarios ?? SCENARIOS;
  const cpus = os.availableParallelism?.() ?? os.cpus().length;
  const showProgress = !opts.json && !opts.quiet && !process.env.CI && Boolean(process.stderr.isTTY);
  const progress = makeProgress(showProgress, names.length);

  // Cleanup: the temporary folder goes on exit, Ctrl-C, SIGTERM and errors; children are killed.
  let dir;
  const children = new Set();
  const cleanup = () => {
    for (const c of children) c.kill('SIGKILL');
    children.clear();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  };
  process.on('exit', cleanup);
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
    process.on(sig, () => {
      progress.clear();
      const d = dir;
      cleanup();
      console.error(`mmbench: interrupted (${sig})${d ? `; removed ${d}` : ''}`);
      process.exit(code);
    });
  }

  const run = (cmd, args, options = {}) => new Promise((resolve) => {
    let child;
    try {
      child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    } catch (error) {
      resolve({ status: null, stdout: '', stderr: '', error });
      return;
    }
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', (error) => { children.delete(child); resolve({ status: null, stdout, stderr, error }); });
    child.on('close', (status) => { children.delete(child); resolve({ status, stdout, stderr }); });
  });

  let file = opts.file;
  let dtype = opts.dtype ?? 'float64';
  let bytes;
  let shape;
  let dataOffset;
  if (file !== undefined) {
    let st;
    try {
      st = fs.statSync(file);
      fs.accessSync(file, fs.constants.R_OK);
    } catch (e) {
      usageExit(`--file ${file}: cannot read it (${e.code ?? e.message})`);
    }
    if (!st.isFile()) usageExit(`--file ${file}: not a regular file`);
    let a;
    try {
      a = mm.loadNpy(file, { mmapMode: 'r' });
    } catch (e) {
      usageExit(`--file ${file}: not a valid .npy file (${e.code ? `${e.code}: ` : ''}${e.message})`);
    }
    const ok = (a.dtype === 'float64' || a.dtype === 'float32') && a.byteOrder !== '>' && a.nbytes > 0 && (a.flags.cContiguous || a.flags.fContiguous);
    if (!ok) {
      const what = `${a.byteOrder}${a.dtype} [${a.shape.join(', ')}]`;
      a.close();
      usageExit(`--file ${file}: the scenarios read non-empty little-endian float64 or float32 arrays (this one is ${what})`);
    }
    ({ dtype, nbytes: bytes, offset: dataOffset } = a);
    shape = [...a.shape];
    a.close();
  } else {
    bytes = opts.size ?? Math.min(GiB, Math.floor(os.totalmem() / 8));
    const itemsize = dtype === 'float32' ? 4 : 8;
    bytes -= bytes % itemsize;
    shape = [bytes / itemsize];
    if (bytes > os.totalmem() / 2) {
      if (!opts.scenarios) names = OUT_OF_CORE;
      const bad = names.filter((n) => !OUT_OF_CORE_ALLOWED.includes(n));
      if (bad.length) usageExit(`--size ${bytes} bytes is more than half the RAM: scenario${bad.length > 1 ? 's' : ''} ${bad.join(', ')} would hold, copy or write all of it; out of core these run: ${OUT_OF_CORE_ALLOWED.join(', ')}`);
    }
    const matrixBytes = names.includes('matrix') ? Math.max(1, Math.min(8192, Math.floor(bytes / 2 / (16384 * 4)))) * 16384 * 4 : 0;
    const need = (opts.sparse ? 0 : bytes) + (names.includes('write') ? bytes : 0) + (names.includes('everyday') ? Math.ceil(bytes * 1.125) : 0) + (names.includes('npz') ? 2 * bytes : 0) + (names.includes('joblib') ? 2 * bytes + 512 * MiB : 0) + (names.includes('kernels') ? Math.ceil(bytes / 2) : 0) + (names.includes('dot') ? Math.ceil(bytes / 2) : 0) + (names.includes('etl') ? 2 * bytes : 0) + (names.includes('sparse') ? 2 * Math.min(bytes, 12 * 96 * MiB) : 0) + matrixBytes + 64 * MiB;
    let free;
    try {
      const s = fs.statfsSync(os.tmpdir());
      free = s.bavail * s.bsize;
    } catch {
      free = Infinity;
    }
    if (need > free) usageExit(`--size ${bytes} bytes: the scenarios need ${(need / 1e9).toFixed(2)} GB free in ${os.tmpdir()}, only ${(free / 1e9).toFixed(2)} GB are free (use a smaller --size or set TMPDIR)`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmbench-'));
    file = path.join(dir, `data-${dtype}.npy`);
    progress.update('creating the data set');
    const a = mm.openNpy(file, { mode: 'w+', dtype, shape });
    dataOffset = a.offset;
    // The values cycle 0, 0.001, ..., 0.999; blocks of 8e6 elements repeat the first block.
    // A sparse data set stays all holes (zeros).
    let first;
    for (const c of opts.sparse ? [] : a.chunks({ rows: 8_000_000 })) {
      const d = c.data;
      if (!first) {
        for (let i = 0; i < d.length; i++) d[i] = (i % 1000) * 0.001;
        first = d;
      } else d.set(first.subarray(0, d.length));
      await new Promise((r) => setImmediate(r));
    }
    a.flush();
    a.close();
  }

  const itemsize = dtype === 'float32' ? 4 : 8;
  const threads = opts.threads ?? Array.from({ length: cpus }, (_, i) => i + 1);
  const workers = opts.workers ?? Math.min(8, Math.max(2, cpus));
  const machine = {
    cpus,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    totalmem: os.totalmem(),
    platform: `${process.platform}-${process.arch}`,
    node: process.version,
    hypervisor: process.platform === 'linux' && (() => { try { return /\bhypervisor\b/.test(fs.readFileSync('/proc/cpuinfo', 'utf8')); } catch { return false; } })(),
  };
  if (!opts.json) {
    console.log(`mmbench: ${(bytes / 1e9).toFixed(3)} GB ${dtype} [${shape.join(', ')}] ${opts.file ? `from ${opts.file} (read-only)` : `temporary ${opts.sparse ? 'sparse ' : ''}data set in ${dir}`}${bytes > os.totalmem() / 2 ? ', out of core (more than half the RAM)' : ''}`);
    console.log(`mmbench: ${opts.runs} runs after 1 warm-up, ${cpus} cpus, ${(os.totalmem() / GiB).toFixed(1)} GiB RAM, node ${process.version}; GB = 10^9 bytes`);
  }

  const results = [];
  const errors = [];
  const ctx = {
    file, bytes, dtype, itemsize, shape, dataOffset, runs: opts.runs, numpy: opts.numpy,
    python: process.env.PYTHON || 'python3', scratch: dir ?? null, threads, workers, cpus,
    run, gc: loadGc(), progress: (label) => progress.update(label),
  };
  if (!opts.file && bytes <= os.totalmem() / 2) {
    // A file just written through a mapping sits in the page cache in small pages;
    // one read back by readahead sits in large folios, which map several times
    // faster on first touch (NumPy and mmnpy alike). Put the new data set in the
    // state of a user's existing file, so every scenario and baseline sees the same.
    progress.update('settling the data set in the page cache');
    await evict(ctx, file);
    warmCache(file);
  }
  for (const [i, n] of names.entries()) {
    progress.step(i);
    progress.update(n);
    try {
      const rows = await scenarios[n](ctx);
      for (const r of rows) {
        const samples = r.samples.filter(Number.isFinite);
        results.push({
          id: r.id, scenario: n, name: r.name, unit: r.unit, baseline: r.baseline ?? null,
          samples, median: quantile(samples, 0.5), p95: quantile(samples, 0.95),
          rss: r.rss ?? null, memit: r.memit ?? null, compare: r.compare, note: r.note ?? null, error: r.error ?? null, extra: r.extra ?? null,
        });
        if (r.error) errors.push({ scenario: n, message: `${r.id}: ${r.error}` });
      }
    } catch (e) {
      errors.push({ scenario: n, message: e?.message ?? String(e) });
    }
    ctx.gc();
  }
  progress.step(names.length);
  progress.clear();
  finish(results);

  const doc = {
    tool: 'mmbench',
    schemaVersion: 1,
    mmnpy: require('../package.json').version,
    date: new Date().toISOString(),
    gb: 1e9,
    runs: opts.runs,
    warmup: 1,
    machine,
    dataset: { file: opts.file ? path.resolve(opts.file) : null, temporary: !opts.file, bytes, dtype, shape },
    scenarios: names,
    errors,
    results: results.map(({ compare, ...r }) => r),
  };
  if (opts.json) console.log(JSON.stringify(doc, null, 2));
  else console.log(`\n${table(doc)}`);
  if (opts.html) {
    fs.writeFileSync(opts.html, html(doc));
    if (!opts.quiet && !opts.json) console.error(`mmbench: wrote ${opts.html}`);
  }
  return errors.length ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(`mmbench: ${e?.stack ?? e}`);
    process.exitCode = 1;
  },
);
