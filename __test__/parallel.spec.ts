// Parallel: both backends, results in order, nested arguments and results, shared writable
// output checked by NumPy, auto-memmapping and its temporary folder, errors, dying workers,
// abort, a full temporary folder, memory of workers, mapping handles and the per-worker cache.
// Serial: every test starts workers, and the machine has two cores.
import test from 'ava'
import { spawn, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import { array, loadNpy, MmnpyError, NdArray, openNpy, Parallel, saveNpy, zeros } from '../index'
import type { MemitResult, ParallelBackend } from '../index'
import { py, tmpDir } from './helpers/numpy'

const binding = require('../binding.js') as { sharedLiveCount(): number }
const WORK = path.join(__dirname, 'helpers', 'parallel-work.js')
const BACKENDS: ParallelBackend[] = ['threads', 'processes']
const MB = 2 ** 20

/** Polls `cond` until it holds or the deadline passes; returns its last value. */
async function waitFor<T>(cond: () => T, ms = 30_000): Promise<T> {
  const end = Date.now() + ms
  let v = cond()
  while (!v && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 10))
    v = cond()
  }
  return v
}

/** `waitFor` of an async condition. */
async function waitForAsync(cond: () => Promise<boolean>, ms = 30_000): Promise<boolean> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) return false
    await new Promise((r) => setTimeout(r, 10))
  }
  return true
}

function mmnpyFolders(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => /^mmnpy-\d+-/.test(n)) : []
}

/** A (rows, 8) float64 file, element [i, j] = i * 8 + j. */
function rowsFile(dir: string, rows: number): string {
  const f = path.join(dir, `rows-${rows}.npy`)
  saveNpy(f, Float64Array.from({ length: rows * 8 }, (_, i) => i), { shape: [rows, 8] })
  return f
}

