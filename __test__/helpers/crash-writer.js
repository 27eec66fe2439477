'use strict'
// Child process for __test__/crash.spec.ts: rewrites one file forever, alternating two
// versions, until the parent kills it with SIGKILL. Usage: node crash-writer.js <file> <writer>
// writer: 'saveNpy' (A: [N] of 1s, B: [2, N/2] of 2s), 'openNpy' ('w+' of the same, filled and
// flushed), 'saveNpz' (the array as member 'a', stored) or 'dump' (joblib: { a: the array, v: version }).
const mm = require('../../index.js')

const [, , file, writer] = process.argv
const N = 1 << 19
const versions = [
  { shape: [N], value: 1 },
  { shape: [2, N / 2], value: 2 },
]
const data = versions.map((v) => new Float64Array(N).fill(v.value))
process.stdout.write('READY\n')
for (let k = 0; ; k++) {
  const v = versions[k % 2]
  if (writer === 'saveNpy') {
    mm.saveNpy(file, data[k % 2], { shape: v.shape })
  } else if (writer === 'saveNpz') {
    mm.saveNpz(file, { a: mm.array(data[k % 2]).reshape(v.shape) })
  } else if (writer === 'dump') {
    mm.dump({ a: mm.array(data[k % 2]).reshape(v.shape), v: v.value }, file)
  } else {
    const a = mm.openNpy(file, { mode: 'w+', dtype: 'float64', shape: v.shape })
    a.reshape(-1).data.fill(v.value)
    a.flush()
    a.close()
  }
}
