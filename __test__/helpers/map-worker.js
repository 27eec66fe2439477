'use strict'
// A worker_threads worker that maps a .npy file itself (buffers cannot be shared between
// threads) and reads or writes a few elements of it. Loaded from the built package root.
//
// workerData: { path, mode, reads?: number[][], writes?: [index[], value][], flush?: boolean }
// posts: { values: number[] }  (the reads, done after the writes)
const { parentPort, workerData } = require('node:worker_threads')
const { loadNpy } = require('../../index.js')

const { path, mode, reads = [], writes = [], flush = false } = workerData
const a = loadNpy(path, { mmapMode: mode })
try {
  for (const [index, value] of writes) a.set(...index, value)
  if (flush) a.flush()
  const values = reads.map((index) => {
    const v = a.get(...index)
    return typeof v === 'bigint' ? v.toString() : v
  })
  parentPort.postMessage({ values })
} finally {
  a.close()
}
