'use strict'
// Child process for __test__/joblib.spec.ts: what could crash the process (a hostile pickle,
// deep nesting) runs here, outside the ava worker. Usage:
//   node joblib-child.js load <file> <mode|memory>   load, then describe the value
// Prints one line `MMNPY-JOBLIB-RESULT {json}`.
const { load, NdArray } = require('../../index.js')

const [, , what, file, modeArg] = process.argv

function report(value) {
  process.stdout.write(`MMNPY-JOBLIB-RESULT ${JSON.stringify(value)}\n`)
}

if (what === 'load') {
  try {
    let v = load(file, modeArg === 'memory' ? {} : { mmapMode: modeArg })
    // Depth of the first-element chain (deep structures), without recursion.
    let depth = 0
    while (Array.isArray(v) && v.length > 0) {
      v = v[0]
      depth++
    }
    report({ ok: true, depth, leaf: v instanceof NdArray ? 'NdArray' : typeof v })
  } catch (e) {
    report({ ok: false, code: e && e.code, name: e && e.constructor && e.constructor.name, message: e instanceof Error ? e.message : String(e) })
  }
}