for (const backend of BACKENDS) {
  test.serial(`${backend}: map returns results in order, reports progress, and run returns one`, async (t) => {
    const dir = tmpDir(t)
    const a = loadNpy(rowsFile(dir, 1000), { mmapMode: 'r' })
    await using pool = new Parallel({ nJobs: 2, backend })
    const ranges = Array.from({ length: 10 }, (_, k) => [a, k * 100, (k + 1) * 100])
    const progress: [number, number][] = []
    const sums = await pool.map(WORK, 'rowSum', ranges, { onProgress: (d, n) => progress.push([d, n]) })
    t.deepEqual(sums, ranges.map(([, s, e]) => a.slice([s as number, e as number]).sum()))
    t.deepEqual(progress, Array.from({ length: 10 }, (_, k) => [k + 1, 10]))
    t.is(await pool.run(new URL(`file://${WORK}`), 'total', [a]), a.sum())
    t.deepEqual(await pool.map(WORK, 'total', []), [])
    a.close()
  })

  test.serial(`${backend}: nested arguments and results; file-backed arrays arrive mapped, small ones copied`, async (t) => {
    const dir = tmpDir(t)
    const file = rowsFile(dir, 100)
    const a = loadNpy(file, { mmapMode: 'r' })
    const big = loadNpy(file, { mmapMode: 'r+' })
    const small = array([1, 2, 3], { dtype: '>i4' })
    await using pool = new Parallel({ nJobs: 1, backend })
    const got = await pool.run(WORK, 'describe', [{ a, list: [a.slice('10:20, ::2'), { small }], m: new Map([['k', big.T]]), s: new Set([1n]), n: 7, [Symbol.iterator]: undefined, __mmnpy_wire__: 'kept' }])
    const d = (x: typeof a) => ({ dtype: x.dtype, byteOrder: x.byteOrder, shape: [...x.shape], mode: x.mode, filename: x.filename, sum: Number(x.sum()), first: Number(x.get(...x.shape.map(() => 0))) })
    t.deepEqual(got, {
      a: d(a),
      list: [d(a.slice('10:20, ::2')), { small: { ...d(small), mode: null, filename: null } }],
      m: { map: [['k', d(big.T)]] },
      s: { set: [1n] },
      n: 7,
      __mmnpy_wire__: 'kept',
    })
    // Arrays come back: mapped ones as views of the same file, in-memory ones copied.
    const [view, copy] = (await pool.run(WORK, 'echo', [[a.slice('5:7, 1'), small]])) as (typeof a)[]
    t.is(view!.filename, file)
    t.is(view!.mode, 'r')
    t.deepEqual(view!.toArray(), [41, 49])
    t.is(copy!.mode, null)
    t.is(copy!.byteOrder, '>')
    t.deepEqual(copy!.toArray(), [1, 2, 3])
    a.close()
    big.close()
  })

  test.serial(`${backend}: workers write disjoint slices of a 'w+' output that NumPy then reads`, async (t) => {
    const dir = tmpDir(t)
    const a = loadNpy(rowsFile(dir, 1000), { mmapMode: 'r' })
    const outFile = path.join(dir, 'out.npy')
    const out = openNpy(outFile, { mode: 'w+', shape: [1000, 8], dtype: 'float64' })
    await using pool = new Parallel({ nJobs: 2, backend })
    const n = await pool.map(WORK, 'double', Array.from({ length: 4 }, (_, k) => [a, out, k * 250, (k + 1) * 250]))
    t.deepEqual(n, [250, 250, 250, 250])
    // The main thread sees every write once the tasks settled.
    t.is(out.get(999, 7), 2 * 7999)
    out.flush()
    const r = py(`a = np.load(inp[0]); b = np.load(inp[1]); out(bool((b == 2 * a).all()))`, [a.filename, outFile])
    t.true(r)
    a.close()
    out.close()
  })

  test.serial(`${backend}: record, datetime and string arrays cross both ways, field views of 12-byte records too; NumPy sees the writes`, async (t) => {
    const file = path.join(tmpDir(t), 'rec.npy')
    const rec = openNpy(file, { mode: 'w+', dtype: [['t', '<M8[ns]'], ['x', '<f4']], shape: [3] })
    rec.set(0, { t: 1n, x: 1.5 })
    rec.set(1, { t: null, x: -2 })
    rec.set(2, { t: 1_700_000_000_000_000_000n, x: 0.25 })
    const when = array([19000n, null, 5n], { dtype: 'datetime64[D]' })
    const names = array(['ab', 'ü', ''], { dtype: 'str3' })
    await using pool = new Parallel({ nJobs: 2, backend })
    const r = (await pool.run(WORK, 'records', [rec, rec.field('x'), when, names])) as Record<string, NdArray & unknown>
    t.deepEqual(r.dtypes, ["[('t', '<M8[ns]'), ('x', '<f4')]", 'float32', 'datetime64[D]', 'str3'])
    t.is(r.t!.dtype, 'datetime64[ns]')
    t.is(r.t!.filename, rec.filename)
    t.deepEqual(r.t!.toArray(), [1n, null, 1_700_000_000_000_000_000n])
    t.deepEqual(r.last, { t: 1_700_000_000_000_000_000n, x: 0.5 })
    t.deepEqual((r.when as NdArray).toArray(), [19000n, null, 5n])
    t.deepEqual((r.ticks as NdArray).toArray(), [19000n, -(2n ** 63n), 5n])
    t.deepEqual((r.names as NdArray).toArray(), ['ab', 'ü', ''])
    // The worker's writes through the field view reached the file the main thread maps.
    t.deepEqual(rec.field('x').toArray(), [3, -4, 0.5])
    rec.flush()
    t.deepEqual(py(`a = np.load(inp); out([a['x'].tolist(), [str(v) for v in a['t']]])`, file), [[3, -4, 0.5], ['1970-01-01T00:00:00.000000001', 'NaT', '2023-11-14T22:13:20.000000000']])
    for (const v of [r.t, r.when, r.ticks, r.names]) (v as NdArray).close()
    rec.close()
  })

  test.serial(`${backend}: a read-only input refuses writes with the mode-'r' error and a hint`, async (t) => {
    const dir = tmpDir(t)
    const a = loadNpy(rowsFile(dir, 10), { mmapMode: 'r' })
    await using pool = new Parallel({ nJobs: 1, backend })
    const e = await t.throwsAsync(pool.run(WORK, 'tryWrite', [a]), { instanceOf: MmnpyError, code: 'ERR_MMNPY_READONLY' })
    t.regex(e!.message, /assignment destination is read-only \(.*rows-10\.npy is open in mode 'r'\)/)
    t.regex(e!.message, /openNpy\(path, \{ mode: 'w\+'/)
    // Auto-memmapped inputs are read-only too; small in-memory ones are the worker's own copies.
    await t.throwsAsync(pool.run(WORK, 'tryWrite', [zeros([MB])]), { code: 'ERR_MMNPY_READONLY' })
    t.is(await pool.run(WORK, 'tryWrite', [zeros([4])]), 'written')
    a.close()
  })

  test.serial(`${backend}: in-memory arrays over maxNbytes are memmapped from the temp folder, which is empty after close`, async (t) => {
    const temp = tmpDir(t)
    const big = array(Float64Array.from({ length: 300_000 }, (_, i) => i % 7)) // 2.4 MB > 1M
    const small = array(Float64Array.from({ length: 1000 }, (_, i) => i))
    const pool = new Parallel({ nJobs: 2, backend, tempFolder: temp })
    const seen = (await pool.map(WORK, 'describe', [[[big, small]], [[big.slice('::2'), small]]])) as { filename: string | null; mode: string | null; sum: number }[][]
    const [[b0, s0], [b1]] = seen as [[typeof seen[0][0], typeof seen[0][0]], [typeof seen[0][0]]]
    t.is(b0.mode, 'r')
    t.regex(b0.filename!, new RegExp(`^${temp}/mmnpy-${process.pid}-[0-9A-Za-z]+/\\d+\\.npy$`))
    t.is(b0.sum, Number(big.sum()))
    t.is(b1.sum, Number(big.slice('::2').sum()))
    t.is(s0.mode, null)
    t.is(s0.filename, null)
    // Each call's files are removed when it settles; the folder when the pool closes.
    const folders = mmnpyFolders(temp)
    t.is(folders.length, 1)
    t.deepEqual(fs.readdirSync(path.join(temp, folders[0]!)).filter((f) => f.endsWith('.npy')), [])
    await pool.close()
    t.deepEqual(mmnpyFolders(temp), [])
    // maxNbytes: null copies instead.
    await using copying = new Parallel({ nJobs: 1, backend, tempFolder: temp, maxNbytes: null })
    const [c] = (await copying.run(WORK, 'describe', [[big]])) as { mode: string | null }[]
    t.is(c!.mode, null)
    t.deepEqual(mmnpyFolders(temp), [])
  })

  test.serial(`${backend}: the first failing task rejects with the worker's error and index; the rest never start`, async (t) => {
    const dir = tmpDir(t)
    const log = path.join(dir, 'log')
    await using pool = new Parallel({ nJobs: 1, backend })
    const e = await t.throwsAsync(pool.map(WORK, 'failAt', [0, 1, 2, 3, 4, 5].map((i) => [i, 2, log])), { instanceOf: TypeError, message: 'task 2 refuses' })
    const err = e as TypeError & { code: string; taskIndex: number }
    t.is(err.code, 'E_TEST_REFUSED')
    t.is(err.taskIndex, 2)
    t.true(err.stack!.includes('parallel-work.js'), err.stack)
    t.true(err.stack!.includes('task 2 of Parallel.map (failAt in'), err.stack)
    t.deepEqual(fs.readFileSync(log, 'utf8').trim().split('\n'), ['0', '1', '2'])
    // The pool stays usable.
    t.deepEqual(await pool.map(WORK, 'failAt', [[0, -1, null], [1, -1, null]]), [0, 1])
  })

  test.serial(`${backend}: a worker that exits rejects its task with ERR_MMNPY_WORKER_DIED and is replaced`, async (t) => {
    await using pool = new Parallel({ nJobs: 2, backend })
    const e = await t.throwsAsync(pool.map(WORK, 'exit', [[7]]), { instanceOf: MmnpyError, code: 'ERR_MMNPY_WORKER_DIED' })
    t.regex(e!.message, /exited with code 7 while running task 0 of Parallel\.map \(exit in .*parallel-work\.js\)/)
    t.is((e as MmnpyError & { taskIndex: number }).taskIndex, 0)
    t.deepEqual(await pool.map(WORK, 'failAt', [[0, -1, null], [1, -1, null], [2, -1, null]]), [0, 1, 2])
  })

  test.serial(`${backend}: aborting the signal cancels the tasks not started`, async (t) => {
    const dir = tmpDir(t)
    const log = path.join(dir, 'log')
    const gate = path.join(dir, 'gate')
    await using pool = new Parallel({ nJobs: 1, backend })
    const ac = new AbortController()
    const p = pool.map(WORK, 'gated', [0, 1, 2, 3].map((i) => [i, log, gate]), { signal: ac.signal })
    t.true(await waitFor(() => fs.existsSync(log)))
    ac.abort(new Error('stop'))
    const e = await t.throwsAsync(p, { name: 'AbortError' })
    t.is((e as Error & { code: string }).code, 'ABORT_ERR')
    fs.writeFileSync(gate, '')
    // The running task finishes on its own; the others never start.
    t.deepEqual(await pool.map(WORK, 'failAt', [[9, -1, null]]), [9])
    t.deepEqual(fs.readFileSync(log, 'utf8').trim().split('\n'), ['0'])
    // A pool-wide signal: calls reject once it aborts, later ones at once.
    const pc = new AbortController()
    const aborted = new Parallel({ nJobs: 1, backend, signal: pc.signal })
    pc.abort()
    await t.throwsAsync(aborted.run(WORK, 'pid', []), { name: 'AbortError' })
    await aborted.close()
  })
}

for (const backend of BACKENDS) {
  test.serial(`${backend}: an argument that cannot cross rejects with a clear TypeError; the task module is imported once per worker`, async (t) => {
    await using pool = new Parallel({ nJobs: 1, backend })
    const e = await t.throwsAsync(pool.run(WORK, 'echo', [() => 1]), { instanceOf: TypeError, code: 'ERR_MMNPY_INVALID_ARG' })
    t.regex(e!.message, /^the arguments of task 0 of Parallel\.run \(echo in .*\) cannot be sent to a worker: .*could not be cloned/)
    for (let i = 0; i < 20; i++) t.is(await pool.run(WORK, 'loads', []), 1)
  })
}

test.serial('threads: a task error carries the frames of the async function awaiting the call', async (t) => {
  await using pool = new Parallel({ nJobs: 1, backend: 'threads' })
  async function callerOfTheFailingTask(): Promise<unknown> {
    return await pool.run(WORK, 'failAt', [0, 0, null])
  }
  const e = await t.throwsAsync(callerOfTheFailingTask(), { instanceOf: TypeError, message: 'task 0 refuses' })
  t.true(e!.stack!.includes('task 0 of Parallel.run (failAt in'), e!.stack)
  t.true(e!.stack!.includes('callerOfTheFailingTask'), e!.stack)
})

test.serial('threads: an uncaught error in a worker rejects its task with the error named; a result that cannot cross rejects clearly', async (t) => {
  await using pool = new Parallel({ nJobs: 1, backend: 'threads' })
  const e = await t.throwsAsync(pool.run(WORK, 'lateThrow', []), { instanceOf: MmnpyError, code: 'ERR_MMNPY_WORKER_DIED' })
  t.regex(e!.message, /a worker threw an uncaught RangeError: late failure while running task 0 of Parallel\.run/)
  await t.throwsAsync(pool.run(WORK, 'returnFunction', []), { name: 'DataCloneError', message: /the task's result cannot be sent to the main thread/ })
  t.is(await pool.run(WORK, 'failAt', [3, -1, null]), 3)
})

test.serial('threads: workers run their kernels on the shared pool, with the same results as the main thread', async (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'big.npy')
  // Over the size where kernels split work, values whose sum depends on the order of additions.
  saveNpy(file, Float64Array.from({ length: 3_000_001 }, (_, i) => Math.sin(i) * 1e6 + 1 / (i + 1)))
  const a = loadNpy(file, { mmapMode: 'r' })
  const main = require('../binding.js').kernelThreads() as number
  await using pool = new Parallel({ nJobs: os.availableParallelism(), backend: 'threads' })
  const got = await pool.map(WORK, 'kernelThreads', [[a], [a.slice('::3')]])
  t.deepEqual(got, [{ threads: main, sum: a.sum() }, { threads: main, sum: a.slice('::3').sum() }])
  a.close()
})

test.serial("threads: a worker's timers still run while tiny tasks arrive back to back (a worker polls its port for a moment after each answer)", async (t) => {
  // A polling window of 10 s after each answer (workers read the variable when they start):
  // only the bound on the whole polling lets the worker's event loop run while tasks keep coming.
  process.env.MMNPY_PARALLEL_SPIN_US = '10000000'
  let pool: Parallel
  try {
    pool = new Parallel({ nJobs: 1, backend: 'threads' })
    // Every export looked up once first: a task of a new export waits for its import (a promise).
    for (const f of ['noop', 'timerFired', 'armTimer']) await pool.run(WORK, f, [])
    t.true(await pool.run(WORK, 'armTimer', []))
  } finally {
    delete process.env.MMNPY_PARALLEL_SPIN_US
  }
  await using _ = pool
  const deadline = Date.now() + 30_000
  let fired = false
  while (!fired && Date.now() < deadline) {
    for (let i = 0; i < 50; i++) await pool.run(WORK, 'noop', [])
    fired = (await pool.run(WORK, 'timerFired', [])) as boolean
  }
  t.true(fired, "the worker's 1 ms timer did not run within 30 s of back-to-back tasks")
})

test.serial('processes: a worker killed by a native abort rejects instead of hanging', async (t) => {
  await using pool = new Parallel({ nJobs: 1, backend: 'processes' })
  const e = await t.throwsAsync(pool.run(WORK, 'abort', []), { code: 'ERR_MMNPY_WORKER_DIED' })
  t.regex(e!.message, /killed by SIGABRT/)
  t.not(await pool.run(WORK, 'pid', []), process.pid)
})

test.serial('threads: the main thread closing its array leaves the mapping to the worker, and the reverse', async (t) => {
  const dir = tmpDir(t)
  const gate = path.join(dir, 'gate')
  const file = rowsFile(dir, 1000)
  const a = loadNpy(file, { mmapMode: 'r' })
  const expected = a.sum()
  const live = binding.sharedLiveCount()
  await using pool = new Parallel({ nJobs: 1, backend: 'threads' })
  const p = pool.run(WORK, 'sumAfterGate', [a, gate])
  a.close()
  fs.writeFileSync(gate, '')
  t.is(await p, expected)
  // A worker closing what it received does not unmap the main thread's array.
  const b = loadNpy(file, { mmapMode: 'r' })
  t.true(await pool.run(WORK, 'closeIt', [b]))
  t.is(b.sum(), expected)
  await pool.close()
  t.is(b.get(999, 7), 7999)
  t.is(binding.sharedLiveCount(), live)
  b.close()
})

test.serial('processes: a worker maps a file once across tasks and notices a replaced file', async (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'v.npy')
  saveNpy(file, new Float64Array(4096).fill(1))
  await using pool = new Parallel({ nJobs: 1, backend: 'processes' })
  const a = loadNpy(file, { mmapMode: 'r' })
  for (let i = 0; i < 3; i++) t.is(await pool.run(WORK, 'mappingsOf', [a, file]), 1)
  a.close()
  // Replaced by saveNpy (a new file renamed over the old one): the cache maps the new one.
  saveNpy(file, new Float64Array(4096).fill(2))
  const b = loadNpy(file, { mmapMode: 'r' })
  t.is(await pool.run(WORK, 'total', [b]), 8192)
  // The worker refuses a path that names another file than the one the main thread mapped.
  saveNpy(file, new Float64Array(4096).fill(3))
  await t.throwsAsync(pool.run(WORK, 'total', [b]), { code: 'ERR_MMNPY_REPLACED' })
  b.close()
})

test.serial('a new pool removes the temporary folders of dead processes, and keeps those of live ones', async (t) => {
  const temp = tmpDir(t)
  const me = JSON.parse(JSON.stringify({ boot: fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(), pidns: fs.readlinkSync('/proc/self/ns/pid') }))
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
  const dead = Number(child.stdout)
  const make = (pid: number) => {
    const d = path.join(temp, `mmnpy-${pid}-Ab12Cd`)
    fs.mkdirSync(d)
    fs.writeFileSync(path.join(d, '.owner'), JSON.stringify({ pid, ...me }))
    fs.writeFileSync(path.join(d, '1.npy'), 'x')
    return path.basename(d)
  }
  make(dead)
  const liveName = make(process.ppid)
  const pool = new Parallel({ nJobs: 1, tempFolder: temp })
  t.deepEqual(mmnpyFolders(temp), [liveName])
  await pool.close()
})

test.serial('a temporary folder without room is a clean ENOSPC error, never SIGBUS', async (t) => {
  const dir = tmpDir(t)
  const mnt = path.join(dir, 'tiny')
  fs.mkdirSync(mnt)
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]).status === 0
  if (mounted) {
    t.teardown(() => void spawnSync('umount', [mnt]))
    const pool = new Parallel({ nJobs: 1, tempFolder: mnt })
    const e = await t.throwsAsync(pool.run(WORK, 'total', [zeros([4 * MB / 8])]), { instanceOf: MmnpyError, code: 'ERR_MMNPY_IO' })
    t.is(e!.errno, 'ENOSPC')
    t.regex(e!.message, new RegExp(`needs that much room in ${mnt}/mmnpy-`))
    t.regex(e!.message, /pass tempFolder/)
    // Nothing written is left, and the pool still works.
    t.is(await pool.run(WORK, 'total', [zeros([1000])]), 0)
    await pool.close()
    t.deepEqual(fs.readdirSync(mnt), [])
    return
  }
  // No mount (not root): a file size limit makes the preallocation fail the same way (EFBIG),
  // in a child process whose limit is set by the shell.
  const script = path.join(dir, 'efbig.js')
  fs.writeFileSync(script, `
    const { Parallel, zeros } = require(${JSON.stringify(path.resolve(__dirname, '..', 'index.js'))})
    const pool = new Parallel({ nJobs: 1, tempFolder: ${JSON.stringify(dir)} })
    pool.run(${JSON.stringify(WORK)}, 'total', [zeros([${(4 * MB) / 8}])]).then(
      () => console.log(JSON.stringify({ ok: true })),
      (e) => console.log(JSON.stringify({ code: e.code, errno: e.errno, message: e.message }))
    ).finally(() => pool.close())`)
  const r = await new Promise<string>((resolve) => {
    const c = spawn('bash', ['-c', `ulimit -f 1024; exec "${process.execPath}" "${script}"`], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    c.stdout.on('data', (d) => (out += d))
    c.on('close', () => resolve(out))
  })
  const got = JSON.parse(r)
  t.is(got.code, 'ERR_MMNPY_IO')
  t.true(['EFBIG', 'ENOSPC'].includes(got.errno), r)
  t.deepEqual(mmnpyFolders(dir), [])
})

test.serial('a 100 MB view sent to a worker process is mapped there: its anonymous memory does not grow by 100 MB', async (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'big.npy')
  const n = (100 * MB) / 8
  saveNpy(file, new Float64Array(n).fill(1))
  const a = loadNpy(file, { mmapMode: 'r' })
  await using pool = new Parallel({ nJobs: 1, backend: 'processes' })
  type Mem = { anon: number; file: number }
  const base = (await pool.run(WORK, 'memory', [])) as Mem
  t.is(await pool.run(WORK, 'total', [a]), n)
  // The worker keeps the file mapped (its cache) after touching every page: wait, with a
  // deadline, until its resident file pages show the 100 MB (the kernel's per-CPU counters may
  // lag), then its anonymous memory must not have grown by anything like it.
  let mem = base
  const mapped = await waitForAsync(async () => {
    mem = (await pool.run(WORK, 'memory', [])) as Mem
    return mem.file - base.file >= 90 * MB
  })
  t.true(mapped, `file pages grew by ${mem.file - base.file}`)
  t.true(mem.anon - base.anon < 30 * MB, `anon grew by ${mem.anon - base.anon}`)
  // The same from inside the worker with memit.
  const m = (await pool.run(WORK, 'memitSum', [a])) as { sum: number; anon: number; file: number; increment: number }
  t.is(m.sum, n)
  t.true(m.anon < 30 * MB, `memit anon ${m.anon}`)
  a.close()
})

