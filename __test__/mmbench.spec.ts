// The `mmbench` CLI (benchmark/mmbench.js), run as a child process on small data sets:
// the table, --json against its JSON Schema, --html, --file, argument errors (exit 2),
// the progress bar, and that the temporary data set is removed, also after SIGINT.
import test from 'ava'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { array, saveNpy } from '../index'
import { leftovers, mmbench, SCHEMA, start, tmpRoot } from './helpers/mmbench-run'
import { validate } from './helpers/mmbench-schema'

const schema = JSON.parse(fs.readFileSync(SCHEMA, 'utf8'))
const roots: string[] = []
const tmp = () => {
  const d = tmpRoot()
  roots.push(d)
  return d
}
test.after.always(() => {
  for (const d of roots) fs.rmSync(d, { recursive: true, force: true })
})

const SMALL = ['--size', '8MiB', '--runs', '1']
const ALL = ['ceiling', 'open', 'small', 'get', 'firstPass', 'steady', 'sum', 'meanStd', 'cow', 'column', 'matrix', 'everyday', 'budget', 'write', 'cold', 'threads', 'kernels', 'dot', 'etl', 'workers', 'parallel', 'numpy', 'npz', 'joblib', 'h5write', 'hdf5', 'sparse']
const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex')

test('a tiny run prints the table of every scenario and removes its data set', async (t) => {
  const dir = tmp()
  const r = await mmbench(SMALL, { tmp: dir })
  t.is(r.code, 0, r.stderr)
  t.regex(r.stdout, /^mmbench: 0\.008 GB float64 \[1048576\] temporary data set in .*mmbench-/m)
  t.regex(r.stdout, /GB = 10\^9 bytes/)
  t.regex(r.stdout, /^scenario\s+median\s+p95\s+peak RSS anon\+file\s+vs readSync\s+vs readFile\s+vs NumPy\s+vs ceiling$/m)
  for (const row of ['open: loadNpy', 'first pass, fresh mapping', 'sum\\(\\), steady state', 'copy-on-write normalize', 'column: m\\.slice\\(null, j\\)\\.sum\\(\\)', 'cold pass', 'sum\\(\\) steady, MMNPY_THREADS=1', 'sum\\(\\) float64, one thread', 'sum\\(\\{ axis: 0 \\}\\) of \\[\\d+, \\d+\\] float32, all cores', 'assign: w\\.assign\\(a\\)', 'compress: a\\.compress\\(m\\)', '\\d+ worker_threads']) {
    t.regex(r.stdout, new RegExp(`^${row}.*\\d`, 'm'), row)
  }
  t.regex(r.stdout, /^sum\(\), steady state\s+[\d.]+ GB\/s\s+[\d.]+ GB\/s\s+(\d+ \+ \d+ MiB|n\/a)\s+[\d.]+x/m)
  t.regex(r.stdout, /^baselines \(same run\):$/m)
  t.regex(r.stdout, /^fs\.readFileSync \+ JS loop\s+[\d.]+ GB\/s/m)
  t.regex(r.stdout, /^ceiling: native read/m)
  t.regex(r.stdout, /file unchanged \(sha256 verified\)/)
  t.regex(r.stdout, /cold pass: sum\(\) after eviction: (posix_fadvise|cannot evict)/)
  t.false(r.stderr.includes('\r'), 'no progress bar when stderr is not a terminal')
  t.deepEqual(leftovers(dir), [])
})

