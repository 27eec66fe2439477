// Test helpers: run NumPy in a python3 subprocess, temporary folders, file fingerprints.
import type { ExecutionContext } from 'ava'
import { execFile, execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

// The snippet sees `np`, `json`, `sys`, `inp` (the JSON input) and `out(value)` (the JSON result).
const PRELUDE = `
import json, sys
import numpy as np
inp = json.loads(sys.stdin.read() or 'null')
def out(value):
    sys.stdout.write('\\n@@RESULT@@' + json.dumps(value))
`

function parse(stdout: string): any {
  const at = stdout.lastIndexOf('\n@@RESULT@@')
  if (at === -1) return null // the snippet did not call out()
  return JSON.parse(stdout.slice(at + '\n@@RESULT@@'.length))
}

/** Runs a python snippet synchronously; returns what it passed to `out()`. */
export function py(code: string, input: unknown = null): any {
  const stdout = execFileSync('python3', ['-c', PRELUDE + code], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 256 * 2 ** 20,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  return parse(stdout)
}

/** Runs a python snippet without blocking the event loop; resolves to what it passed to `out()`. */
export function pyAsync(code: string, input: unknown = null): Promise<any> {
  return new Promise((resolve, reject) => {
    const child = execFile('python3', ['-c', PRELUDE + code], { encoding: 'utf8', maxBuffer: 256 * 2 ** 20 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`python failed: ${err.message}\n${stderr}`))
        return
      }
      try {
        resolve(parse(stdout))
      } catch (e) {
        reject(e)
      }
    })
    child.stdin!.end(JSON.stringify(input))
  })
}

/** A fresh temporary folder, removed when the test ends. */
export function tmpDir(t: ExecutionContext, prefix = 'mmnpy-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** SHA-256 of a file's bytes. */
export function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex')
}