test.serial('threads: a 100 MB view shared with a worker thread adds no anonymous memory to the process', async (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'big.npy')
  const n = (100 * MB) / 8
  saveNpy(file, new Float64Array(n).fill(1))
  const a = loadNpy(file, { mmapMode: 'r' })
  await using pool = new Parallel({ nJobs: 1, backend: 'threads' })
  await pool.run(WORK, 'pid', [])
  const { memitAsync } = await import('../index')
  const m = await memitAsync(() => pool.run(WORK, 'sumAndMemory', [a]))
  t.is((m.result as { sum: number }).sum, n)
  t.true(m.anon < 30 * MB, `anon ${m.anon}`)
  t.true(m.file >= 90 * MB || m.shmem >= 90 * MB, `file ${m.file} shmem ${m.shmem}`)
  a.close()
})

test.serial('memit: a mapped pass shows as file pages, an in-memory load as anonymous memory', async (t) => {
  const { memit, residentMemory } = await import('../index')
  const dir = tmpDir(t)
  const file = path.join(dir, 'm.npy')
  const n = (64 * MB) / 8
  saveNpy(file, new Float64Array(n).fill(1))
  // Memory freed meanwhile by others (the collector, an earlier test's worker thread
  // exiting) lowers the resident set during a pass: measure until a pass is undisturbed.
  const settled = <T extends { close(): void }>(fn: () => T, ok: (m: MemitResult<T>) => boolean): MemitResult<T> => {
    const deadline = Date.now() + 30_000
    for (;;) {
      const m = memit(fn)
      if (ok(m) || Date.now() > deadline) return m
      m.result.close()
    }
  }
  const mapped = settled(() => {
    const a = loadNpy(file, { mmapMode: 'r' })
    a.sum()
    return a
  }, (m) => m.increment >= 60 * MB && m.file >= 60 * MB)
  t.true(mapped.file >= 60 * MB, `file ${mapped.file}`)
  t.true(mapped.anon < 16 * MB, `anon ${mapped.anon}`)
  t.true(mapped.increment >= 60 * MB && mapped.peak >= mapped.before.rss + 60 * MB, `increment ${mapped.increment}`)
  t.true(mapped.seconds > 0)
  mapped.result.close()
  const loaded = settled(() => loadNpy(file), (m) => m.increment >= 60 * MB && m.anon >= 60 * MB)
  t.true(loaded.anon >= 60 * MB, `anon ${loaded.anon}`)
  t.true(loaded.file < 16 * MB, `file ${loaded.file}`)
  t.true(loaded.increment >= 60 * MB, `increment ${loaded.increment}`)
  loaded.result.close()
  const r = residentMemory()
  t.true(r.rss > 0 && r.peak >= r.rss && r.anon > 0)
  t.throws(() => memit(() => { throw new RangeError('inner') }), { instanceOf: RangeError, message: 'inner' })
})

