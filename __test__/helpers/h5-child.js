'use strict'
// Child process for __test__/h5.spec.ts: what could crash the process runs here, outside the
// ava worker. Usage:
//   node h5-child.js walk <file>     open, visit everything, read every dataset and attribute
//   node h5-child.js close <file> <dataset>   map and read a dataset, close the file, touch them
// Prints one line `MMNPY-H5-RESULT {json}`.
const { openH5 } = require('../../index.js')

const [, , what, file, dataset] = process.argv

function report(value) {
  process.stdout.write(`MMNPY-H5-RESULT ${JSON.stringify(value)}\n`)
}

function describe(e) {
  return { code: e && e.code, name: e && e.constructor && e.constructor.name, message: e instanceof Error ? e.message : String(e) }
}

if (what === 'walk') {
  let stage = 'open'
  try {
    const f = openH5(file)
    stage = 'read'
    let n = 0
    const errors = []
    const names = []
    f.visit((name) => { names.push(name) })
    for (const name of ['', ...names]) {
      try {
        const o = name === '' ? f : f.get(name)
        void o.attrs
        if (typeof o.read === 'function') {
          const a = o.read()
          n += a.size
        }
      } catch (e) {
        errors.push(describe(e))
      }
    }
    f.close()
    report({ ok: true, objects: names.length, elements: n, errors })
  } catch (e) {
    report({ ok: false, stage, ...describe(e) })
  }
} else if (what === 'close') {
  const f = openH5(file)
  const d = f.get(dataset)
  const m = d.mmap()
  const r = d.read()
  const data = m.data
  f.close()
  const out = { mapClosed: m.closed, readClosed: r.closed, dataLength: data.length }
  try {
    m.get(0)
    out.get = 'no error'
  } catch (e) {
    out.get = e.code
  }
  try {
    d.read()
    out.reread = 'no error'
  } catch (e) {
    out.reread = e.code
  }
  report(out)
}
