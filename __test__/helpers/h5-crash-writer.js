'use strict'
// Child process for __test__/h5-write.spec.ts: writes one HDF5 file forever, alternating two versions,
// until the parent kills it with SIGKILL. Usage: node h5-crash-writer.js <file> <mode>
// mode 'w': each round replaces the file (openH5 'w'): dataset 'x' (chunked, gzip) of N elements, all k,
//   written slab by slab, a contiguous dataset 'y' of N elements, all k, and the attribute 'v' = k.
// mode 'r+': each round opens the file 'r+' and rewrites 'x' and 'y' with k and 'v' = k, then flushes.
// k alternates 1 and 2. Prints READY once the first round is done.
const mm = require('../../index.js')

const [, , file, mode] = process.argv
const N = 1 << 16
const SLAB = 1 << 12
for (let round = 0; ; round++) {
  const k = (round % 2) + 1
  const f = mm.openH5(file, { mode: mode === 'w' ? 'w' : 'r+' })
  let x
  let y
  if (mode === 'w') {
    x = f.createDataset('x', { shape: [N], dtype: 'float64', chunks: [SLAB / 2], compression: 'gzip', maxshape: [null] })
    y = f.createDataset('y', { shape: [N], dtype: 'int32' })
  } else {
    x = f.get('x')
    y = f.get('y')
  }
  for (let s = 0; s < N; s += SLAB) x.write([[s, s + SLAB]], k)
  y.write(null, k)
  f.attrs.v = k
  if (mode !== 'w') f.flush()
  f.close()
  if (round === 0) process.stdout.write('READY\n')
}
