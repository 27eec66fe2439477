'use strict'
// Child process for __test__/runtime.spec.ts. Usage:
//   MMNPY_SIMULATE_NO_EXTERNAL_BUFFERS=1 node runtime-child.js electron <dir>
//       an Electron-like runtime: mappings refused without allowCopy, working copies with it
//   node runtime-child.js paths <dir>
//       every opening function against bad paths (missing, directory, FIFO, /dev/zero)
// Prints one line `MMNPY-RUNTIME-RESULT {json}`.
const fs = require('node:fs')
const path = require('node:path')
const mm = require('../../index.js')

const [, , what, dir] = process.argv
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

function thrown(f) {
  try {
    f()
  } catch (e) {
    return e
  }
  return undefined
}

function electron() {
  const p = (n) => path.join(dir, n)
  check(process.env.MMNPY_SIMULATE_NO_EXTERNAL_BUFFERS === '1', 'the simulation variable is set')
  const before = fs.readFileSync(p('rt.npy'))

  // Without allowCopy every mapping is refused with a clear error.
  const refused = [
    ["loadNpy mmapMode 'r'", () => mm.loadNpy(p('rt.npy'), { mmapMode: 'r' })],
    ["loadNpy mmapMode 'r+'", () => mm.loadNpy(p('rt.npy'), { mmapMode: 'r+' })],
    ["loadNpy mmapMode 'c'", () => mm.loadNpy(p('rt.npy'), { mmapMode: 'c' })],
    ['openNpy', () => mm.openNpy(p('rt.npy'))],
    ['memmap', () => mm.memmap(p('rt.npy'), { mode: 'r' })],
    ["openNpy 'w+'", () => mm.openNpy(p('refused-new.npy'), { mode: 'w+', shape: [3] })],
    ["openNpy 'w+' over a file", () => mm.openNpy(p('rt.npy'), { mode: 'w+', shape: [3] })],
    ["memmap 'w+'", () => mm.memmap(p('refused-new.bin'), { mode: 'w+', shape: [3] })],
    ["loadNpy allowCopy: false", () => mm.loadNpy(p('rt.npy'), { mmapMode: 'r', allowCopy: false })],
  ]
  for (const [label, f] of refused) {
    const e = thrown(f)
    check(e instanceof Error && e.code === 'ERR_MMNPY_NO_EXTERNAL_BUFFERS', `${label}: ${e ? describe(e) : 'no error'}, expected ERR_MMNPY_NO_EXTERNAL_BUFFERS`)
    check(e instanceof mm.MmnpyError, `${label}: not an MmnpyError`)
    check(e instanceof Error && e.message.includes('allowCopy'), `${label}: message does not mention allowCopy: ${e && e.message}`)
  }
  check(Buffer.compare(before, fs.readFileSync(p('rt.npy'))) === 0, 'a refused open changed the file')

  // With allowCopy: 'r'
  const r = mm.loadNpy(p('rt.npy'), { mmapMode: 'r', allowCopy: true })
  check(r.mode === 'r', `mode ${r.mode}`)
  check(JSON.stringify(r.toArray()) === JSON.stringify([[0.5, 1.5, 2.5, 3.5], [4.5, 5.5, 6.5, 7.5], [8.5, 9.5, 10.5, 11.5]]), `'r' toArray ${JSON.stringify(r.toArray())}`)
  check(r.get(-1, -2) === 10.5 && r.get(1n, 0n) === 4.5, "'r' get")
  check(JSON.stringify(r.slice('::-1, 1::2').toArray()) === '[[9.5,11.5],[5.5,7.5],[1.5,3.5]]', `'r' slice ${JSON.stringify(r.slice('::-1, 1::2').toArray())}`)
  check(Array.from(r.T.toTypedArray()).join() === '0.5,4.5,8.5,1.5,5.5,9.5,2.5,6.5,10.5,3.5,7.5,11.5', "'r' toTypedArray")
  const re = thrown(() => r.set(0, 0, 1))
  check(re && re.code === 'ERR_MMNPY_READONLY', `'r' set: ${re ? describe(re) : 'no error'}`)
  const snapshot = r.data
  check(snapshot.length === 12 && snapshot[11] === 11.5, `'r' data ${snapshot.length}`)
  snapshot[0] = -1 // a private snapshot
  check(r.get(0, 0) === 0.5, `'r': writing the data snapshot changed get(): ${r.get(0, 0)}`)
  r.close()
  check(snapshot.length === 0, "'r': data snapshot not detached by close()")
  const ce = thrown(() => r.get(0, 0))
  check(ce && ce.code === 'ERR_MMNPY_CLOSED', `'r' after close: ${ce ? describe(ce) : 'no error'}`)

  // 'r+': set reaches the file (the parent reads it back with NumPy)
  const w = mm.loadNpy(p('rt.npy'), { mmapMode: 'r+', allowCopy: true })
  w.set(0, 0, 100.25)
  w.set(-1, -1, -7)
  w.slice('1').set(2, 42) // through a view: (1, 2)
  w.T.set(3, 0, 0.125) // through the transpose: (0, 3)
  check(w.get(1, 2) === 42 && w.get(0, 3) === 0.125 && w.get(2, 3) === -7, "'r+' get after set")
  const wd = w.data
  wd[1] = 999 // snapshot: must not reach get() or the file
  check(w.get(0, 1) === 1.5, `'r+': data snapshot write visible through get(): ${w.get(0, 1)}`)
  w.flush()
  w.close()
  const be = mm.loadNpy(p('rt-be.npy'), { mmapMode: 'r+', allowCopy: true })
  check(be.byteOrder === '>', 'big-endian')
  be.set(1, -123456)
  be.set(-1, 2 ** 31 - 1)
  check(be.get(1) === -123456, 'big-endian get after set')
  be.close()

  // 'c': private
  const cBefore = fs.readFileSync(p('rt-c.npy'))
  const c = mm.loadNpy(p('rt-c.npy'), { mmapMode: 'c', allowCopy: true })
  c.set(0, 0, 55)
  check(c.get(0, 0) === 55, "'c' set visible in the array")
  c.flush()
  c.close()
  check(Buffer.compare(cBefore, fs.readFileSync(p('rt-c.npy'))) === 0, "'c' changed the file")

  // The copies stay true to the memory: after kernels write it, and after writes through
  // another view of it (a record array and its fields)
  const k = mm.loadNpy(p('rt-c.npy'), { allowCopy: true })
  const kRow = k.slice('1')
  check(k.get(0, 0) === 0.5 && kRow.get(3) === 7.5, 'copied windows taken')
  k.fill(2)
  check(k.get(0, 0) === 2 && k.get(2, 3) === 2 && kRow.get(3) === 2, `get after fill: ${k.get(0, 0)} ${kRow.get(3)}`)
  k.add(k, { out: k })
  check(k.get(1, 1) === 4 && kRow.get(0) === 4, `get after add into itself: ${k.get(1, 1)} ${kRow.get(0)}`)
  kRow.assign(-3)
  check(k.get(1, 2) === -3 && k.get(0, 2) === 4, `get after assign into a row: ${k.get(1, 2)} ${k.get(0, 2)}`)
  kRow.set(0, 8)
  check(k.get(1, 0) === 8 && kRow.get(0) === 8 && kRow.get(1) === -3, 'set through a view, read through the array and the view')
  k.close()
  const rec = mm.openNpy(p('rec.npy'), { mode: 'w+', dtype: { names: ['id', 'x'], formats: ['<i4', '<f8'] }, shape: [3], allowCopy: true })
  const rx = rec.field('x')
  const rid = rec.field('id')
  check(rec.get(1).x === 0 && rx.get(1) === 0 && rid.get(2) === 0, 'record windows taken')
  rx.set(1, 2.5)
  check(rec.get(1).x === 2.5 && rx.get(1) === 2.5, `a field's write seen by the record array: ${JSON.stringify(rec.get(1))}`)
  rec.set(2, { id: 9, x: -1 })
  check(rx.get(2) === -1 && rid.get(2) === 9, `a record's write seen by its fields: ${rx.get(2)} ${rid.get(2)}`)
  rid.fill(5)
  check(rec.get(0).id === 5 && rec.get(2).x === -1, `a kernel's write through a field seen by the record array: ${JSON.stringify(rec.get(0))}`)
  rec.close()

  // in memory, created and raw
  const m = mm.loadNpy(p('rt-c.npy'), { allowCopy: true })
  check(m.mode === null && m.get(2, 3) === 11.5, 'loadNpy in memory with allowCopy')
  m.set(2, 3, 1)
  check(m.get(2, 3) === 1, 'in-memory set')
  const arr = mm.array([[1, 2], [3, 4]], { dtype: 'int16', allowCopy: true })
  arr.set(1, 1, -4)
  check(JSON.stringify(arr.toArray()) === '[[1,2],[3,-4]]', `array() ${JSON.stringify(arr.toArray())}`)
  const created = mm.openNpy(p('created.npy'), { mode: 'w+', dtype: '<i8', shape: [3], allowCopy: true })
  created.set(2, 5n)
  created.close()
  const raw = mm.memmap(p('rt.npy'), { dtype: 'uint8', mode: 'r', allowCopy: true, shape: [6] })
  check(Array.from(raw.toTypedArray()).join() === '147,78,85,77,80,89', `memmap magic bytes ${Array.from(raw.toTypedArray())}`)
  raw.close()

  // A huge file: touching a few elements must not copy the whole array.
  const big = p('big.npy')
  const gc = () => typeof global.gc === 'function' && global.gc()
  gc()
  const m0 = process.memoryUsage()
  const t0 = process.hrtime.bigint()
  const h = mm.loadNpy(big, { mmapMode: 'r', allowCopy: true })
  const n = h.size
  let nonzero = 0
  for (let i = 0; i < 100; i++) if (h.get(Math.floor((i / 100) * n)) !== 0) nonzero++
  if (h.get(-1) !== (process.platform === 'win32' ? 0 : 7) || h.get(12345) !== 3) nonzero++
  const m1 = process.memoryUsage()
  info.bigMs = Number(process.hrtime.bigint() - t0) / 1e6
  info.bigSize = n
  info.rssGrowthMiB = (m1.rss - m0.rss) / 2 ** 20
  info.arrayBuffersGrowthMiB = (m1.arrayBuffers - m0.arrayBuffers) / 2 ** 20
  check(nonzero === 0, `big file values wrong (${nonzero})`)
  check(info.arrayBuffersGrowthMiB < 96, `reading 102 elements of a ${n}-byte array grew ArrayBuffers by ${info.arrayBuffersGrowthMiB} MiB`)
  check(info.rssGrowthMiB < 256, `reading 102 elements of a ${n}-byte array grew RSS by ${info.rssGrowthMiB} MiB`)
  h.close()
}

