// Files larger than RAM (issue: 'r' and 'c' failed with ENOMEM): a sparse float64 .npy of twice
// this machine's RAM opens in 'r', 'c' and 'r+'; the last element reads; 'c' writes to the first
// and last pages read back and never reach the file; sum({ release: true }) over a 4 GiB slice
// stays in bounded RSS. Then the same through the simulated strict overcommit accounting
// (MMNPY_SIMULATE_STRICT_OVERCOMMIT=1): 'r' opens read-only and hands JavaScript copies, 'c'
// of this size is refused with ERR_MMNPY_NO_MEMORY saying why and what to do.
// Each mode runs in its own child process (helpers/huge-child.js).
import test, { type ExecutionContext } from 'ava'
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import { openNpy } from '../index'
import { py } from './helpers/numpy'

const CHILD = path.join(__dirname, 'helpers', 'huge-child.js')
const GiB = 2 ** 30

const memTotal = Number(/^MemTotal:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024
const overcommit = fs.readFileSync('/proc/sys/vm/overcommit_memory', 'utf8').trim()
// Twice the RAM, rounded to whole 4 GiB slices; float64 elements.
const BYTES = Math.ceil((2 * memTotal) / (4 * GiB)) * 4 * GiB
const N = BYTES / 8
const SLICE = (4 * GiB) / 8
const START = N - SLICE // the last 4 GiB: holds the last element

// Markers written by the parent before any child maps the file: index -> value.
const MARKS = new Map<number, number>([
  [0, 1.5],
  [1, 2.5],
  [N - SLICE, 3.25],
  [N - SLICE + 12345, -0.75],
  [N - 2, 4.5],
  [N - 1, 8.125],
])
const SLICE_SUM = [...MARKS].filter(([i]) => i >= START).reduce((s, [, v]) => s + v, 0)

let dir = ''
let file = ''
let skipWhy = ''

test.before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmnpy-huge-'))
  file = path.join(dir, 'huge.npy')
  try {
    const a = openNpy(file, { mode: 'w+', dtype: 'float64', shape: [N] })
    for (const [i, v] of MARKS) a.set(i, v)
    a.flush()
    a.close()
  } catch (e) {
    // Only a file system that cannot hold a sparse file this large is a reason to skip.
    const code = (e as { errno?: string }).errno
    if (code === 'EFBIG' || code === 'ENOSPC') skipWhy = `${os.tmpdir()} cannot hold a sparse file of ${BYTES} bytes (${code})`
    else throw e
  }
})
test.after.always(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

/** A fingerprint of a sparse file's content: its size and a hash of every data extent (holes read as zeros). */
function digest(p: string): string {
  return py(
    `
import hashlib, os
h = hashlib.sha256()
fd = os.open(inp, os.O_RDONLY)
size = os.fstat(fd).st_size
h.update(str(size).encode())
off = 0
while off < size:
    try:
        start = os.lseek(fd, off, os.SEEK_DATA)
    except OSError:
        break
    end = os.lseek(fd, start, os.SEEK_HOLE)
    os.lseek(fd, start, os.SEEK_SET)
    pos = start
    while pos < end:
        b = os.read(fd, min(1 << 24, end - pos))
        if not b: break
        if b.count(0) != len(b):
            h.update(str(pos).encode()); h.update(b)
        pos += len(b)
    off = end
out(h.hexdigest())
`,
    p,
  )
}

interface ChildResult {
  mode: string
  open: { ok: boolean; code?: string; message?: string }
  size?: number
  first?: number
  last?: number
  written?: number[]
  viaData?: number
  strayWrite?: { seenInData: number; getAfter: number }
  dataOf512MiB?: { ok: boolean; code?: string; message?: string }
  sliceSum?: number
  sliceSumPeak?: number
  lastAgain?: number
  reopened?: number[]
}

function child(mode: string, strict: boolean): ChildResult {
  const env = { ...process.env }
  if (strict) env.MMNPY_SIMULATE_STRICT_OVERCOMMIT = '1'
  else delete env.MMNPY_SIMULATE_STRICT_OVERCOMMIT
  const r = spawnSync(process.execPath, [CHILD, file, mode, String(START), String(SLICE)], { encoding: 'utf8', env, timeout: 240_000 })
  if (r.signal !== null || r.status !== 0) throw new Error(`child (${mode}${strict ? ', strict' : ''}) ended with ${r.signal ?? r.status}: ${r.stderr}`)
  const line = r.stdout.split('\n').find((l) => l.startsWith('MMNPY-HUGE-RESULT '))
  if (!line) throw new Error(`child printed no result: ${r.stdout}\n${r.stderr}`)
  return JSON.parse(line.slice('MMNPY-HUGE-RESULT '.length)) as ChildResult
}

const BOUND = 256 * 2 ** 20

function checkRead(t: ExecutionContext, r: ChildResult): void {
  t.true(r.open.ok, `open failed: ${r.open.code} ${r.open.message}`)
  t.is(r.size, N)
  t.is(r.first, MARKS.get(0))
  t.is(r.last, MARKS.get(N - 1))
  t.is(r.lastAgain, MARKS.get(N - 1))
  t.is(r.sliceSum, SLICE_SUM)
  t.true(r.sliceSumPeak! < BOUND, `sum({ release: true }) over 4 GiB grew the peak RSS by ${r.sliceSumPeak} bytes`)
}

test.serial(`a sparse .npy of twice the RAM (${(BYTES / GiB).toFixed(0)} GiB) opens in 'r': last element, stray writes, streaming sum; file unchanged`, (t) => {
  if (skipWhy) return t.pass(`skipped: ${skipWhy}`)
  const before = digest(file)
  const r = child('r', false)
  checkRead(t, r)
  t.deepEqual(r.strayWrite, { seenInData: 99, getAfter: overcommit === '2' ? MARKS.get(0) : 99 })
  t.deepEqual(r.dataOf512MiB, overcommit === '2' ? { ok: false, code: 'ERR_MMNPY_TOO_LARGE', message: r.dataOf512MiB?.message } : { ok: true })
  t.is(digest(file), before, 'the file changed')
})

test.serial("in 'c' the same file opens; writes to the first and last pages read back and never reach the file", (t) => {
  if (skipWhy) return t.pass(`skipped: ${skipWhy}`)
  const before = digest(file)
  const r = child('c', false)
  if (overcommit === '2') {
    // This machine accounts strictly: the documented limit applies.
    t.false(r.open.ok)
    t.is(r.open.code, 'ERR_MMNPY_NO_MEMORY')
    return
  }
  t.true(r.open.ok, `open failed: ${r.open.code} ${r.open.message}`)
  t.is(r.last, MARKS.get(N - 1))
  t.deepEqual(r.written, [11.5, 12.5, 13.5, 14.5])
  t.is(r.viaData, 21.5)
  t.deepEqual(r.reopened, [MARKS.get(0), 0, 0, MARKS.get(N - 1)], 'a new mapping sees the file, not the private pages')
  t.is(digest(file), before, 'the file changed')
})

test.serial("strict overcommit accounting (simulated): 'r' opens read-only, JavaScript gets copies, a stray write never faults", (t) => {
  if (skipWhy) return t.pass(`skipped: ${skipWhy}`)
  const before = digest(file)
  const r = child('r', true)
  checkRead(t, r)
  // The write landed in a copy: the mapping (and get()) still shows the file.
  t.deepEqual(r.strayWrite, { seenInData: 99, getAfter: MARKS.get(0) })
  t.is(r.dataOf512MiB?.ok, false)
  t.is(r.dataOf512MiB?.code, 'ERR_MMNPY_TOO_LARGE')
  t.regex(r.dataOf512MiB?.message ?? '', /huge\.npy: .*strict overcommit.*chunks\(\)/)
  t.is(digest(file), before, 'the file changed')
})

test.serial("strict overcommit accounting (simulated): 'c' larger than the commit limit is refused with ERR_MMNPY_NO_MEMORY, naming why and what to do", (t) => {
  if (skipWhy) return t.pass(`skipped: ${skipWhy}`)
  const r = child('c', true)
  t.false(r.open.ok)
  t.is(r.open.code, 'ERR_MMNPY_NO_MEMORY')
  const m = r.open.message ?? ''
  t.true(m.includes('huge.npy'), m)
  t.regex(m, /copy-on-write/)
  t.regex(m, /vm\.overcommit_memory = 2/)
  t.regex(m, /mmapMode 'r'/)
  t.notRegex(m, /Cannot allocate memory/)
})

test.serial("in 'r+' the same file opens; writes to the first and last pages reach the file", (t) => {
  if (skipWhy) return t.pass(`skipped: ${skipWhy}`)
  const r = child('r+', false)
  t.true(r.open.ok, `open failed: ${r.open.code} ${r.open.message}`)
  t.is(r.last, MARKS.get(N - 1))
  t.deepEqual(r.written, [11.5, 12.5, 13.5, 14.5])
  t.is(r.lastAgain, 14.5)
  // The slice sum sees the writes to the last page.
  t.is(r.sliceSum, SLICE_SUM - MARKS.get(N - 1)! + 13.5 + 14.5)
  t.true(r.sliceSumPeak! < BOUND, `sum({ release: true }) over 4 GiB grew the peak RSS by ${r.sliceSumPeak} bytes`)
  t.deepEqual(r.reopened, [11.5, 12.5, 13.5, 14.5])
})

// What the README promises for a 'c' job that writes more pages than memory can hold: the kernel's
// out-of-memory killer stops the process (SIGKILL), as it would stop NumPy's, and the file is never
// touched. Memory is limited for one child through a cgroup (v1 memory controller, as root), so the
// machine's own memory is never at stake; skipped where no cgroup can be made.
function makeCgroup(limit: number): string | undefined {
  const base = '/sys/fs/cgroup/memory'
  try {
    const g = fs.mkdtempSync(path.join(base, 'mmnpy-test-'))
    fs.writeFileSync(path.join(g, 'memory.limit_in_bytes'), String(limit))
    return g
  } catch {
    return undefined
  }
}

function inCgroup(g: string, pages: number): ReturnType<typeof spawnSync> {
  const script = `
    const mm = require(${JSON.stringify(path.resolve(__dirname, '..'))})
    const a = mm.loadNpy(process.argv[1], { mmapMode: 'c' })
    const step = 4096 / 8
    for (let k = 0; k < ${pages}; k++) a.set(k * step, k + 0.5)
    let s = 0
    for (let k = 0; k < ${pages}; k++) s += a.get(k * step)
    console.log('MMNPY-CGROUP-SUM ' + s)
  `
  const sh = `echo $$ > ${g}/cgroup.procs && exec "${process.execPath}" -e "$1" "$2"`
  return spawnSync('sh', ['-c', sh, 'sh', script, file], { encoding: 'utf8', timeout: 240_000 })
}

test.serial("'c' under a memory limit: private pages within it work; more than it can hold ends the process by the OOM killer, the file untouched", (t) => {
  if (skipWhy) return t.pass(`skipped: ${skipWhy}`)
  if (overcommit === '2') return t.pass('skipped: strict accounting refuses this mapping up front (tested above)')
  const limit = 256 * 2 ** 20
  const g = makeCgroup(limit)
  if (!g) return t.pass('skipped: no cgroup (v1 memory controller) can be made here')
  try {
    const before = digest(file)
    const within = 16_384 // 64 MiB of private pages
    const ok = inCgroup(g, within)
    t.is(ok.signal, null, String(ok.stderr))
    t.is(ok.status, 0, String(ok.stderr))
    t.true(String(ok.stdout).includes(`MMNPY-CGROUP-SUM ${(within * within) / 2}`), String(ok.stdout))
    const beyond = 262_144 // 1 GiB of private pages under a 256 MiB limit
    const killed = inCgroup(g, beyond)
    t.is(killed.signal, 'SIGKILL', `expected the OOM killer, got ${killed.signal ?? killed.status}: ${killed.stderr}`)
    t.is(digest(file), before, 'the file changed')
  } finally {
    fs.rmdirSync(g)
  }
})
