// close() safety. The work runs in child processes (helpers/close-child.js) because an unsafe
// close() crashes the process (SIGSEGV/SIGBUS) instead of failing an assertion: each child must
// exit 0 with no signal and report no failed check.
import test from 'ava'
import type { ExecutionContext } from 'ava'
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

import { loadNpy, saveNpy } from '../index'

const CHILD = path.join(__dirname, 'helpers', 'close-child.js')
const MARKER = 'MMNPY-CLOSE-RESULT '

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmnpy-close-'))
test.after.always(() => fs.rmSync(tmp, { recursive: true, force: true }))

interface Result {
  checks: number
  failures: string[]
  info: Record<string, unknown>
}

function runChild(t: ExecutionContext, args: string[], opts: { nofile?: number } = {}): Result | undefined {
  const dir = fs.mkdtempSync(path.join(tmp, 'c-'))
  const node = [process.execPath, ...args.slice(0, 1), CHILD, ...args.slice(1).map((a) => (a === '$DIR' ? dir : a))]
  const r =
    opts.nofile === undefined || process.platform === 'win32'
      ? spawnSync(node[0]!, node.slice(1), { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 2 ** 20 })
      : // a low fd limit makes an fd leak fail with EMFILE
        spawnSync('/bin/sh', ['-c', `ulimit -n ${opts.nofile} && exec "$@"`, 'sh', ...node], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 2 ** 20 })
  t.is(r.error, undefined, `spawn: ${String(r.error)}`)
  t.is(r.signal, null, `the child was killed by ${r.signal}; stderr: ${r.stderr?.slice(-2000)}`)
  t.is(r.status, 0, `exit status ${r.status}; stderr: ${r.stderr?.slice(-2000)}`)
  const line = r.stdout.split('\n').find((l) => l.startsWith(MARKER))
  t.truthy(line, `no result line; stdout: ${r.stdout.slice(-2000)} stderr: ${r.stderr.slice(-2000)}`)
  if (!line) return undefined
  const result = JSON.parse(line.slice(MARKER.length)) as Result
  t.deepEqual(result.failures.slice(0, 15), [], `${result.failures.length} failed checks`)
  return result
}

test('close() with data, slices, chunks and T out, in every mode and in memory: no crash, ERR_MMNPY_CLOSED, detached TypedArrays', (t) => {
  const result = runChild(t, ['--expose-gc', 'views', '$DIR'])
  if (result) {
    t.is(result.info.cases, 20)
    t.true((result.info.detached as number) >= 40, `${String(result.info.detached)} TypedArrays checked`)
    t.is(result.info.gc, true, 'global.gc was exposed')
    t.true(result.checks > 1500, `${result.checks} checks`)
  }
})

test('10,000 open arrays of one file: no EMFILE (fd limit 512), no fd per mapping', (t) => {
  const result = runChild(t, ['--expose-gc', 'many', '$DIR', '10000'], { nofile: 512 })
  if (result) {
    t.is(result.info.opened, 10000)
    if (process.platform === 'linux') t.is(typeof result.info.fdsOpen, 'number', 'fds were counted')
    t.log(`fds: ${String(result.info.fdsBefore)} before, ${String(result.info.fdsOpen)} with 10,000 arrays open, ${String(result.info.fdsAfter)} after close`)
  }
})

test('close() in this process: idempotent, Symbol.dispose, closed views', (t) => {
  const p = path.join(tmp, 'inproc.npy')
  saveNpy(p, [[1, 2], [3, 4]], { dtype: 'int32' })
  const a = loadNpy(p, { mmapMode: 'r+' })
  const data = a.data
  const v = a.slice(1)
  t.false(a.closed)
  a[Symbol.dispose]()
  t.true(a.closed)
  t.true(v.closed, 'views share the mapping')
  t.is(data.length, 0)
  t.is(data[0], undefined)
  t.notThrows(() => a.close())
  t.notThrows(() => v.close())
  t.throws(() => v.get(0), { code: 'ERR_MMNPY_CLOSED' })
  t.throws(() => a.data, { code: 'ERR_MMNPY_CLOSED' })
  // the file is intact and can be opened again
  const b = loadNpy(p, { mmapMode: 'r' })
  t.deepEqual(b.toArray(), [[1, 2], [3, 4]])
  b.close()
})
