// Crash-safe writes (saveNpy, openNpy w+, saveNpz, dump): writers killed with SIGKILL at random moments, 100 times each, always
// leave the target as the old file or a complete new one, never a partial file; the temporary
// files of killed writers are removed by the next write to the same folder.
import test from 'ava'
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import { NdArray, array, dump, load, loadNpy, loadNpz, memmap, openNpy, saveNpy, saveNpz } from '../index'
import { py, tmpDir } from './helpers/numpy'

const WRITER = path.join(__dirname, 'helpers', 'crash-writer.js')
const N = 1 << 19
const KILLS = 100

/** Starts a writer, kills it `delay` ms after it is ready (or when it ends on its own), resolves when it is gone. */
function killAfter(file: string, writer: string, delay: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, file, writer], { stdio: ['ignore', 'pipe', 'pipe'] })
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    child.stdout.once('data', () => setTimeout(() => child.kill('SIGKILL'), delay))
    child.on('error', reject)
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(signal) : reject(new Error(`writer ended with ${code}: ${err}`))))
  })
}

/** The array a writer's target holds and its byte size as written, or why it cannot be read. */
function open(file: string, writer: string): { a: NdArray; close: () => void; version?: unknown } | string {
  try {
    if (writer === 'saveNpz') {
      const z = loadNpz(file, { mmapMode: 'r' })
      return { a: z.get('a'), close: () => z.close() }
    }
    if (writer === 'dump') {
      const v = load(file, { mmapMode: 'r' }) as { a: NdArray; v: unknown }
      return { a: v.a, close: () => v.a.close(), version: v.v }
    }
    const a = loadNpy(file, { mmapMode: 'r' })
    return { a, close: () => a.close() }
  } catch (e) {
    return `unreadable: ${(e as Error).message}`
  }
}

/** What the target holds: which complete version, or a description of what is wrong. */
function check(file: string, writer: string): string {
  const o = open(file, writer)
  if (typeof o === 'string') return o
  const { a } = o
  try {
    const shape = a.shape.join('x')
    const version = shape === String(N) ? 1 : shape === `2x${N / 2}` ? 2 : 0
    if (!version) return `unexpected shape ${shape}`
    if (writer === 'saveNpy' || writer === 'openNpy') {
      if (fs.statSync(file).size !== a.offset + a.nbytes) return `size ${fs.statSync(file).size} for shape ${shape}`
    }
    if (writer === 'dump' && o.version !== version) return `shape ${shape} with v ${String(o.version)}`
    const s = a.sum() as number
    // 'w+' makes the new file complete (header, size) before the data is written into it.
    if (s === version * N || (writer === 'openNpy' && s >= 0 && s <= version * N)) return `v${version}`
    return `shape ${shape} with sum ${s}`
  } finally {
    o.close()
  }
}

/** Writes version 1 (N ones) the way `writer` writes. */
function writeFirst(file: string, writer: string): void {
  const ones = new Float64Array(N).fill(1)
  if (writer === 'saveNpz') saveNpz(file, { a: ones })
  else if (writer === 'dump') dump({ a: array(ones), v: 1 }, file)
  else saveNpy(file, ones)
}

/** NumPy's (or joblib's) reading of the target: its shape. */
function pythonShape(file: string, writer: string): unknown[] {
  if (writer === 'saveNpz') return py(`a = np.load(inp)['a']; out(list(a.shape))`, file)
  if (writer === 'dump') return py(`import joblib; a = joblib.load(inp, mmap_mode='r')['a']; out(list(a.shape))`, file)
  return py(`a = np.load(inp); out(list(a.shape))`, file)
}

for (const writer of ['saveNpy', 'openNpy', 'saveNpz', 'dump']) {
  const ext = writer === 'saveNpz' ? 'npz' : writer === 'dump' ? 'joblib' : 'npy'
  test(`${writer}: killed ${KILLS} times at random moments, the target is always the old or a complete new file`, async (t) => {
    const dir = tmpDir(t, `mmnpy-crash-${writer}-`)
    const file = path.join(dir, `target.${ext}`)
    writeFirst(file, writer)
    const seen = new Map<string, number>()
    for (let k = 0; k < KILLS; k++) {
      await killAfter(file, writer, Math.random() * 40)
      const what = check(file, writer)
      seen.set(what, (seen.get(what) ?? 0) + 1)
      if (!/^v[12]$/.test(what)) t.fail(`after kill ${k + 1}: ${what}`)
    }
    t.log(Object.fromEntries(seen))
    // NumPy (joblib for dump) agrees with the last state.
    const r = pythonShape(file, writer)
    t.true([String(N), `2,${N / 2}`].includes(r.join(',')), `Python reads shape ${r}`)
    // Temporary files of the killed writers go with the next write to this folder.
    writeFirst(file, writer)
    t.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.mmnpy-tmp')), [])
    t.deepEqual(fs.readdirSync(dir), [`target.${ext}`])
  })
}

