'use strict'
// Child process for __test__/stream.spec.ts: peak RSS (VmHWM, reset through
// /proc/self/clear_refs before each call) of A.dot(x) over a freshly mapped sparse matrix:
// without { release: true } (`kept`), and with it, the first product (which also checks every
// index: `first`) and a second one on the same matrix (the product alone: `second`).
// Usage: node stream-sparse-child.js <file.npz>
// Prints one line `MMNPY-STREAM-SPARSE {json}`: per call the growth of the peak RSS in bytes
// and a digest of the product.
const fs = require('node:fs')
const mm = require('../../index.js')

const [, , file] = process.argv

function status(key) {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'))
  return Number(m[1]) * 1024
}

const probe = mm.loadSparse(file, { mmapMode: 'r' })
const x = mm.array(Float64Array.from({ length: probe.shape[1] }, (_, i) => (i % 7) - 3))
probe.close()
function product(A, release) {
  fs.writeFileSync('/proc/self/clear_refs', '5')
  const before = status('VmRSS')
  const y = A.dot(x, { release })
  const peak = status('VmHWM') - before
  const v = y.toTypedArray()
  let digest = 0
  for (let i = 0; i < v.length; i++) digest += v[i] * ((i % 13) + 1)
  y.close()
  return { peak, digest }
}

const out = {}
let A = mm.loadSparse(file, { mmapMode: 'r' })
out.kept = product(A, false)
A.close()
A = mm.loadSparse(file, { mmapMode: 'r' })
out.first = product(A, true)
out.second = product(A, true)
A.close()
process.stdout.write(`MMNPY-STREAM-SPARSE ${JSON.stringify(out)}\n`)
