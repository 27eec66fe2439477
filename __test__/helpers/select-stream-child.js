'use strict'
// Child process for __test__/select.spec.ts: peak RSS growth (VmHWM, reset through
// /proc/self/clear_refs) while a mask over a 384 MiB mapped file selects into a 'w+' file,
// with and without { release: true }. Usage: node select-stream-child.js <dir>
// Prints `MMNPY-SELECT-STREAM {json}`: per case the peak growth and the sum of the result.
const fs = require('node:fs')
const path = require('node:path')
const mm = require('../../index.js')

const dir = process.argv[2]
const N = (384 * 2 ** 20) / 8
const src = path.join(dir, 'sel-src.npy')
const maskFile = path.join(dir, 'sel-mask.npy')

function status(key) {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'))
  return Number(m[1]) * 1024
}

let count
{
  const a = mm.openNpy(src, { mode: 'w+', dtype: 'float64', shape: [N] })
  let k = 0
  for (const c of a.chunks()) {
    const d = c.data
    for (let i = 0; i < d.length; i++) d[i] = (k + i) % 977
    k += d.length
  }
  const m = mm.openNpy(maskFile, { mode: 'w+', dtype: 'bool', shape: [N] })
  a.greater(488, { out: m })
  count = Number(m.sum())
  m.close()
  a.close()
}

function measure(release) {
  const dst = path.join(dir, 'sel-dst.npy')
  const a = mm.loadNpy(src, { mmapMode: 'r' })
  const m = mm.loadNpy(maskFile, { mmapMode: 'r' })
  const d = mm.openNpy(dst, { mode: 'w+', dtype: 'float64', shape: [count] })
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5')
    const before = status('VmRSS')
    a.compress(m, { out: d, release })
    const peak = status('VmHWM') - before
    return { peak, sum: d.sum({ release: true }), count }
  } finally {
    d.close()
    a.close()
    m.close()
    fs.rmSync(dst)
  }
}

const out = { kept: measure(false), released: measure(true) }
process.stdout.write(`MMNPY-SELECT-STREAM ${JSON.stringify({ threads: require('../../binding.js').kernelThreads(), cases: out })}\n`)
