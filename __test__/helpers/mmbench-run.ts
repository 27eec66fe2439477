// Test helpers for mmbench.spec.ts: run `node benchmark/mmbench.js ...` as a child process
// with its own TMPDIR, so each test sees only its own mmbench-* folders.
import { spawn, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'

export const ROOT = path.resolve(__dirname, '..', '..')
export const CLI = path.join(ROOT, 'benchmark', 'mmbench.js')
export const SCHEMA = path.join(ROOT, 'benchmark', 'mmbench.schema.json')

export interface Run {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface Started {
  child: ChildProcess
  done: Promise<Run>
  /** Resolves once stdout + stderr match `re` (rejects if the process ends first). */
  waitFor(re: RegExp): Promise<void>
}

export interface RunOptions {
  /** The child's TMPDIR (os.tmpdir() there). */
  tmp: string
  /** Extra environment; a value of `null` removes the variable. */
  env?: Record<string, string | null>
  /** Node `-r` preload script. */
  preload?: string
}

/** A fresh folder to serve as a child's TMPDIR. */
export function tmpRoot(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'mmbench-spec-'))
}

/** The mmbench-* folders in `tmp`. */
export function leftovers(tmp: string): string[] {
  return fs.readdirSync(tmp).filter((n) => n.startsWith('mmbench-'))
}

export function start(args: string[], opts: RunOptions): Started {
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: opts.tmp }
  delete env.CI
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === null) delete env[k]
    else env[k] = v
  }
  const nodeArgs = opts.preload ? ['-r', opts.preload, CLI, ...args] : [CLI, ...args]
  const child = spawn(process.execPath, nodeArgs, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  const waiters: { re: RegExp; resolve: () => void; reject: (e: Error) => void }[] = []
  const check = () => {
    for (const w of [...waiters]) {
      if (w.re.test(stdout + stderr)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve()
      }
    }
  }
  child.stdout!.on('data', (d) => {
    stdout += d
    check()
  })
  child.stderr!.on('data', (d) => {
    stderr += d
    check()
  })
  const done = new Promise<Run>((resolve) => {
    child.on('close', (code, signal) => {
      for (const w of waiters.splice(0)) w.reject(new Error(`mmbench ended (code ${code}) before printing ${w.re}:\n${stdout}\n${stderr}`))
      resolve({ code, signal, stdout, stderr })
    })
  })
  return {
    child,
    done,
    waitFor: (re) =>
      new Promise<void>((resolve, reject) => {
        waiters.push({ re, resolve, reject })
        check()
      }),
  }
}

/** Runs mmbench to the end. */
export function mmbench(args: string[], opts: RunOptions): Promise<Run> {
  return start(args, opts).done
}
