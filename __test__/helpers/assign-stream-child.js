'use strict'
// Child process for __test__/assign.spec.ts: peak RSS growth (VmHWM, reset through
// /proc/self/clear_refs) while a 384 MiB 'w+' file is filled from another mapped file,
// with and without { release: true }. Usage: node assign-stream-child.js <dir>
// Prints `MMNPY-ASSIGN-STREAM {json}`: per case the peak growth and the sum of the result.
const fs = require('node:fs')
const path = require('node:path')
const mm = require('../../index.js')

const dir = process.argv[2]
const N = (384 * 2 ** 20) / 8
const src = path.join(dir, 'stream-src.npy')

function status(key) {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'))
  return Number(m[1]) * 1024
}

{
  const a = mm.openNpy(src, { mode: 'w+', dtype: 'float64', shape: [N] })
  let k = 0
  for (const c of a.chunks()) {
    const d = c.data
    for (let i = 0; i < d.length; i++) d[i] = (k + i) % 977
    k += d.length
  }
  a.close()
}

function measure(fill) {
  const dst = path.join(dir, 'stream-dst.npy')
  const s = mm.loadNpy(src, { mmapMode: 'r' })
  const d = mm.openNpy(dst, { mode: 'w+', dtype: 'float64', shape: [N] })
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5')
    const before = status('VmRSS')
    fill(d, s)
    const peak = status('VmHWM') - before
    return { peak, sum: d.sum({ release: true }) }
  } finally {
    d.close()
    s.close()
    fs.rmSync(dst)
  }
}

const out = {
  'kept, contiguous': measure((d, s) => d.assign(s)),
  'released, contiguous': measure((d, s) => d.assign(s, { release: true })),
  'released, column by column': measure((d, s) => {
    const [dv, sv] = [d.reshape(-1, 8), s.reshape(-1, 8)]
    for (let i = 0; i < 8; i++) dv.slice(null, i).assign(sv.slice(null, i), { release: true })
  }),
  'released, from a reversed view': measure((d, s) => d.assign(s.slice('::-1'), { release: true })),
}
process.stdout.write(`MMNPY-ASSIGN-STREAM ${JSON.stringify({ threads: require('../../binding.js').kernelThreads(), cases: out })}\n`)