test.serial('options are checked', (t) => {
  t.throws(() => new Parallel({ nJobs: 0 }), { code: 'ERR_MMNPY_INVALID_ARG' })
  t.throws(() => new Parallel({ backend: 'cluster' as never }), { code: 'ERR_MMNPY_INVALID_ARG' })
  t.throws(() => new Parallel({ maxNbytes: '1X' }), { code: 'ERR_MMNPY_INVALID_ARG' })
  t.throws(() => new Parallel({ mmapMode: 'w+' as never }), { message: /'w\+' would replace/ })
  t.is(new Parallel({ maxNbytes: '2K', nJobs: -1 }).maxNbytes, 2048)
  t.is(new Parallel({ nJobs: -1 }).nJobs, os.availableParallelism())
  t.is(new Parallel().maxNbytes, MB)
})

test.serial('calls are checked', async (t) => {
  await using pool = new Parallel({ nJobs: 1 })
  await t.throwsAsync(pool.run(path.join(__dirname, 'nope.js'), 'f', []), { code: 'ERR_MMNPY_INVALID_ARG', message: /does not exist/ })
  await t.throwsAsync(pool.map(WORK, 'total', [1 as never]), { code: 'ERR_MMNPY_INVALID_ARG', message: /array of arguments/ })
  await t.throwsAsync(pool.run(WORK, 'missing', []), { instanceOf: TypeError, message: /has no exported function 'missing'/ })
  const closed = loadNpy(rowsFile(tmpDir(t), 2), { mmapMode: 'r' })
  closed.close()
  await t.throwsAsync(pool.run(WORK, 'total', [closed]), { code: 'ERR_MMNPY_CLOSED' })
  await pool.close()
  await t.throwsAsync(pool.run(WORK, 'pid', []), { code: 'ERR_MMNPY_CLOSED' })
})

