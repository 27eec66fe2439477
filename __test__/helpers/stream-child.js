'use strict'
// Child process for __test__/stream.spec.ts: peak RSS (VmHWM, reset through
// /proc/self/clear_refs before each call) of reductions over a mapped file, with and
// without { release: true }. Usage: node stream-child.js <file.npy>
// Prints one line `MMNPY-STREAM-RESULT {json}`: per call the result and the growth of
// the peak RSS in bytes, for both forms.
const fs = require('node:fs')
const mm = require('../../index.js')

const [, , file] = process.argv

function status(key) {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'))
  return Number(m[1]) * 1024
}

/** Peak RSS growth while `f` runs on a fresh mapping, and its result. */
function measure(f) {
  const a = mm.loadNpy(file, { mmapMode: 'r' })
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5')
    const before = status('VmRSS')
    const v = f(a)
    const value = v instanceof mm.NdArray ? Array.from(v.toTypedArray()).slice(0, 4) : v
    return { value, peak: status('VmHWM') - before }
  } finally {
    a.close()
  }
}

const CALLS = {
  sum: (a, o) => a.sum(o),
  std: (a, o) => a.std({ ...o, mean: a.mean(o) }),
  max: (a, o) => a.max(o),
  argmin: (a, o) => a.argmin(o),
  prod: (a, o) => a.slice('::3').prod(o),
  'sum axis 0': (a, o) => a.reshape(-1, 4096).sum({ ...o, axis: 0 }),
  'max axis 0': (a, o) => a.reshape(-1, 4096).max({ ...o, axis: 0 }),
  'std axis 1': (a, o) => a.reshape(-1, 4096).std({ ...o, axis: 1 }),
  'mean axis 1 of a transposed view': (a, o) => a.reshape(4096, -1).T.mean({ ...o, axis: 1 }),
  'sum of a column view': (a, o) => a.reshape(-1, 64).slice(':, 5').sum(o),
  'dot, matrix·vector': (a, o) => a.reshape(-1, 4096).dot(mm.array(Float64Array.from({ length: 4096 }, (_, i) => (i % 5) - 2)), o),
  'dot, matrix·vector, int32 vector (converted blocks)': (a, o) => a.reshape(-1, 4096).dot(mm.array(Int32Array.from({ length: 4096 }, (_, i) => (i % 5) - 2)), o),
}

const out = {}
for (const [name, f] of Object.entries(CALLS)) {
  out[name] = { kept: measure((a) => f(a, {})), released: measure((a) => f(a, { release: true })) }
}
process.stdout.write(`MMNPY-STREAM-RESULT ${JSON.stringify(out)}\n`)
