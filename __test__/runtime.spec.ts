// Runtimes and errors: an Electron-like runtime that refuses external ArrayBuffers
// (simulated with MMNPY_SIMULATE_NO_EXTERNAL_BUFFERS=1 in a child process), bad paths
// (missing file, directory, FIFO, /dev/zero: in a child with a timeout, so a hang fails
// instead of blocking), and argument validation.
import test from 'ava'
import type { ExecutionContext } from 'ava'
import { execFileSync, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import { array, fromFile, loadNpy, memmap, MmnpyError, openNpy, saveNpy } from '../index'

const CHILD = path.join(__dirname, 'helpers', 'runtime-child.js')
const MARKER = 'MMNPY-RUNTIME-RESULT '

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmnpy-runtime-'))
test.after.always(() => fs.rmSync(tmp, { recursive: true, force: true }))

interface Result {
  checks: number
  failures: string[]
  info: Record<string, unknown>
}

function runChild(t: ExecutionContext, args: string[], env: NodeJS.ProcessEnv): Result | undefined {
  const r = spawnSync(process.execPath, ['--expose-gc', CHILD, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, ...env },
    maxBuffer: 64 * 2 ** 20,
  })
  t.is(r.error, undefined, `spawn: ${String(r.error)} (a timeout means something hung)`)
  t.is(r.signal, null, `the child was killed by ${r.signal}; stderr: ${r.stderr?.slice(-2000)}`)
  t.is(r.status, 0, `exit status ${r.status}; stderr: ${r.stderr?.slice(-2000)}`)
  const line = r.stdout?.split('\n').find((l) => l.startsWith(MARKER))
  t.truthy(line, `no result line; stdout: ${r.stdout?.slice(-2000)} stderr: ${r.stderr?.slice(-2000)}`)
  if (!line) return undefined
  const result = JSON.parse(line.slice(MARKER.length)) as Result
  t.deepEqual(result.failures.slice(0, 15), [], `${result.failures.length} failed checks`)
  return result
}

// ----------------------------------------------------------------------------- Electron-like

test('no external buffers: refused without allowCopy; with allowCopy get/set/toArray work, r+ reaches the file, nothing huge is copied', (t) => {
  const dir = fs.mkdtempSync(path.join(tmp, 'e-'))
  const values = Array.from({ length: 12 }, (_, i) => i + 0.5)
  saveNpy(path.join(dir, 'rt.npy'), values, { dtype: '<f8', shape: [3, 4] })
  saveNpy(path.join(dir, 'rt-c.npy'), values, { dtype: '<f8', shape: [3, 4] })
  saveNpy(path.join(dir, 'rt-be.npy'), [1, 2, 3, 4], { dtype: '>i4' })
  // 1 GiB, sparse: created in O(1), reading it whole would take seconds and a GiB of memory
  const big = openNpy(path.join(dir, 'big.npy'), { mode: 'w+', dtype: 'uint8', shape: [2 ** 30] })
  // NTFS zero-fills a file up to the last write: on Windows the last byte stays 0
  if (process.platform !== 'win32') big.set(-1, 7)
  big.set(12345, 3)
  big.close()

  const result = runChild(t, ['electron', dir], { MMNPY_SIMULATE_NO_EXTERNAL_BUFFERS: '1' })
  if (result) {
    t.log(`1 GiB file, 102 reads with allowCopy: ${JSON.stringify({ ms: result.info.bigMs, rssMiB: result.info.rssGrowthMiB, arrayBuffersMiB: result.info.arrayBuffersGrowthMiB })}`)
    t.true(result.checks >= 40, `${result.checks} checks`)
  }
  t.false(fs.existsSync(path.join(dir, 'refused-new.npy')), "a refused 'w+' left a file behind")
  t.false(fs.existsSync(path.join(dir, 'refused-new.bin')), "a refused memmap 'w+' left a file behind")

  // NumPy reads what the child wrote in 'r+' (and that 'c' and the refused opens left the files alone)
  const script = [
    'import json, sys, numpy as np',
    'd = sys.argv[1]',
    "print(json.dumps({k: np.load(d + '/' + k + '.npy').tolist() for k in ['rt', 'rt-c', 'rt-be', 'created']}))",
  ].join('\n')
  const got = JSON.parse(execFileSync(process.env.PYTHON ?? 'python3', ['-c', script, dir], { encoding: 'utf8' })) as Record<string, unknown>
  t.deepEqual(got['rt'], [[100.25, 1.5, 2.5, 0.125], [4.5, 5.5, 42, 7.5], [8.5, 9.5, 10.5, -7]])
  t.deepEqual(got['rt-c'], [[0.5, 1.5, 2.5, 3.5], [4.5, 5.5, 6.5, 7.5], [8.5, 9.5, 10.5, 11.5]])
  t.deepEqual(got['rt-be'], [1, -123456, 3, 2 ** 31 - 1])
  t.deepEqual(got['created'], [0, 0, 5])
})