test('saveNpy with { durable: true } writes the same file', (t) => {
  const dir = tmpDir(t)
  const a = path.join(dir, 'a.npy')
  const b = path.join(dir, 'b.npy')
  saveNpy(a, new Float64Array([1, 2, 3]))
  saveNpy(b, new Float64Array([1, 2, 3]), { durable: true })
  t.deepEqual(fs.readFileSync(a), fs.readFileSync(b))
  const v = loadNpy(a)
  saveNpy(b, v.slice('::-1'), { durable: true })
  t.deepEqual(Array.from(loadNpy(b).toTypedArray() as Float64Array), [3, 2, 1])
})

test("openNpy and memmap in 'w+' with { durable: true } create the same files", (t) => {
  const dir = tmpDir(t)
  for (const durable of [false, true]) {
    const a = openNpy(path.join(dir, `${durable}.npy`), { mode: 'w+', shape: [4, 3], dtype: 'int16', durable })
    a.set(1, 2, 7)
    a.flush()
    a.close()
    const m = memmap(path.join(dir, `${durable}.raw`), { mode: 'w+', shape: [5], dtype: 'float32', offset: 16, durable })
    m.set(4, 2.5)
    m.flush()
    m.close()
  }
  t.deepEqual(fs.readFileSync(path.join(dir, 'true.npy')), fs.readFileSync(path.join(dir, 'false.npy')))
  t.deepEqual(fs.readFileSync(path.join(dir, 'true.raw')), fs.readFileSync(path.join(dir, 'false.raw')))
  t.is(loadNpy(path.join(dir, "true.npy")).get(1, 2), 7)
  t.deepEqual(fs.readdirSync(dir).sort(), ['false.npy', 'false.raw', 'true.npy', 'true.raw'])
})

/**
 * A zip's bytes with every member's DOS modification time and date zeroed, in its local and
 * central headers: two saves a 2-second tick apart differ there only (seen under a CPU burner).
 */
function withoutZipTimes(b: Buffer): Buffer {
  const z = Buffer.from(b)
  const eocd = z.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]))
  if (eocd < 0) throw new Error('no end of central directory record')
  let p = z.readUInt32LE(eocd + 16)
  for (let i = 0; i < z.readUInt16LE(eocd + 10); i++) {
    if (z.readUInt32LE(p) !== 0x02014b50) throw new Error(`no central directory header at ${p}`)
    z.writeUInt32LE(0, p + 12)
    const local = z.readUInt32LE(p + 42)
    if (z.readUInt32LE(local) !== 0x04034b50) throw new Error(`no local header at ${local}`)
    z.writeUInt32LE(0, local + 10)
    p += 46 + z.readUInt16LE(p + 28) + z.readUInt16LE(p + 30) + z.readUInt16LE(p + 32)
  }
  return z
}

test('saveNpz and dump with { durable: true } write the same files', (t) => {
  const dir = tmpDir(t)
  const x = { a: new Float64Array([1, 2, 3]), b: array([[1, 2], [3, 4]], { dtype: 'int16' }) }
  saveNpz(path.join(dir, 'a.npz'), x)
  saveNpz(path.join(dir, 'b.npz'), x, { durable: true })
  // The same bytes but for the members' timestamps (the clock may tick between the saves).
  t.deepEqual(withoutZipTimes(fs.readFileSync(path.join(dir, 'a.npz'))), withoutZipTimes(fs.readFileSync(path.join(dir, 'b.npz'))))
  dump({ x: x.b, n: 3 }, path.join(dir, 'a.joblib'))
  dump({ x: x.b, n: 3 }, path.join(dir, 'b.joblib'), { durable: true })
  t.deepEqual(fs.readFileSync(path.join(dir, 'a.joblib')), fs.readFileSync(path.join(dir, 'b.joblib')))
  t.deepEqual(fs.readdirSync(dir).sort(), ['a.joblib', 'a.npz', 'b.joblib', 'b.npz'])
})

test('replacing a big file (freed in the background) leaves the new data and no temporaries', (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'big.npy')
  const n = (40 << 20) / 8
  for (const v of [1, 2, 3]) {
    saveNpy(file, new Float64Array(n).fill(v))
    const a = loadNpy(file, { mmapMode: 'r' })
    t.is(a.sum(), v * n)
    // A mapped array written over its own file: the mapping keeps the old data.
    saveNpy(file, a.slice([0, n / 2]))
    t.is(a.sum(), v * n)
    t.is(loadNpy(file, { mmapMode: 'r' }).sum(), (v * n) / 2)
    a.close()
  }
  t.deepEqual(fs.readdirSync(dir), ['big.npy'])
})
