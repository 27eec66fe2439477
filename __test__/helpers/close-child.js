'use strict'
// Child process for __test__/close.spec.ts: everything here may crash the process if
// close() is unsafe, so it runs outside the ava worker. Usage:
//   node --expose-gc close-child.js views <dir>   close() with views, data and chunks out
//   node close-child.js many <dir> <count>         <count> open arrays of one file, fds
// Prints one line `MMNPY-CLOSE-RESULT {json}` with the checks made and the failures.
const fs = require('node:fs')
const path = require('node:path')
const { inspect } = require('node:util')
const mm = require('../../index.js')

const [, , what, dir, countArg] = process.argv
let checks = 0
const failures = []
const info = {}

function check(cond, message) {
  checks++
  if (!cond) failures.push(message)
}

function describe(e) {
  return e instanceof Error ? `${e.constructor.name} ${e.code ?? ''} ${e.message}` : String(e)
}

/** `f` must throw an Error with code ERR_MMNPY_CLOSED. */
function expectClosed(f, label) {
  checks++
  try {
    f()
  } catch (e) {
    if (!(e instanceof Error) || e.code !== 'ERR_MMNPY_CLOSED') failures.push(`${label}: threw ${describe(e)}, expected ERR_MMNPY_CLOSED`)
    return
  }
  failures.push(`${label}: did not throw after close()`)
}

/** A TypedArray handed out before close(): detached, reads nothing, ignores writes. */
function expectDetached(ta, label) {
  check(ta.length === 0, `${label}: length ${ta.length} after close, expected 0`)
  check(ta.byteLength === 0, `${label}: byteLength ${ta.byteLength} after close`)
  check(ta[0] === undefined, `${label}: [0] reads ${String(ta[0])} after close`)
  check(ta[5] === undefined, `${label}: [5] reads ${String(ta[5])} after close`)
  try {
    ta[0] = typeof ta[0] === 'bigint' || ta instanceof BigInt64Array || ta instanceof BigUint64Array ? 7n : 7
    ta[3] = ta instanceof BigInt64Array || ta instanceof BigUint64Array ? 9n : 9
  } catch (e) {
    failures.push(`${label}: writing a detached TypedArray threw ${describe(e)}`)
  }
  check(ta[0] === undefined && ta.length === 0, `${label}: a write after close became visible`)
  // Iteration over a detached TypedArray is V8's business: it yields nothing or throws a TypeError.
  for (const [name, f] of [['Array.from', () => Array.from(ta).length], ['forEach', () => { let k = 0; ta.forEach(() => k++); return k }]]) {
    checks++
    try {
      const k = f()
      if (k !== 0) failures.push(`${label}: ${name} visits ${k} elements after close`)
    } catch (e) {
      if (!(e instanceof TypeError)) failures.push(`${label}: ${name} threw ${describe(e)}`)
    }
  }
}

/** Every method of a closed array (or view) throws ERR_MMNPY_CLOSED; metadata never crashes. */
function expectArrayClosed(a, label) {
  check(a.closed === true, `${label}: closed is ${a.closed}`)
  const idx = a.shape.map(() => 0)
  const value = a.dtype === 'bool' ? true : a.dtype.endsWith('64') && a.dtype.includes('int') ? 1n : 1
  expectClosed(() => a.get(...idx), `${label}.get`)
  if (a.ndim > 0) expectClosed(() => a.get(...a.shape.map(() => -1)), `${label}.get(-1...)`)
  expectClosed(() => a.set(...idx, value), `${label}.set`)
  expectClosed(() => a.slice(), `${label}.slice()`)
  expectClosed(() => a.slice('...'), `${label}.slice('...')`)
  expectClosed(() => a.toArray(), `${label}.toArray`)
  expectClosed(() => a.toTypedArray(), `${label}.toTypedArray`)
  expectClosed(() => a.copy(), `${label}.copy`)
  expectClosed(() => a.flush(), `${label}.flush`)
  expectClosed(() => a.data, `${label}.data`)
  expectClosed(() => a.transpose(), `${label}.transpose`)
  expectClosed(() => a.T, `${label}.T`)
  expectClosed(() => a.reshape(-1), `${label}.reshape`)
  expectClosed(() => [...a.chunks({ rows: 1 })], `${label}.chunks`)
  expectClosed(() => mm.saveNpy(path.join(dir, 'never.npy'), a), `saveNpy(${label})`)
  check(!fs.existsSync(path.join(dir, 'never.npy')), `saveNpy(${label}) wrote a file after close`)
  // metadata and inspection: any outcome but a crash; an error must be ERR_MMNPY_CLOSED
  for (const [name, f] of [
    ['shape', () => a.shape], ['strides', () => a.strides], ['dtype', () => a.dtype], ['size', () => a.size],
    ['offset', () => a.offset], ['flags', () => a.flags], ['mode', () => a.mode], ['filename', () => a.filename],
    ['inspect', () => inspect(a)], ['String', () => String(a)],
  ]) {
    try {
      f()
    } catch (e) {
      if (!(e instanceof Error) || e.code !== 'ERR_MMNPY_CLOSED') failures.push(`${label}.${name}: threw ${describe(e)}`)
    }
    checks++
  }
}