test('the simulation is off by default: mappings are zero-copy', (t) => {
  const p = path.join(tmp, 'zero-copy.npy')
  saveNpy(p, [1, 2, 3], { dtype: '<f8' })
  const a = loadNpy(p, { mmapMode: 'r+' })
  ;(a.data as Float64Array)[1] = 20
  t.is(a.get(1), 20)
  a.close()
  t.is(fs.readFileSync(p).readDoubleLE(128 + 8), 20)
})

// ----------------------------------------------------------------------------- bad paths

interface PathResult {
  kind: string
  path: string
  fn: string
  mustThrow: boolean
  ms: number
  threw: boolean
  isError: boolean
  code?: string
  errno?: string
  message?: string
}

test('bad paths (missing, directory, FIFO, /dev/zero): errors with a code that name the path, and no hang', (t) => {
  const dir = fs.mkdtempSync(path.join(tmp, 'p-'))
  const result = runChild(t, ['paths', dir], {})
  const results = (result?.info.results ?? []) as PathResult[]
  t.true(results.length >= (process.platform === 'win32' ? 40 : 80), `${results.length} calls made`)
  const bad: string[] = []
  for (const r of results) {
    const what = `${r.fn} on ${r.kind} (${r.path})`
    if (r.ms > 5000) bad.push(`${what}: took ${r.ms} ms`)
    if (!r.threw) {
      if (r.mustThrow) bad.push(`${what}: did not throw`)
      continue
    }
    if (!r.isError) bad.push(`${what}: threw a non-Error`)
    if (typeof r.code !== 'string' || !/^ERR_MMNPY_[A-Z_]+$/.test(r.code)) bad.push(`${what}: code ${String(r.code)}`)
    if (!r.message?.includes(r.path)) bad.push(`${what}: message does not name the path: ${r.message}`)
    if (r.kind === 'missing' && r.errno !== 'ENOENT') bad.push(`${what}: errno ${String(r.errno)}, expected ENOENT`)
  }
  t.deepEqual(bad, [])
  t.false(fs.existsSync(path.join(dir, 'no-such-dir')), 'no folder was created')
  if (process.platform === 'win32') return
  t.true(fs.statSync('/dev/zero').isCharacterDevice(), '/dev/zero is still a device')
  t.is(result?.info.fifoStillFifo, true, 'the FIFO was replaced by a file')
  if (result?.info.deviceStillDevice === 'mknod unavailable') t.log('mknod unavailable: device-node writers not checked')
  else t.is(result?.info.deviceStillDevice, true, 'the device node was replaced by a file')
})

// ----------------------------------------------------------------------------- argument validation

function expectCode(t: ExecutionContext, f: () => unknown, label: string, codes: RegExp = /^ERR_MMNPY_(INVALID_ARG|UNSUPPORTED_DTYPE|BAD_SHAPE)$/): void {
  const err = t.throws(
    () => {
      const a = f() as { close?: () => void } | undefined
      a?.close?.()
    },
    undefined,
    label,
  )
  const code = (err as { code?: unknown } | undefined)?.code
  t.regex(String(code), codes, `${label}: code ${String(code)} (${err?.message})`)
}

