// Crash-safe writes: writers killed with SIGKILL at random moments, 100 times each, always
// leave the target as the old file or a complete new one, never a partial file; the temporary
// files of killed writers are removed by the next write to the same folder.
import test from 'ava'
import { spawn } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'

import { loadNpy, saveNpy } from '../index'
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

/** What the target holds: which complete version, or a description of what is wrong. */
function check(file: string, partialDataAllowed: boolean): string {
  let a
  try {
    a = loadNpy(file, { mmapMode: 'r' })
  } catch (e) {
    return `unreadable: ${(e as Error).message}`
  }
  try {
    const shape = a.shape.join('x')
    const version = shape === String(N) ? 1 : shape === `2x${N / 2}` ? 2 : 0
    if (!version) return `unexpected shape ${shape}`
    if (fs.statSync(file).size !== a.offset + a.nbytes) return `size ${fs.statSync(file).size} for shape ${shape}`
    const s = a.sum() as number
    // 'w+' makes the new file complete (header, size) before the data is written into it.
    if (s === version * N || (partialDataAllowed && s >= 0 && s <= version * N)) return `v${version}`
    return `shape ${shape} with sum ${s}`
  } finally {
    a.close()
  }
}

for (const writer of ['saveNpy', 'openNpy']) {
  test(`${writer}: killed ${KILLS} times at random moments, the target is always the old or a complete new file`, async (t) => {
    const dir = tmpDir(t, `mmnpy-crash-${writer}-`)
    const file = path.join(dir, 'target.npy')
    saveNpy(file, new Float64Array(N).fill(1))
    const seen = new Map<string, number>()
    for (let k = 0; k < KILLS; k++) {
      await killAfter(file, writer, Math.random() * 40)
      const what = check(file, writer === 'openNpy')
      seen.set(what, (seen.get(what) ?? 0) + 1)
      if (!/^v[12]$/.test(what)) t.fail(`after kill ${k + 1}: ${what}`)
    }
    t.log(Object.fromEntries(seen))
    // NumPy agrees with the last state.
    const r = py(`a = np.load(inp); out(list(a.shape))`, file)
    t.true([String(N), `2,${N / 2}`].includes(r.join(',')), `NumPy reads shape ${r}`)
    // Temporary files of the killed writers go with the next write to this folder.
    saveNpy(file, new Float64Array(4))
    t.deepEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.mmnpy-tmp')), [])
    t.deepEqual(fs.readdirSync(dir), ['target.npy'])
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
