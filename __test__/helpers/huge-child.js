'use strict'
// Child process for __test__/huge.spec.ts: opens a (sparse) .npy larger than RAM in one
// mode and runs the checks of that spec, so that each mode (and the simulated strict
// overcommit accounting, MMNPY_SIMULATE_STRICT_OVERCOMMIT=1 in its environment) gets a
// fresh process. Usage: node huge-child.js <file.npy> <mode> <sliceStart> <sliceLength>
// Prints one line `MMNPY-HUGE-RESULT {json}`.
const fs = require('node:fs')
const mm = require('../../index.js')

const [, , file, mode, startArg, lengthArg] = process.argv
const start = Number(startArg)
const length = Number(lengthArg)

function status(key) {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'))
  return Number(m[1]) * 1024
}

function attempt(f) {
  try {
    return { ok: true, value: f() }
  } catch (e) {
    return { ok: false, code: e.code, message: e.message }
  }
}

const out = { mode }
const opened = attempt(() => mm.loadNpy(file, { mmapMode: mode }))
if (!opened.ok) {
  out.open = opened
} else {
  const a = opened.value
  out.open = { ok: true }
  out.size = a.size
  out.first = a.get(0)
  out.last = a.get(a.size - 1)
  const page = 4096 / 8
  if (mode === 'c' || mode === 'r+') {
    // First and last pages, written and read back.
    a.set(0, 11.5)
    a.set(page - 1, 12.5)
    a.set(a.size - page, 13.5)
    a.set(a.size - 1, 14.5)
    out.written = [a.get(0), a.get(page - 1), a.get(a.size - page), a.get(a.size - 1)]
    // Through `data` of a small view too.
    const d = a.slice([1, 9]).data
    d[0] = 21.5
    out.viaData = a.get(1)
  }
  if (mode === 'r') {
    // A stray write through `data` of the first page lands in private memory (or a copy).
    const d = a.slice([0, page]).data
    d[0] = 99
    out.strayWrite = { seenInData: d[0], getAfter: a.get(0) }
    const big = attempt(() => a.slice([0, 2 ** 26]).data.length)
    out.dataOf512MiB = big.ok ? { ok: true } : big
  }
  // Streaming over a 4 GiB slice ('c' keeps every page it touched: release is ignored there).
  if (mode !== 'c') {
    const s = a.slice([start, start + length])
    fs.writeFileSync('/proc/self/clear_refs', '5')
    const before = status('VmRSS')
    out.sliceSum = s.sum({ release: true })
    out.sliceSumPeak = status('VmHWM') - before
  }
  out.lastAgain = a.get(a.size - 1)
  a.close()
  if (mode === 'c' || mode === 'r+') {
    const b = mm.loadNpy(file, { mmapMode: 'r' })
    out.reopened = [b.get(0), b.get(page - 1), b.get(b.size - page), b.get(b.size - 1)]
    b.close()
  }
}
process.stdout.write(`MMNPY-HUGE-RESULT ${JSON.stringify(out)}\n`)