test('--json prints one document that validates against benchmark/mmbench.schema.json', async (t) => {
  const dir = tmp()
  const r = await mmbench([...SMALL, '--json', '--threads', '1,2'], { tmp: dir })
  t.is(r.code, 0, r.stderr)
  t.is(r.stderr, '')
  const doc = JSON.parse(r.stdout)
  t.deepEqual(validate(schema, doc), [])
  t.is(doc.dataset.bytes, 8 * 2 ** 20)
  t.is(doc.dataset.dtype, 'float64')
  t.true(doc.dataset.temporary)
  t.deepEqual(doc.scenarios, ALL)
  t.deepEqual(doc.errors, [])
  const ids = new Set<string>(doc.results.map((x: { id: string }) => x.id))
  for (const id of ['ceiling.read', 'open', 'firstPass', 'fs.readSync', 'fs.readFile', 'sum.steady', 'cow', 'column.sum', 'column.copy', 'everyday.assign.one', 'everyday.numpy.assign', 'everyday.compress.one', 'everyday.numpy.compress', 'threads.1', 'threads.2', 'kernels.float64.sum.one', 'kernels.float32.argmax.all', 'kernels.numpy.float64.sumAxisLast', 'dot.f64.matvec', 'dot.f32.matvec', 'dot.f64.matmat', 'dot.numpy.f32.matmat', 'workers', 'parallel.threads', 'parallel.processes', 'parallel.roundtrip.threads', 'cold', 'write', 'numpy.steady', 'npz.open', 'npz.sum', 'npz.deflate', 'joblib.load', 'joblib.dump', 'joblib.cdump', 'joblib.cload', 'h5write.gzip', 'h5write.contig', 'h5write.h5py.gzip', 'hdf5.gzip', 'hdf5.gzip.one', 'hdf5.column', 'hdf5.mmap.open', 'hdf5.mmap.sum', 'hdf5.h5py.gzip']) t.true(ids.has(id), id)
  for (const x of doc.results) {
    for (const c of x.comparisons) t.true(ids.has(c.against), `${x.id} compares with ${c.against}`)
    if (x.samples.length) t.true(x.median > 0, x.id)
  }
  const steady = doc.results.find((x: { id: string }) => x.id === 'sum.steady')
  t.is(steady.unit, 'GB/s')
  t.is(steady.samples.length, 1)
  t.true(steady.comparisons.some((c: { kind: string }) => c.kind === 'ceiling'))
  t.true(steady.comparisons.some((c: { kind: string }) => c.kind === 'fs.readSync'))
  if (process.platform === 'linux') t.true(steady.rss.file > 0 && steady.rss.anon > 0)
  for (const k of [1, 2]) t.is(doc.results.find((x: { id: string }) => x.id === `threads.${k}`).extra.poolThreads, k)
  t.true(doc.results.find((x: { id: string }) => x.id === 'cow').extra.unchanged)
  // A column of a row-chunked HDF5 dataset: no more chunks read than h5py reads.
  const col = doc.results.find((x: { id: string }) => x.id === 'hdf5.column')
  t.true(col.extra.chunks > 0 && col.extra.chunks === col.extra.h5pyChunks, JSON.stringify(col.extra))
  t.deepEqual(leftovers(dir), [])
})

test('the schema validator catches missing fields and wrong types', (t) => {
  const ok = {
    tool: 'mmbench', schemaVersion: 1, mmnpy: '0.1.0', date: '2026-01-01T00:00:00.000Z', gb: 1e9, runs: 1, warmup: 1,
    machine: { cpus: 2, cpuModel: 'x', totalmem: 1, platform: 'linux-x64', node: 'v20', hypervisor: false },
    dataset: { file: null, temporary: true, bytes: 8, dtype: 'float64', shape: [1] },
    scenarios: ['sum'], errors: [],
    results: [{ id: 'sum.steady', scenario: 'sum', name: 'sum', unit: 'GB/s', baseline: null, samples: [1], median: 1, p95: 1, rss: null, comparisons: [], note: null, error: null, extra: null }],
  }
  t.deepEqual(validate(schema, ok), [])
  const { runs, ...noRuns } = ok
  t.true(validate(schema, noRuns).some((e) => e.includes("missing required 'runs'")))
  t.true(validate(schema, { ...ok, results: [{ ...ok.results[0], median: 'fast' }] }).some((e) => e.includes('$.results[0].median')))
  t.true(validate(schema, { ...ok, results: [{ ...ok.results[0], unit: 'MB/s' }] }).length > 0)
  t.true(validate(schema, { ...ok, results: [{ ...ok.results[0], rss: { anon: 1 } }] }).length > 0)
  t.true(validate(schema, { ...ok, dataset: { ...ok.dataset, dtype: 'int8' } }).length > 0)
  t.true(validate(schema, { ...ok, extra: 1 }).some((e) => e.includes("unexpected property 'extra'")))
  t.is(runs, 1)
})

