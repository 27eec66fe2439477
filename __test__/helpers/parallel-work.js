'use strict'
// Task functions that parallel.spec.ts runs in `Parallel` workers (threads and child processes).
// Loaded by path from the workers; mmnpy from the built package root.
const fs = require('node:fs')
const { NdArray, residentMemory, memit } = require('../../index.js')

// How many times this module was evaluated in this worker (once: workers cache task modules).
globalThis.__mmnpyWorkLoads = (globalThis.__mmnpyWorkLoads ?? 0) + 1

/** Appends `i` to `log` (one line per task start), so a test can see which tasks started. */
function started(log, i) {
  if (log) fs.appendFileSync(log, `${i}\n`)
}

/** Waits until `file` exists, polling (the test creates it when it wants the task to go on). */
async function gate(file, deadlineMs = 60_000) {
  const end = Date.now() + deadlineMs
  while (!fs.existsSync(file)) {
    if (Date.now() > end) throw new Error(`gate ${file} never opened`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

exports.rowSum = (a, start, stop) => a.slice([start, stop]).sum()

exports.total = (a) => a.sum()

/** What arrived, walked: each NdArray described by its dtype, shape, mode, file and sum. */
exports.describe = (value) => {
  const walk = (v) => {
    if (v instanceof NdArray) return { dtype: v.dtype, byteOrder: v.byteOrder, shape: [...v.shape], mode: v.mode, filename: v.filename, sum: Number(v.sum()), first: v.size > 0 ? Number(v.get(...v.shape.map(() => 0))) : null }
    if (Array.isArray(v)) return v.map(walk)
    if (v instanceof Map) return { map: [...v].map(([k, x]) => [k, walk(x)]) }
    if (v instanceof Set) return { set: [...v].map(walk) }
    if (v !== null && typeof v === 'object' && !ArrayBuffer.isView(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
    return v
  }
  return walk(value)
}

/** Returns what it got (arrays come back as arrays). */
exports.echo = (value) => value

/** out[start:stop] = 2 * a[start:stop] */
exports.double = (a, out, start, stop) => {
  out.slice([start, stop]).assign(a.slice([start, stop]).mul(2))
  return stop - start
}

exports.tryWrite = (a) => {
  a.set(...a.shape.map(() => 0), 1)
  return 'written'
}

/** Throws a TypeError with a code at task `bad`; logs every start. */
exports.failAt = (i, bad, log) => {
  started(log, i)
  if (i === bad) {
    const e = new TypeError(`task ${i} refuses`)
    e.code = 'E_TEST_REFUSED'
    throw e
  }
  return i
}

exports.exit = (code) => process.exit(code)
exports.abort = () => process.abort()

/** Logs its start; task 0 waits for the gate. */
exports.gated = async (i, log, gateFile) => {
  started(log, i)
  if (i === 0) await gate(gateFile)
  return i
}

/** Sums `a` after the gate opens (the test closes its own array meanwhile). */
exports.sumAfterGate = async (a, gateFile) => {
  await gate(gateFile)
  return a.sum()
}

/** Closes what it received, then answers. */
exports.closeIt = (a) => {
  a.close()
  return a.closed
}

/** This worker's resident memory by kind. */
exports.memory = () => residentMemory()

/** Sums every element (touching all pages) and reports the worker's resident memory while the view is held. */
exports.sumAndMemory = (a) => {
  const sum = a.sum()
  return { sum, memory: residentMemory() }
}

/** memit of a whole pass inside the worker. */
exports.memitSum = (a) => {
  const m = memit(() => a.sum())
  return { sum: m.result, anon: m.anon, file: m.file, increment: m.increment }
}

/** How many mappings of `file` this process has (lines of /proc/self/maps). */
exports.mappingsOf = (a, file) => {
  a.sum()
  return fs.readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes(file)).length
}

exports.pid = () => process.pid

/** How many times this module was evaluated in this worker. */
exports.loads = () => globalThis.__mmnpyWorkLoads

/** The kernel threads a sum() in this worker uses, and a sum over `a`. */
exports.kernelThreads = (a) => ({ threads: require('../../binding.js').kernelThreads(), sum: a.sum() })

/** Never settles; throws from a timer (an uncaught error that ends the worker). */
exports.lateThrow = () =>
  new Promise(() => {
    setTimeout(() => {
      throw new RangeError('late failure')
    }, 5)
  })

/** A result structured clone refuses. */
exports.returnFunction = () => () => 1

/** Doubles field `x` in place (a field view of 12-byte records) and sends back views of every kind. */
exports.records = (rec, x, when, names) => {
  x.assign(x.mul(2))
  return { t: rec.field('t'), last: rec.get(rec.shape[0] - 1), when, ticks: when.astype('int64'), names, dtypes: [rec.dtype, x.dtype, when.dtype, names.dtype] }
}

/** Arms a timer in this worker; `timerFired` tells whether it has run since. */
exports.armTimer = () => {
  globalThis.__mmnpyTimerFired = false
  setTimeout(() => { globalThis.__mmnpyTimerFired = true }, 1)
  return true
}
exports.timerFired = () => globalThis.__mmnpyTimerFired === true
exports.noop = () => 0
