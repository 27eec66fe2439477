// Concurrent processes on one file: two writers (this Node process through 'r+' and NumPy
// through np.memmap 'r+') writing disjoint elements at once lose nothing after both flush();
// a reader keeps reading the old, complete data while another process replaces the file.
import test from 'ava'
import { spawn, spawnSync } from 'node:child_process'
import * as path from 'node:path'

import { loadNpy, openNpy, saveNpy } from '../index'
import { tmpDir } from './helpers/numpy'

const ROOT = path.resolve(__dirname, '..')
const M = 1_000_000 // writes per process

test("Node and NumPy write 10^6 disjoint elements each into one 'r+' file at once: none is lost", async (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'shared.npy')
  openNpy(file, { mode: 'w+', dtype: 'float64', shape: [2 * M] }).close()
  // NumPy writes the odd elements, one element at a time in rounds, while Node writes the even ones.
  const code = `
import sys, numpy as np
a = np.load(sys.argv[1], mmap_mode='r+')
sys.stdout.write('READY\\n'); sys.stdout.flush()
sys.stdin.readline()
idx = np.arange(1, a.size, 2)
for k in range(0, idx.size, 50000):
    part = idx[k:k + 50000]
    a[part] = part * 0.5
a.flush()
print('DONE')
`
  const np = spawn('python3', ['-c', code, file], { stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  np.stderr.on('data', (d) => (err += d))
  const closed = new Promise<number | null>((resolve) => np.on('close', resolve))
  await new Promise<void>((resolve) =>
    np.stdout.on('data', (d) => {
      out += d
      if (out.includes('READY')) resolve()
    }),
  )
  const a = openNpy(file, { mode: 'r+' })
  np.stdin.end('go\n') // both start now
  for (let i = 0; i < 2 * M; i += 2) a.set(i, i * 0.5)
  a.flush()
  a.close()
  const status = await closed
  t.is(status, 0, err)
  t.regex(out, /DONE/)
  const b = loadNpy(file, { mmapMode: 'r' })
  const d = b.data as Float64Array
  let wrong = 0
  for (let i = 0; i < d.length; i++) if (d[i] !== i * 0.5) wrong++
  b.close()
  t.is(wrong, 0, `${wrong} of ${2 * M} elements lost or wrong`)
})

test('a reader keeps reading the old, complete data while another process replaces the file with saveNpy', (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'data.npy')
  saveNpy(file, new Float64Array(1 << 20).fill(1))
  const r = loadNpy(file, { mmapMode: 'r' })
  t.is(r.sum(), 1 << 20)
  const script = `require(${JSON.stringify(ROOT)}).saveNpy(process.argv[1], new Float64Array(1 << 19).fill(3))`
  for (let k = 0; k < 3; k++) {
    const c = spawnSync(process.execPath, ['-e', script, file], { encoding: 'utf8' })
    t.is(c.status, 0, c.stderr)
    t.is(r.sum(), 1 << 20, 'the mapping still holds the old file')
    t.is(r.get((1 << 20) - 1), 1)
  }
  r.close()
  const now = loadNpy(file, { mmapMode: 'r' })
  t.deepEqual([...now.shape], [1 << 19])
  t.is(now.sum(), 3 * (1 << 19))
  now.close()
})

test("a file truncated by another process while mapped: flush() says so (ERR_MMNPY_TRUNCATED) without touching the lost pages", (t) => {
  const dir = tmpDir(t)
  const file = path.join(dir, 'data.npy')
  saveNpy(file, new Float64Array(1 << 16).fill(2))
  for (const mode of ['r+', 'r', 'c'] as const) {
    const a = loadNpy(file, { mmapMode: mode })
    t.notThrows(() => a.flush())
    const c = spawnSync(process.execPath, ['-e', 'require("fs").truncateSync(process.argv[1], 4096)', file], { encoding: 'utf8' })
    t.is(c.status, 0, c.stderr)
    const err = t.throws(() => a.flush(), { code: 'ERR_MMNPY_TRUNCATED' })
    t.regex(err?.message ?? '', /data\.npy: the file was truncated to 4096 bytes while mapped/)
    t.is(a.get(0), 2, 'pages still inside the file read as before')
    a.close()
    saveNpy(file, new Float64Array(1 << 16).fill(2))
  }
  // A replaced file (saveNpy renames a new one over it) is not a truncation: the mapping keeps the old file.
  const b = loadNpy(file, { mmapMode: 'r' })
  saveNpy(file, new Float64Array(4))
  t.notThrows(() => b.flush())
  t.is(b.get((1 << 16) - 1), 2)
  b.close()
})