function tryData(a) {
  try {
    return a.data
  } catch {
    return undefined
  }
}

function views() {
  const p = (name) => path.join(dir, name)
  // Source files, written with mmnpy itself.
  const f64 = Float64Array.from({ length: 4 * 5 * 6 }, (_, i) => i + 0.5)
  mm.saveNpy(p('f64.npy'), mm.array(f64, { shape: [4, 5, 6] }))
  mm.saveNpy(p('i64.npy'), mm.array(BigInt64Array.from({ length: 24 }, (_, i) => BigInt(i) - 5n), { shape: [6, 4] }))
  mm.saveNpy(p('c64.npy'), mm.array(Float32Array.from({ length: 20 }, (_, i) => i), { dtype: 'complex64', shape: [2, 5] }))
  mm.saveNpy(p('be.npy'), Array.from({ length: 30 }, (_, i) => i), { dtype: '>i4', shape: [5, 6] })
  mm.saveNpy(p('f16.npy'), mm.array(new Uint16Array(12).fill(0x3c00), { dtype: 'float16', shape: [3, 4] }))
  mm.saveNpy(p('bool.npy'), [[true, false, true], [false, true, false]])
  mm.saveNpy(p('fortran.npy'), mm.array(f64, { shape: [4, 5, 6] }).T)
  const raw = Buffer.alloc(3 + 2 * 40)
  for (let i = 0; i < 40; i++) raw.writeInt16LE(i, 3 + 2 * i)
  fs.writeFileSync(p('raw.bin'), raw)
  fs.copyFileSync(p('raw.bin'), p('raw2.bin'))

  const cases = [
    ['loadNpy r', () => mm.loadNpy(p('f64.npy'), { mmapMode: 'r' })],
    ['loadNpy r+', () => mm.loadNpy(p('f64.npy'), { mmapMode: 'r+' })],
    ['loadNpy c', () => mm.loadNpy(p('f64.npy'), { mmapMode: 'c' })],
    ['loadNpy readonly (long name)', () => mm.loadNpy(p('i64.npy'), { mmapMode: 'readonly' })],
    ['loadNpy i64 r+', () => mm.loadNpy(p('i64.npy'), { mmapMode: 'r+' })],
    ['loadNpy complex64 c', () => mm.loadNpy(p('c64.npy'), { mmapMode: 'c' })],
    ['loadNpy big-endian r+', () => mm.loadNpy(p('be.npy'), { mmapMode: 'r+' })],
    ['loadNpy float16 r', () => mm.loadNpy(p('f16.npy'), { mmapMode: 'r' })],
    ['loadNpy bool r+', () => mm.loadNpy(p('bool.npy'), { mmapMode: 'r+' })],
    ['loadNpy fortran r', () => mm.loadNpy(p('fortran.npy'), { mmapMode: 'r' })],
    ['openNpy r+', () => mm.openNpy(p('f64.npy'))],
    ['openNpy w+', () => mm.openNpy(p('new.npy'), { mode: 'w+', dtype: 'float32', shape: [8, 9] })],
    ['memmap r', () => mm.memmap(p('raw.bin'), { dtype: 'int16', mode: 'r', offset: 3, shape: [5, 8] })],
    ['memmap r+', () => mm.memmap(p('raw2.bin'), { dtype: 'uint8', mode: 'r+' })],
    ['memmap c', () => mm.memmap(p('raw.bin'), { dtype: 'uint8', mode: 'c', offset: 3 })],
    ['memmap w+', () => mm.memmap(p('new.bin'), { dtype: 'int32', mode: 'w+', shape: [6, 7] })],
    ['loadNpy memory', () => mm.loadNpy(p('f64.npy'))],
    ['fromFile memory', () => mm.fromFile(p('raw.bin'), { dtype: 'int16', offset: 3 })],
    ['array memory', () => mm.array([[1, 2, 3], [4, 5, 6]], { dtype: 'float64' })],
    ['copy memory', () => mm.loadNpy(p('f64.npy'), { mmapMode: 'r' }).slice('::2').copy()],
  ]
  info.cases = cases.length
  info.detached = 0

  for (const [label, open] of cases) {
    let a
    try {
      a = open()
    } catch (e) {
      failures.push(`${label}: cannot open: ${describe(e)}`)
      continue
    }
    const mode = a.mode
    const typed = [] // [label, TypedArray]
    const arrays = [['array', a]]

    const whole = tryData(a)
    if (whole) {
      typed.push(['data', whole])
      check(whole.length === a.size * (a.dtype.startsWith('complex') ? 2 : 1), `${label}: data length ${whole.length}`)
      if (mode !== 'r') {
        // write through data before closing; must be visible via get()
        const one = whole instanceof BigInt64Array || whole instanceof BigUint64Array ? 42n : 42
        whole[0] = one
        const got = a.get(...a.shape.map(() => 0))
        const gotNum = typeof got === 'object' && got !== null ? got.re : got === true ? 1 : got
        check(a.dtype === 'float16' || a.dtype === 'bool' || gotNum == 42, `${label}: write through data not visible: ${String(gotNum)}`)
      }
    }
    if (a.ndim >= 1 && a.shape[0] > 1) {
      const row = a.slice(1)
      arrays.push(['slice(1)', row])
      const rd = tryData(row)
      if (rd) typed.push(['slice(1).data', rd])
      const strided = a.slice('::-2')
      arrays.push(['slice(::-2)', strided])
      strided.toArray() // touch the memory through the view
      const chunks = [...a.chunks({ rows: 2 })]
      chunks.forEach((c, i) => {
        arrays.push([`chunk ${i}`, c])
        const cd = tryData(c)
        if (cd) typed.push([`chunk ${i}.data`, cd])
      })
    }
    const T = a.T
    arrays.push(['T', T])
    const td = tryData(T)
    if (td) typed.push(['T.data', td])
    const reshaped = a.flags.cContiguous ? a.reshape(-1) : null
    if (reshaped) arrays.push(['reshape(-1)', reshaped])

    // copies taken before close() stay valid
    const before = a.toTypedArray()
    const beforeLen = before.length
    const beforeFirst = before[0]
    const copied = a.copy()

    // close: three ways
    if (label.includes('memory')) a[Symbol.dispose]()
    else if (label.includes('r+')) arrays[arrays.length - 1][1].close() // through a view: the memory is shared
    else a.close()

    for (const [name, x] of arrays) expectArrayClosed(x, `${label} ${name}`)
    for (const [name, ta] of typed) {
      expectDetached(ta, `${label} ${name}`)
      info.detached++
    }
    check(before.length === beforeLen && before[0] === beforeFirst, `${label}: toTypedArray() copy changed by close()`)
    check(!copied.closed, `${label}: copy() closed with its source`)
    try {
      copied.toArray()
      copied.close()
    } catch (e) {
      failures.push(`${label}: copy() unusable after source close: ${describe(e)}`)
    }
    // idempotent
    try {
      a.close()
      a.close()
      a[Symbol.dispose]()
      for (const [, x] of arrays) x.close()
    } catch (e) {
      failures.push(`${label}: second close() threw ${describe(e)}`)
    }
  }

  // The file of a closed array can be deleted and re-created; old views stay closed.
  const target = p('recreate.npy')
  mm.saveNpy(target, [1, 2, 3], { dtype: 'int32' })
  const old = mm.loadNpy(target, { mmapMode: 'r+' })
  const oldData = old.data
  const oldView = old.slice('1:')
  old.close()
  fs.unlinkSync(target)
  check(!fs.existsSync(target), 'recreate: file still exists after unlink')
  mm.saveNpy(target, [7, 8, 9, 10], { dtype: 'int16' })
  const fresh = mm.loadNpy(target, { mmapMode: 'r+' })
  check(JSON.stringify(fresh.toArray()) === '[7,8,9,10]' && fresh.dtype === 'int16', `recreate: new file reads ${JSON.stringify(fresh.toArray())}`)
  fresh.set(0, 70)
  fresh.close()
  fs.unlinkSync(target)
  const again = mm.openNpy(target, { mode: 'w+', dtype: 'uint8', shape: [5] })
  check(again.get(4) === 0, 'recreate with w+: zero-filled')
  again.close()
  expectDetached(oldData, 'recreate: old data')
  expectArrayClosed(oldView, 'recreate: old view')

  // Garbage collection after close() (finalizers must not unmap twice), and arrays dropped
  // without close() whose TypedArrays outlive them.
  const survivors = []
  for (let i = 0; i < 50; i++) {
    const a = mm.loadNpy(p('f64.npy'), { mmapMode: 'r' })
    survivors.push(a.slice(i % 4).data)
    if (i % 2 === 0) a.close()
  }
  if (typeof global.gc === 'function') {
    for (let i = 0; i < 3; i++) global.gc()
    info.gc = true
  }
  survivors.forEach((ta, i) => {
    if (i % 2 === 0) check(ta.length === 0, `gc: closed data ${i} has length ${ta.length}`)
    else check(ta.length === 30 && ta[1] === (i % 4) * 30 + 1.5, `gc: data ${i} of an unclosed, collected array reads ${ta[1]}`)
  })
  survivors.length = 0
  if (typeof global.gc === 'function') global.gc()
}

