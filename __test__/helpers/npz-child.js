'use strict'
// Child process for __test__/npz.spec.ts: what could crash the process runs here, outside
// the ava worker. Usage:
//   node npz-child.js load <archive> <mode|memory>   open, then read and sum every member
//   node npz-child.js close <archive>                close the archive, then touch everything taken from it
// Prints one line `MMNPY-NPZ-RESULT {json}`.
const { loadNpz } = require('../../index.js')

const [, , what, file, modeArg] = process.argv

function report(value) {
  process.stdout.write(`MMNPY-NPZ-RESULT ${JSON.stringify(value)}\n`)
}

function describe(e) {
  return { code: e && e.code, name: e && e.constructor && e.constructor.name, message: e instanceof Error ? e.message : String(e) }
}

if (what === 'load') {
  let stage = 'open'
  try {
    const z = loadNpz(file, modeArg === 'memory' ? {} : { mmapMode: modeArg })
    stage = 'get'
    const keys = [...z.files]
    const members = {}
    for (const k of keys) {
      const a = z.get(k)
      members[k] = { shape: a.shape, dtype: a.dtype, first: a.size > 0 ? String(a.toTypedArray()[0]) : null }
    }
    z.close()
    report({ ok: true, keys, members })
  } catch (e) {
    report({ ok: false, stage, ...describe(e) })
  }
} else if (what === 'close') {
  const failures = []
  let checks = 0
  const expectClosed = (f, label) => {
    checks++
    try {
      f()
      failures.push(`${label}: did not throw after close()`)
    } catch (e) {
      if (!(e instanceof Error) || e.code !== 'ERR_MMNPY_CLOSED') failures.push(`${label}: threw ${JSON.stringify(describe(e))}`)
    }
  }
  const z = loadNpz(file, { mmapMode: 'r' })
  const taken = []
  for (const [k, a] of z) taken.push([k, a, a.ndim > 0 ? a.slice(null) : a.reshape(1), a.size > 0 && a.flags.aligned && a.flags.cContiguous && a.byteOrder !== '>' ? a.data : null])
  const direct = z.get(z.files[0])
  z.close()
  z.close() // idempotent
  for (const [k, a, view, data] of taken) {
    checks++
    if (!a.closed || !view.closed) failures.push(`${k}: not closed with the archive`)
    if (a.size > 0) expectClosed(() => a.get(...a.shape.map(() => 0)), `${k}.get`)
    expectClosed(() => view.toTypedArray(), `${k} view.toTypedArray`)
    if (a.dtype !== 'complex64' && a.dtype !== 'complex128') expectClosed(() => a.sum(), `${k}.sum`)
    if (data !== null) {
      checks++
      if (data.length !== 0 || data[0] !== undefined) failures.push(`${k}: data still readable after close (length ${data.length})`)
      data[0] = data instanceof BigInt64Array || data instanceof BigUint64Array ? 1n : 1
    }
  }
  expectClosed(() => direct.toArray(), 'get() before close')
  expectClosed(() => z.get(z.files[0]), 'archive.get after close')
  report({ checks, failures, members: taken.length })
}