test('--html writes a self-contained report with an SVG chart', async (t) => {
  const dir = tmp()
  const out = path.join(dir, 'report.html')
  const r = await mmbench([...SMALL, '--scenarios', 'sum,steady,numpy', '--html', out], { tmp: dir })
  t.is(r.code, 0, r.stderr)
  const page = fs.readFileSync(out, 'utf8')
  t.regex(page, /^<!doctype html>/)
  t.regex(page, /<svg[^>]*>[\s\S]*<rect[\s\S]*<\/svg>/)
  t.regex(page, /sum\(\), steady state/)
  // Each mmnpy bar is followed by its baselines, each with mmnpy's ratio printed on it.
  t.regex(page, /font-weight="600">sum\(\), steady state<\/text>[\s\S]*?NumPy[^<]*<\/text>[\s\S]*?\(mmnpy \d+\.\d\dx\)/)
  // Round ticks: 0 and equal steps of 1, 2, 2.5 or 5 times a power of ten.
  const ticks = [...page.matchAll(/text-anchor="middle" fill="#666">([\d.]+)</g)].map((m) => Number(m[1]))
  t.true(ticks.length >= 3, String(ticks))
  t.is(ticks[0], 0)
  const step = ticks[1]! - ticks[0]!
  const mant = step / 10 ** Math.floor(Math.log10(step))
  t.true([1, 2, 2.5, 5].some((m) => Math.abs(mant - m) < 1e-9), `tick step ${step}`)
  for (let i = 1; i < ticks.length; i++) t.true(Math.abs(ticks[i]! - ticks[i - 1]! - step) < 1e-9, String(ticks))
  t.notRegex(page, /https?:\/\//)
  t.notRegex(page, /<(script|link|img|iframe)\b/i)
  t.notRegex(page, /\bsrc=/)
  t.deepEqual(leftovers(dir), [])
})

const bad: [string[], RegExp][] = [
  [['--bogus'], /unknown option '--bogus'/],
  [['--scenarios', 'sum,nope'], /unknown scenario 'nope' \(known: ceiling, open/],
  [['--size', '12 parsecs'], /--size: cannot read '12 parsecs'/],
  [['--size', '100'], /--size: 100 is too small/],
  [['--size', '900TB'], /need .* GB free in .*only .* GB are free/],
  [['--size'], /--size needs a value/],
  [['--runs', '0'], /--runs must be an integer from 1/],
  [['--dtype', 'int8'], /--dtype: 'int8' is not supported/],
  [['--threads', '0,2'], /--threads must be an integer from 1/],
  [['--json=yes'], /--json takes no value/],
  [['--file', 'x.npy', '--size', '8MiB'], /cannot be combined with --file/],
  [['--html', '/no/such/dir/r.html'], /--html: folder \/no\/such\/dir does not exist/],
  [['stray'], /unknown argument 'stray'/],
]

test('bad arguments exit 2 with a clear message and leave nothing behind', async (t) => {
  const dir = tmp()
  await Promise.all(
    bad.map(async ([args, re]) => {
      const r = await mmbench(args, { tmp: dir })
      t.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      t.regex(r.stderr, /^mmbench: /)
      t.regex(r.stderr, re)
      t.is(r.stdout, '')
    }),
  )
  t.deepEqual(leftovers(dir), [])
})

test('--file exits 2 for a missing, non-npy or unsupported file', async (t) => {
  const dir = tmp()
  const text = path.join(dir, 'notes.npy')
  fs.writeFileSync(text, 'this is not a .npy file\n')
  const ints = path.join(dir, 'ints.npy')
  saveNpy(ints, new Int32Array([1, 2, 3]))
  const cases: [string, RegExp][] = [
    [text, /not a valid \.npy file \(ERR_MMNPY_BAD_MAGIC/],
    [path.join(dir, 'missing.npy'), /cannot read it \(ENOENT\)/],
    [dir, /not a regular file/],
    [ints, /float64 or float32 .*this one is <int32 \[3\]/],
  ]
  for (const [file, re] of cases) {
    const r = await mmbench(['--file', file, '--runs', '1'], { tmp: dir })
    t.is(r.code, 2, r.stderr)
    t.regex(r.stderr, re)
  }
  t.deepEqual(leftovers(dir), [])
})

test('--file benchmarks an existing float32 matrix read-only', async (t) => {
  const dir = tmp()
  const file = path.join(dir, 'm.npy')
  const rows = 512
  const cols = 1024
  saveNpy(file, array(Float32Array.from({ length: rows * cols }, (_, i) => (i % 97) / 8), { dtype: 'float32', shape: [rows, cols] }))
  const before = sha(file)
  const mtime = fs.statSync(file).mtimeMs
  const r = await mmbench(['--file', file, '--runs', '1', '--json', '--no-numpy', '--scenarios', 'sum,cow,column,write,matrix,firstPass'], { tmp: dir })
  t.is(r.code, 0, r.stderr)
  const doc = JSON.parse(r.stdout)
  t.deepEqual(validate(schema, doc), [])
  t.is(doc.dataset.file, file)
  t.false(doc.dataset.temporary)
  t.is(doc.dataset.dtype, 'float32')
  t.deepEqual(doc.dataset.shape, [rows, cols])
  const by = (id: string) => doc.results.find((x: { id: string }) => x.id === id)
  t.true(by('sum.steady').median > 0)
  t.true(by('fs.readSync').median > 0)
  t.regex(by('column.sum').note, /^512x1024 float32/)
  t.deepEqual(by('write').samples, [])
  t.regex(by('write').note, /skipped with --file/)
  t.regex(by('matrix.minmax').note, /skipped with --file/)
  t.regex(by('cow.numpy').note, /--no-numpy/)
  t.true(by('cow').extra.unchanged)
  t.is(sha(file), before)
  t.is(fs.statSync(file).mtimeMs, mtime)
  t.deepEqual(fs.readdirSync(dir), ['m.npy'], 'no scratch files next to the file, no temporary data set')
})

test('--dtype float32 makes a float32 data set', async (t) => {
  const dir = tmp()
  const r = await mmbench([...SMALL, '--dtype', 'float32', '--json', '--scenarios', 'sum,firstPass,cow'], { tmp: dir })
  t.is(r.code, 0, r.stderr)
  const doc = JSON.parse(r.stdout)
  t.deepEqual(validate(schema, doc), [])
  t.is(doc.dataset.dtype, 'float32')
  t.deepEqual(doc.dataset.shape, [2 * 2 ** 20])
  t.deepEqual(doc.errors, [])
  t.deepEqual(leftovers(dir), [])
})

test('SIGINT removes the temporary data set', async (t) => {
  const dir = tmp()
  t.deepEqual(leftovers(dir), [])
  const run = start(['--size', '32MiB', '--runs', '200', '--no-numpy', '--scenarios', 'steady,firstPass,sum'], { tmp: dir })
  await run.waitFor(/temporary data set in /)
  const made = leftovers(dir)
  t.is(made.length, 1)
  t.true(fs.readdirSync(path.join(dir, made[0]!)).some((n) => n.endsWith('.npy')))
  run.child.kill('SIGINT')
  const r = await run.done
  t.is(r.code, 130, r.stderr)
  t.regex(r.stderr, /mmbench: interrupted \(SIGINT\); removed .*mmbench-/)
  t.deepEqual(leftovers(dir), [])
})

test('the progress bar is drawn on a terminal only, and never with --json, --quiet or CI', async (t) => {
  const dir = tmp()
  const preload = path.join(__dirname, 'helpers', 'mmbench-tty.js')
  const args = ['--size', '1MiB', '--runs', '1', '--scenarios', 'open,steady']
  const [tty, json, quiet, ci] = await Promise.all([
    mmbench(args, { tmp: dir, preload }),
    mmbench([...args, '--json'], { tmp: dir, preload }),
    mmbench([...args, '--quiet'], { tmp: dir, preload }),
    mmbench(args, { tmp: dir, preload, env: { CI: 'true' } }),
  ])
  for (const r of [tty, json, quiet, ci]) t.is(r.code, 0, r.stderr)
  t.regex(tty.stderr, /\r\[#*\.*\] \d+\/2 \d+s (open|steady)/)
  for (const r of [json, quiet, ci]) t.false(r.stderr.includes('\r'))
  t.deepEqual(leftovers(dir), [])
})

test('--help describes the options and the JSON schema', async (t) => {
  const r = await mmbench(['--help'], { tmp: tmp() })
  t.is(r.code, 0)
  for (const s of ['--size', '--file', '--runs', '--scenarios', '--threads', '--dtype', '--json', '--html', '--no-numpy', '--quiet', 'benchmark/mmbench.schema.json', 'GB = 10^9', 'cow,column', 'Exit codes']) {
    t.true(r.stdout.includes(s), s)
  }
})