for (const how of ['exit', 'SIGTERM', 'SIGINT', 'gc'] as const) {
  test.serial(`the temporary folder is removed when the process ${how === 'gc' ? 'collects the pool' : how === 'exit' ? 'exits' : `gets ${how}`} without close()`, async (t) => {
    const temp = tmpDir(t)
    const script = path.join(__dirname, 'helpers', 'parallel-lifecycle.js')
    const r = await new Promise<{ out: string; code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      const c = spawn(process.execPath, ['--expose-gc', script, temp, how], { stdio: ['ignore', 'pipe', 'inherit'] })
      let out = ''
      c.stdout.on('data', (d) => (out += d))
      c.on('close', (code, signal) => resolve({ out, code, signal }))
    })
    const [folder, verdict] = r.out.trim().split('\n')
    t.true(folder!.startsWith(path.join(temp, 'mmnpy-')), r.out)
    if (how === 'gc') t.is(verdict, 'removed')
    if (how === 'SIGTERM' || how === 'SIGINT') t.is(r.signal, how)
    else t.is(r.code, 0)
    t.false(fs.existsSync(folder!))
    t.deepEqual(mmnpyFolders(temp), [])
  })
}

test.serial("mmapMode 'c' and 'r+' for auto-memmapped inputs: workers may write, the main thread's array is untouched", async (t) => {
  const temp = tmpDir(t)
  const big = zeros([MB / 4])
  for (const [backend, mmapMode] of [['threads', 'c'], ['processes', 'c'], ['threads', 'r+']] as const) {
    await using pool = new Parallel({ nJobs: 1, backend, mmapMode, tempFolder: temp })
    t.is(await pool.run(WORK, 'tryWrite', [big]), 'written', `${backend} ${mmapMode}`)
    t.is(big.get(0), 0)
  }
  t.deepEqual(mmnpyFolders(temp), [])
})