/** Open file descriptors of this process (null where the platform does not list them). */
function countFds() {
  for (const d of ['/proc/self/fd', '/dev/fd']) {
    if (fs.existsSync(d)) return fs.readdirSync(d).length
  }
  return null
}

function many() {
  const n = Number(countArg)
  const file = path.join(dir, 'many.npy')
  mm.saveNpy(file, mm.array(Float64Array.from({ length: 64 }, (_, i) => i)))
  const fdsBefore = countFds()
  const arrays = []
  for (let i = 0; i < n; i++) {
    try {
      arrays.push(mm.loadNpy(file, { mmapMode: 'r' }))
    } catch (e) {
      failures.push(`open #${i} failed: ${describe(e)}`)
      break
    }
  }
  const fdsOpen = countFds()
  info.opened = arrays.length
  info.fdsBefore = fdsBefore
  info.fdsOpen = fdsOpen
  check(arrays.length === n, `opened ${arrays.length} of ${n}`)
  if (fdsBefore !== null) check(fdsOpen - fdsBefore < 16, `fds grew from ${fdsBefore} to ${fdsOpen} with ${arrays.length} arrays open`)
  // every one of them works, also through data
  let bad = 0
  arrays.forEach((a, i) => {
    if (a.get(i % 64) !== i % 64 || a.data[63] !== 63) bad++
  })
  check(bad === 0, `${bad} of the open arrays read wrong values`)
  for (const a of arrays) a.close()
  check(arrays.every((a) => a.closed), 'all closed')
  info.fdsAfter = countFds()
  if (fdsBefore !== null) check(info.fdsAfter - fdsBefore < 16, `fds after close: ${info.fdsAfter}, before ${fdsBefore}`)
  // the file is still usable
  const b = mm.loadNpy(file, { mmapMode: 'r' })
  check(b.get(-1) === 63, 'reopen after closing all')
  b.close()
}

try {
  if (what === 'views') views()
  else if (what === 'many') many()
  else throw new Error(`unknown mode ${what}`)
} catch (e) {
  failures.push(`uncaught: ${describe(e)}\n${e && e.stack}`)
}
console.log(`MMNPY-CLOSE-RESULT ${JSON.stringify({ checks, failures, info })}`)