test('argument validation throws with codes and creates nothing', (t) => {
  const dir = fs.mkdtempSync(path.join(tmp, 'a-'))
  const p = path.join(dir, 'new.npy')
  const existing = path.join(dir, 'existing.npy')
  saveNpy(existing, [1, 2, 3, 4], { dtype: 'uint8' })
  const existingBytes = fs.readFileSync(existing)

  // dtypes
  for (const dtype of ['f9', 'foo', '', '<U10', 'O', 'V8', '>>f8', 'i3', 'c4', '<M8[s]', 'float128']) {
    // Strings, void and datetimes are created by openNpy/array/saveNpy, and read by memmap/fromFile,
    // since issue 15 (dtypes.spec.ts, dtypes-formats.spec.ts).
    const numericOnly = ['<U10', 'V8', '<M8[s]'].includes(dtype)
    if (!numericOnly) expectCode(t, () => openNpy(p, { mode: 'w+', dtype, shape: [2] }), `openNpy dtype '${dtype}'`)
    if (!numericOnly) expectCode(t, () => memmap(existing, { dtype, mode: 'r' }), `memmap dtype '${dtype}'`)
    if (!numericOnly) expectCode(t, () => fromFile(existing, { dtype }), `fromFile dtype '${dtype}'`)
    if (!numericOnly) expectCode(t, () => array([1], { dtype }), `array dtype '${dtype}'`)
    if (!numericOnly) expectCode(t, () => saveNpy(p, [1], { dtype }), `saveNpy dtype '${dtype}'`)
  }
  expectCode(t, () => fromFile(existing, {}), 'fromFile without dtype')

  // shapes: negative, non-integer, not numbers
  const shapes: unknown[] = [[-1], [2, -3], -1, [1.5], [2, 0.5], [NaN], [Infinity], ['3'], [null], [2 ** 60], 'abc', [{}]]
  for (const shape of shapes) {
    const label = JSON.stringify(shape) ?? String(shape)
    expectCode(t, () => openNpy(p, { mode: 'w+', shape: shape as number[] }), `openNpy shape ${label}`)
    expectCode(t, () => memmap(p, { mode: 'w+', shape: shape as number[] }), `memmap w+ shape ${label}`)
    expectCode(t, () => memmap(existing, { mode: 'r', shape: shape as number[] }), `memmap r shape ${label}`)
    expectCode(t, () => array(new Uint8Array(4), { shape: shape as number[] }), `array shape ${label}`)
  }
  expectCode(t, () => openNpy(p, { mode: 'w+' }), "openNpy 'w+' without shape")
  expectCode(t, () => memmap(p, { mode: 'w+' }), "memmap 'w+' without shape")

  // order, version, modes
  for (const order of ['X', 'c', 'fortran', '']) {
    expectCode(t, () => memmap(existing, { mode: 'r', order: order as 'C' }), `order '${order}'`)
  }
  for (const version of [[4, 0], [1, 1], [0, 9], [2], [1, 0, 0], ['1', '0']]) {
    expectCode(t, () => openNpy(p, { mode: 'w+', shape: [2], version: version as [number, number] }), `openNpy version ${JSON.stringify(version)}`)
    expectCode(t, () => saveNpy(p, [1, 2], { version: version as [number, number] }), `saveNpy version ${JSON.stringify(version)}`)
  }
  for (const mode of ['x', 'rw', 'R', 'w', 'a', '']) {
    expectCode(t, () => loadNpy(existing, { mmapMode: mode as 'r' }), `loadNpy mmapMode '${mode}'`)
    expectCode(t, () => openNpy(existing, { mode: mode as 'r' }), `openNpy mode '${mode}'`)
    expectCode(t, () => memmap(existing, { mode: mode as 'r' }), `memmap mode '${mode}'`)
  }
  for (const mode of ['w+', 'write'] as const) {
    const err = t.throws(() => loadNpy(existing, { mmapMode: mode }), { instanceOf: MmnpyError }, `loadNpy mmapMode '${mode}' is refused`)
    t.is(err?.code, 'ERR_MMNPY_INVALID_ARG')
    t.true(err?.message.includes(existing), `names the file: ${err?.message}`)
  }

  // offsets and counts
  for (const offset of [-1, 1.5, NaN, -1n, 2n ** 60n, '8']) {
    expectCode(t, () => memmap(existing, { mode: 'r', offset: offset as number }), `memmap offset ${String(offset)}`)
    expectCode(t, () => fromFile(existing, { dtype: 'uint8', offset: offset as number }), `fromFile offset ${String(offset)}`)
  }
  for (const count of [-2, 1.5, NaN]) {
    expectCode(t, () => fromFile(existing, { dtype: 'uint8', count }), `fromFile count ${count}`)
  }

  // paths and options of the wrong type
  for (const bad of [123, null, {}, '']) {
    expectCode(t, () => loadNpy(bad as string), `loadNpy path ${JSON.stringify(bad)}`)
  }
  expectCode(t, () => loadNpy(existing, 5 as never), 'options that are not an object')
  expectCode(t, () => loadNpy(`${existing}\0x`), 'a path with a NUL byte')

  t.false(fs.existsSync(p), 'a rejected call created the file')
  t.deepEqual(fs.readdirSync(dir).sort(), ['existing.npy'], 'no temporary files left behind')
  t.deepEqual(fs.readFileSync(existing), existingBytes, 'the existing file is unchanged')
})