function paths() {
  const fifo = path.join(dir, 'fifo.npy')
  const missing = path.join(dir, 'missing.npy')
  const inMissingDir = path.join(dir, 'no-such-dir', 'x.npy')
  const subdir = path.join(dir, 'subdir')
  fs.mkdirSync(subdir)
  const readers = (p) => [
    ['loadNpy', () => mm.loadNpy(p)],
    ["loadNpy 'r'", () => mm.loadNpy(p, { mmapMode: 'r' })],
    ["loadNpy 'r+'", () => mm.loadNpy(p, { mmapMode: 'r+' })],
    ["loadNpy 'c'", () => mm.loadNpy(p, { mmapMode: 'c' })],
    ["openNpy 'r'", () => mm.openNpy(p, { mode: 'r' })],
    ["openNpy 'r+'", () => mm.openNpy(p)],
    ["memmap 'r'", () => mm.memmap(p, { mode: 'r' })],
    ["memmap 'r+'", () => mm.memmap(p, { mode: 'r+', dtype: 'int16', shape: [4] })],
    ["memmap 'c'", () => mm.memmap(p, { mode: 'c', offset: 8 })],
    ['fromFile', () => mm.fromFile(p, { dtype: 'uint8' })],
    ['fromFile count', () => mm.fromFile(p, { dtype: 'float64', count: 2 })],
  ]
  const writers = (p) => [
    ["openNpy 'w+'", () => mm.openNpy(p, { mode: 'w+', dtype: 'int8', shape: [4] })],
    ["memmap 'w+'", () => mm.memmap(p, { mode: 'w+', dtype: 'int8', shape: [4] })],
    ['saveNpy', () => mm.saveNpy(p, [1, 2, 3], { dtype: 'int8' })],
  ]
  const results = []
  info.results = results
  const run = (kind, p, list, mustThrow) => {
    for (const [fn, f] of list) {
      const t0 = Date.now()
      const e = thrown(() => {
        const a = f()
        if (a && typeof a.close === 'function') a.close()
      })
      results.push({
        kind, path: p, fn, mustThrow, ms: Date.now() - t0,
        threw: e !== undefined,
        isError: e instanceof Error,
        code: e && e.code, errno: e && e.errno, message: e ? String(e.message) : undefined,
      })
    }
  }
  const posix = process.platform !== 'win32'
  if (posix) {
    // The FIFO first: if anything blocks on it, the parent's timeout catches the hang.
    require('node:child_process').execFileSync('mkfifo', [fifo])
    run('fifo', fifo, readers(fifo), true)
  }
  run('missing', missing, readers(missing), true)
  run('missing', missing, [['loadNpy URL', () => mm.loadNpy(require('node:url').pathToFileURL(missing))], ['loadNpy Buffer', () => mm.loadNpy(Buffer.from(missing))]], true)
  run('directory', subdir, [...readers(subdir), ...writers(subdir)], true)
  if (posix) run('/dev/zero', '/dev/zero', readers('/dev/zero'), true) // never a writer: it must not be replaced
  run('missing folder', inMissingDir, [...readers(inMissingDir), ...writers(inMissingDir)], true)
  if (!posix) {
    info.fifoStillFifo = info.deviceStillDevice = 'not on Windows'
    info.results = results
    return
  }
  // Writers must neither hang on a FIFO nor replace it (or a device node) by renaming over it.
  run('fifo', fifo, writers(fifo), true)
  info.fifoStillFifo = fs.lstatSync(fifo).isFIFO()
  // A private device node (same as /dev/zero), when this process may make one (root).
  const dev = path.join(dir, 'zero-device')
  try {
    require('node:child_process').execFileSync('mknod', [dev, 'c', '1', '5'], { stdio: 'ignore' })
    run('device', dev, [...readers(dev), ...writers(dev)], true)
    info.deviceStillDevice = fs.lstatSync(dev).isCharacterDevice()
  } catch {
    info.deviceStillDevice = 'mknod unavailable'
  }
}

try {
  if (what === 'electron') electron()
  else if (what === 'paths') paths()
  else throw new Error(`unknown mode ${what}`)
} catch (e) {
  failures.push(`uncaught: ${describe(e)}\n${e && e.stack}`)
}
console.log(`MMNPY-RUNTIME-RESULT ${JSON.stringify({ checks, failures, info })}`)
