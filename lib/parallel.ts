/**
 * `Parallel`: `joblib.Parallel` for Node. A pool of workers (threads or child processes) calls an
 * export of a module once per argument list; `NdArray` arguments and results cross as mappings,
 * not copies (`transfer.ts`), and large in-memory arrays are written once to a temporary `.npy`
 * that the workers map (auto-memmapping).
 *
 * This file keeps the calls: it hands a runner at most one task per worker, so that the tasks not
 * started stay here and cancelling them (first error, `signal`, `close()`) is exact, and a worker
 * that dies rejects its task instead of leaving it pending. Two runners:
 *
 * - threads: `worker_threads` started here, one task at a time per worker over the worker's own
 *   message port (`{ id, module, exportName, args }` out, `{ id, ok, value | error }` back), idle
 *   workers in a ready stack. A pool library's message hop cost more than the whole budget of a
 *   tiny task's round trip (tinypool alone: 56-63 µs a no-op, this path: see BENCHMARKS.md).
 * - processes: tinypool (pinned in package.json) starts, feeds and replaces child processes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as binding from '../binding';
import { invalidArg, MmnpyError, native, typeError } from './errors';
import { loadNpy } from './io';
import { NdArray } from './ndarray';
import type { Storage } from './storage';
import { copyWire, decodeOwned, encode, mappedWire, MappedWire } from './transfer';
import type { TaskAnswer, TaskMessage, ThreadTaskAnswer, ThreadTaskMessage, WorkerErrorInfo } from './parallel-worker';

export type { ParallelOptions, MapOptions, ParallelBackend } from '../index';
import type { ParallelOptions, MapOptions, ParallelBackend, PathLike } from '../index';

/** What a write into a read-only argument says, after the mode-'r' error. */
export const READ_ONLY_HINT =
  "arrays reach workers read-only (mmapMode 'r'); to share a writable output, create it in the main thread with openNpy(path, { mode: 'w+', shape, dtype }) and pass it: workers receive it as 'r+' and their writes reach the file";

const TEMP_PREFIX = 'mmnpy-';
const WORKER_FILE = path.join(__dirname, 'parallel-worker.js');
/** `workerData` of the threads backend's workers (`parallel-worker.ts` serves its port when set). */
const THREAD_DATA = { mmnpyParallel: true };

// --- the pool library, behind the few members used -------------------------------------

/** A tinypool worker (a child process). */
interface TinypoolWorker {
  once(event: string, listener: (...args: never[]) => void): void;
}

/** The members of tinypool 2's `Tinypool` this file uses (its own types need DOM's `Worker`). */
interface Tinypool {
  run(task: unknown, options: { name: string }): Promise<unknown>;
  destroy(): Promise<void>;
  readonly threads: TinypoolWorker[];
  on(event: 'error', listener: (e: unknown) => void): unknown;
}

type TinypoolModule = {
  Tinypool: new (options: {
    filename: string;
    runtime: 'child_process';
    minThreads: number;
    maxThreads: number;
    serialization: 'advanced';
    env: Record<string, string>;
  }) => Tinypool;
};

// --- options ---------------------------------------------------------------------------

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** joblib's `max_nbytes`: bytes, or a string with a 1024-based unit (`'1M'`); null disables. */
export function parseNbytes(v: unknown): number | null {
  if (v === null) return null;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  if (typeof v === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)B?\s*$/i.exec(v);
    if (m) return Math.floor(Number(m[1]) * UNITS[m[2]!.toUpperCase()]!);
  }
  throw invalidArg(`maxNbytes must be a non-negative number of bytes, a string such as '1M' (K, M, G: 1024-based), or null, got ${JSON.stringify(v) ?? String(v)}`);
}

function workerCount(nJobs: unknown): number {
  const cpus = os.availableParallelism();
  if (typeof nJobs !== 'number' || !Number.isInteger(nJobs) || nJobs === 0) {
    throw invalidArg(`nJobs must be a non-zero integer (-1: one worker per CPU, -2: all but one, ...), got ${String(nJobs)}`);
  }
  // joblib: a negative n means cpus + 1 + n.
  return nJobs > 0 ? nJobs : Math.max(1, cpus + 1 + nJobs);
}

/**
 * The environment of worker processes: each one's kernel pool gets its share of the CPUs
 * (`MMNPY_THREADS`, unless set), as joblib limits the inner threads of its workers; threads
 * share the process's one pool anyway.
 */
function childEnv(workers: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  env.MMNPY_THREADS ??= String(Math.max(1, Math.floor(os.availableParallelism() / workers)));
  return env;
}

function inputMode(m: unknown): 'r' | 'r+' | 'c' {
  switch (m) {
    case 'r': case 'readonly': return 'r';
    case 'r+': case 'readwrite': return 'r+';
    case 'c': case 'copyonwrite': return 'c';
    case 'w+': case 'write':
      throw invalidArg("mmapMode 'w+' would replace the temporary file the workers read: use 'r' (default), 'r+' or 'c'");
    default:
      throw invalidArg(`mmapMode must be 'r', 'r+' or 'c', got ${String(m)}`);
  }
}

function modulePath(module: PathLike | URL): string {
  let p: string;
  if (module instanceof URL) {
    if (module.protocol !== 'file:') throw invalidArg(`module must be a file URL or path, got ${module.href}`);
    p = fileURLToPath(module);
  } else if (typeof module === 'string' && module.startsWith('file:')) p = fileURLToPath(module);
  else if (typeof module === 'string' && module.length > 0) p = path.resolve(module);
  else if (Buffer.isBuffer(module)) p = path.resolve(module.toString());
  else throw typeError('module must be a path or a file URL of the module that exports the function');
  if (!fs.existsSync(p)) throw invalidArg(`module ${p} does not exist (give the path or file URL of a module; package names are not resolved)`);
  return p;
}

// --- temporary folders -----------------------------------------------------------------

/** Folders of live pools, removed on exit and on SIGINT/SIGTERM. */
const liveFolders = new Set<string>();
let exitHooked = false;
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

function onSignal(sig: NodeJS.Signals): void {
  // Only when nobody else handles the signal: the process is about to die of it. Another
  // handler may keep the process running, and the 'exit' hook cleans up if it exits later.
  if (process.listenerCount(sig) !== 1) return;
  removeAll();
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  process.kill(process.pid, sig);
}

function trackFolder(dir: string): void {
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', removeAll);
  }
  if (liveFolders.size === 0) for (const s of SIGNALS) process.on(s, onSignal);
  liveFolders.add(dir);
}

function untrackFolder(dir: string): void {
  liveFolders.delete(dir);
  if (liveFolders.size === 0) for (const s of SIGNALS) process.removeListener(s, onSignal);
}

function removeAll(): void {
  for (const d of liveFolders) fs.rmSync(d, { recursive: true, force: true });
  liveFolders.clear();
}

function readText(p: string): string {
  try {
    return fs.readFileSync(p, 'utf8').trim();
  } catch {
    return '';
  }
}

/** Who made a folder: a pid is only meaningful within one boot and one pid namespace. */
function owner(): { pid: number; boot: string; pidns: string } {
  let pidns = '';
  try {
    pidns = fs.readlinkSync('/proc/self/ns/pid');
  } catch {
    // not Linux
  }
  return { pid: process.pid, boot: readText('/proc/sys/kernel/random/boot_id'), pidns };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the folders left by dead processes of this user (killed before they could clean up). */
function removeDeadFolders(bases: string[]): void {
  const me = owner();
  const uid = process.getuid?.();
  for (const base of new Set(bases)) {
    let names: string[];
    try {
      names = fs.readdirSync(base);
    } catch {
      continue;
    }
    for (const name of names) {
      const m = /^mmnpy-(\d+)-[0-9A-Za-z]+$/.exec(name);
      if (!m || Number(m[1]) === process.pid) continue;
      const dir = path.join(base, name);
      try {
        if (uid !== undefined && fs.statSync(dir).uid !== uid) continue;
        const o = JSON.parse(fs.readFileSync(path.join(dir, '.owner'), 'utf8')) as ReturnType<typeof owner>;
        const rebooted = o.boot !== '' && me.boot !== '' && o.boot !== me.boot;
        if (rebooted || (o.pidns === me.pidns && o.boot === me.boot && !alive(Number(m[1])))) fs.rmSync(dir, { recursive: true, force: true });
      } catch {
        // no owner file yet (being created), or not ours to judge: keep it
      }
    }
  }
}

const SHM = '/dev/shm';

/** Whether `/dev/shm` has room for `bytes` plus a margin, in its size limit and in free memory. */
function shmHasRoom(bytes: number): boolean {
  try {
    const st = fs.statfsSync(SHM);
    const free = Math.min(st.bavail * st.bsize, os.freemem());
    return free >= bytes + Math.max(256 * 2 ** 20, bytes / 4);
  } catch {
    return false;
  }
}

/** The pool's temporary folders, one per base folder used, made on first need. */
class TempFolders {
  readonly folders = new Map<string, string>();
  private n = 0;

  constructor(private readonly option: string | undefined) {}

  /** The base folder for `bytes` more: the option, `MMNPY_TEMP_FOLDER`, `/dev/shm` with room, the OS's. */
  base(bytes: number): string {
    if (this.option !== undefined) return path.resolve(this.option);
    const env = process.env.MMNPY_TEMP_FOLDER;
    if (env !== undefined && env !== '') return path.resolve(env);
    return shmHasRoom(bytes) ? SHM : os.tmpdir();
  }

  /** A new file name in the pool's folder under the base chosen for `bytes`. */
  file(bytes: number): string {
    const base = this.base(bytes);
    let dir = this.folders.get(base);
    if (dir === undefined) {
      fs.mkdirSync(base, { recursive: true });
      dir = fs.mkdtempSync(path.join(base, `${TEMP_PREFIX}${process.pid}-`));
      fs.writeFileSync(path.join(dir, '.owner'), JSON.stringify(owner()));
      this.folders.set(base, dir);
      trackFolder(dir);
    }
    return path.join(dir, `${++this.n}.npy`);
  }

  removeAll(): void {
    for (const dir of this.folders.values()) {
      fs.rmSync(dir, { recursive: true, force: true });
      untrackFolder(dir);
    }
    this.folders.clear();
  }
}

// --- one call's arguments --------------------------------------------------------------

const storageIds = new WeakMap<Storage, number>();
let nextStorageId = 1;
function storageId(s: Storage): number {
  let id = storageIds.get(s);
  if (id === undefined) storageIds.set(s, (id = nextStorageId++));
  return id;
}

/**
 * Encodes the arguments of one call and owns what that takes until every started task has
 * settled: process-wide handles (threads), the temporary files of auto-memmapped arrays and the
 * main thread's mappings of them.
 */
class Sender {
  private readonly handles = new Map<Storage, number>();
  private readonly temps = new Map<string, NdArray>();
  private readonly prepared = new Set<Storage>();

  constructor(private readonly pool: Parallel, private readonly temp: TempFolders) {}

  encode(args: unknown): unknown {
    return encode(args, (a) => this.array(a));
  }

  private array(a: NdArray): unknown {
    if (a.closed) throw new MmnpyError('ERR_MMNPY_CLOSED', 'an argument array is closed: its memory was unmapped by close()');
    const m = a.mode;
    if (a.filename !== null && a.nbytes > 0 && (m === 'r' || m === 'r+' || m === 'w+')) {
      if (m === 'w+' && !this.prepared.has(a._s)) {
        // A 'w+' file is sparse: reserve its blocks so that a full disk or tmpfs is an error
        // here, not SIGBUS in a worker writing through its mapping.
        const s = a._s;
        native(() => binding.preallocateFile(s.info.filename!, s.info.fileOffset, s.byteLength));
        this.prepared.add(s);
      }
      return this.mapped(a, m === 'w+' ? 'r+' : m);
    }
    const max = this.pool.maxNbytes;
    if (max !== null && a.nbytes > max) return this.mapped(this.memmapped(a), this.pool.mmapMode);
    return copyWire(a);
  }

  private mapped(a: NdArray, mode: 'r' | 'r+' | 'c'): MappedWire {
    let handle: number | undefined;
    if (this.pool.backend === 'threads' && mode !== 'c') {
      const s = a._s;
      handle = this.handles.get(s);
      if (handle === undefined) {
        handle = native(() => s.native.share());
        this.handles.set(s, handle);
      }
    }
    const w = mappedWire(a, mode, handle);
    if (mode === 'r') w.hint = READ_ONLY_HINT;
    return w;
  }

  /** `a` written once to a preallocated temporary `.npy` and mapped (auto-memmapping). */
  private memmapped(a: NdArray): NdArray {
    const key = `${storageId(a._s)}:${a._offset}:${a.shape.join(',')}:${a.strides.join(',')}`;
    const done = this.temps.get(key);
    if (done !== undefined) return done;
    const file = this.temp.file(a.nbytes);
    try {
      native(() => a._s.native.savePreallocated(file, [...a.shape], [...a.strides], a._offset));
    } catch (e) {
      const err = e as MmnpyError;
      if (err.errno === 'ENOSPC' || err.errno === 'EFBIG' || err.errno === 'EDQUOT') {
        throw new MmnpyError(
          err.code,
          `${err.message}: auto-memmapping an argument of ${a.nbytes} bytes (over maxNbytes ${this.pool.maxNbytes}) needs that much room in ${path.dirname(file)}; pass tempFolder (or set MMNPY_TEMP_FOLDER) to a folder with room, or maxNbytes: null to copy arguments instead`,
          err.errno,
        );
      }
      throw e;
    }
    const mapped = loadNpy(file, { mmapMode: this.pool.mmapMode === 'r+' ? 'r+' : 'r' });
    this.temps.set(key, mapped);
    return mapped;
  }

  /** Releases the handles, closes and removes the temporary files. */
  release(): void {
    for (const h of this.handles.values()) binding.releaseShared(h);
    this.handles.clear();
    for (const t of this.temps.values()) {
      const file = t.filename!;
      t.close();
      fs.rmSync(file, { force: true });
    }
    this.temps.clear();
  }
}

// --- calls and the pool ----------------------------------------------------------------

interface Call {
  readonly total: number;
  readonly results: unknown[];
  readonly where: string;
  readonly sender: Sender;
  readonly onProgress: ((done: number, total: number) => void) | undefined;
  readonly resolve: (v: unknown[]) => void;
  readonly reject: (e: unknown) => void;
  readonly cleanupSignal: () => void;
  done: number;
  running: number;
  settled: boolean;
}

interface Job {
  call: Call;
  index: number;
  message: TaskMessage;
}

/** Rejection of a task whose worker died. */
class WorkerDied extends Error {
  constructor(readonly detail: string) {
    super(`worker ${detail}`);
  }
}

function abortError(signal: AbortSignal): Error {
  const e = new Error('The operation was aborted', { cause: signal.reason }) as Error & { code: string };
  e.name = 'AbortError';
  e.code = 'ABORT_ERR';
  return e;
}

/** Errors made from a worker's answer or death: `run` and `map` add their caller's frames to the stack. */
const fromWorkers = new WeakSet<object>();

/**
 * `e` with the frames of the code awaiting `run`/`map` appended when it came from a worker. Made
 * when the call rejects, not captured at every call (a stack capture costs several µs, a good part
 * of a tiny task's round trip): V8's async stack traces give the awaiting async functions.
 */
function withCaller(e: unknown): unknown {
  if (e instanceof Error && fromWorkers.has(e)) {
    fromWorkers.delete(e);
    const here = (new Error().stack ?? '').split('\n').slice(2).join('\n');
    if (here !== '') e.stack = `${e.stack}\n${here}`;
  }
  return e;
}

/** The worker's error, as the worker threw it (name, message, stack, code), with the task's index. */
function taskError(info: WorkerErrorInfo, index: number, call: Call): Error {
  const Ctor = { TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError }[info.name] ?? Error;
  const e =
    info.code !== undefined && info.code.startsWith('ERR_MMNPY_') ? new MmnpyError(info.code, info.message, info.errno) : new Ctor(info.message);
  if (e.name !== info.name) Object.defineProperty(e, 'name', { value: info.name, configurable: true, writable: true });
  const extra = e as Error & { code?: string; errno?: string; taskIndex: number };
  if (info.code !== undefined) extra.code = info.code;
  if (info.errno !== undefined) extra.errno = info.errno;
  extra.taskIndex = index;
  e.stack = `${info.stack ?? `${info.name}: ${info.message}`}\n    at task ${index} of ${call.where} (in a worker)`;
  fromWorkers.add(e);
  return e;
}

// --- runners: where tasks run ---------------------------------------------------------

/** Where a task's answer goes: the answer, or why there is none (`WorkerDied`, or an error sending it). */
type Done = (answer: TaskAnswer | undefined, failure: unknown) => void;

/** Runs tasks, one per worker at a time: `Parallel` never hands it more than `nJobs` at once. */
interface Runner {
  run(message: TaskMessage, done: Done): void;
  destroy(): Promise<void>;
}

function describeUncaught(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/** One worker thread of `ThreadRunner`, with the task it runs. */
interface ThreadSlot {
  readonly worker: Worker;
  /** The running task's number and answer callback (undefined when idle). */
  id: number;
  done: Done | undefined;
  /** The uncaught error the worker died of, if any. */
  uncaught: unknown;
}

/**
 * The threads backend: worker threads started here, each fed one `{ id, module, exportName,
 * args }` message at a time on its own port and answering `{ id, ... }`. Idle workers wait in a
 * ready stack (the last one used goes first: its caches are warm); a worker that exits rejects
 * its task and the next task starts a new one. Idle workers do not keep the process alive.
 *
 * Its listeners hold the runner's state only, never the `Parallel`: the garbage-collection
 * cleanup holds the runner.
 */
class ThreadRunner implements Runner {
  private readonly idle: ThreadSlot[] = [];
  private readonly live = new Set<ThreadSlot>();
  private nextId = 1;

  run(message: TaskMessage, done: Done): void {
    const slot = this.idle.pop() ?? this.spawn();
    const framed: ThreadTaskMessage = { id: this.nextId++, module: message.module, exportName: message.exportName, args: message.args };
    try {
      slot.worker.postMessage(framed);
    } catch (e) {
      // An argument structured clone refuses (a function, a symbol...): nothing was sent.
      this.idle.push(slot);
      done(undefined, e);
      return;
    }
    slot.id = framed.id;
    slot.done = done;
    slot.worker.ref();
  }

  private spawn(): ThreadSlot {
    const worker = new Worker(WORKER_FILE, { workerData: THREAD_DATA });
    const slot: ThreadSlot = { worker, id: 0, done: undefined, uncaught: undefined };
    const { idle, live } = this;
    worker.unref();
    worker.on('message', (a: ThreadTaskAnswer) => {
      const done = slot.done;
      if (done === undefined || a.id !== slot.id) return;
      slot.done = undefined;
      worker.unref();
      idle.push(slot);
      done(a, undefined);
    });
    // An uncaught error ends the worker: 'exit' follows and rejects the task.
    worker.on('error', (e: unknown) => {
      slot.uncaught ??= e;
    });
    worker.once('exit', (code: number) => {
      live.delete(slot);
      const i = idle.indexOf(slot);
      if (i >= 0) idle.splice(i, 1);
      const done = slot.done;
      slot.done = undefined;
      done?.(undefined, new WorkerDied(slot.uncaught !== undefined ? `threw an uncaught ${describeUncaught(slot.uncaught)}` : `exited with code ${code}`));
    });
    live.add(slot);
    return slot;
  }

  async destroy(): Promise<void> {
    this.idle.length = 0;
    await Promise.all([...this.live].map((s) => s.worker.terminate()));
  }
}

/**
 * Loads tinypool (an ES module: with a real import(), which TypeScript's CommonJS output would
 * turn into `require`) and starts the worker processes.
 */
function startTinypool(workers: number): Promise<Tinypool> {
  const load = new Function('s', 'return import(s)') as (s: string) => Promise<TinypoolModule>;
  return load('tinypool').then(({ Tinypool: TP }) => {
    const p = new TP({
      filename: WORKER_FILE,
      runtime: 'child_process',
      minThreads: workers,
      maxThreads: workers,
      // bigint, TypedArrays, Map... survive the channel (JSON would not).
      serialization: 'advanced',
      env: childEnv(workers),
    });
    // Errors of workers with no task are reported here instead of being thrown.
    p.on('error', ignore);
    return p;
  });
}

/**
 * The processes backend: tinypool's child processes. tinypool rejects the task of a process
 * that dies; the exit listeners added here say how it died (code or signal).
 */
class TinypoolRunner implements Runner {
  private readonly hooked = new WeakSet<TinypoolWorker>();
  private lastExit = '';

  constructor(private readonly tp: Tinypool) {}

  run(message: TaskMessage, done: Done): void {
    const answer = this.tp.run(message, { name: 'run' }) as Promise<TaskAnswer>;
    this.hookWorkers();
    answer.then(
      (a) => done(a, undefined),
      (e: unknown) => {
        // tinypool rejects from its own exit listener; ours ran before this reaction. No exit
        // seen: the task was not sent (its arguments cannot cross), the error as it is.
        const detail = this.lastExit;
        this.lastExit = '';
        done(undefined, detail !== '' ? new WorkerDied(detail) : e);
      },
    );
  }

  private hookWorkers(): void {
    for (const w of this.tp.threads) {
      if (this.hooked.has(w)) continue;
      this.hooked.add(w);
      w.once('exit', (code: number | null, sig?: NodeJS.Signals | null) => {
        this.lastExit = sig ? `was killed by ${sig}` : `exited with code ${code}`;
      });
    }
  }

  destroy(): Promise<void> {
    return this.tp.destroy();
  }
}

function ignore(): void {}

/** What the garbage-collection cleanup of a pool needs (never the pool itself). */
interface GcState {
  temp: TempFolders;
  runner: Runner | Promise<Runner> | undefined;
  watch: { closing: boolean };
}

/** Cleans up after pools collected without close(). Made here: a closure made in the constructor would hold its pool. */
const registryForGc = new FinalizationRegistry<GcState>((s) => {
  s.watch.closing = true;
  s.temp.removeAll();
  void Promise.resolve(s.runner)
    .then((r) => r?.destroy())
    .catch(ignore);
});

/**
 * A pool of workers that run exports of a module over arrays shared by mapping.
 * See `index.d.ts` for the documented contract.
 */
export class Parallel implements AsyncDisposable {
  readonly nJobs: number;
  readonly backend: ParallelBackend;
  readonly maxNbytes: number | null;
  readonly mmapMode: 'r' | 'r+' | 'c';
  readonly tempFolder: string | undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly temp: TempFolders;
  private readonly gcState: GcState;
  /** The runner once started; `starting` while tinypool loads. */
  private runner: Runner | undefined;
  private starting: Promise<Runner> | undefined;
  private readonly queue: Job[] = [];
  private readonly calls = new Set<Call>();
  private inFlight = 0;
  private closed: Promise<void> | undefined;
  /** What the garbage-collection cleanup shares with the pool (not the pool itself). */
  private readonly watch = { closing: false };
  private readonly modules = new Map<string, string>();

  constructor(options?: ParallelOptions) {
    if (options !== undefined && (options === null || typeof options !== 'object')) throw typeError('Parallel options must be an object');
    const o = options ?? {};
    this.nJobs = workerCount(o.nJobs ?? -1);
    const backend = o.backend ?? 'threads';
    if (backend !== 'threads' && backend !== 'processes') throw invalidArg(`backend must be 'threads' or 'processes', got ${String(backend)}`);
    this.backend = backend;
    this.maxNbytes = parseNbytes(o.maxNbytes === undefined ? '1M' : o.maxNbytes);
    this.mmapMode = inputMode(o.mmapMode ?? 'r');
    if (o.tempFolder !== undefined && (typeof o.tempFolder !== 'string' || o.tempFolder === '')) throw typeError('tempFolder must be a non-empty string');
    this.tempFolder = o.tempFolder;
    if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw typeError('signal must be an AbortSignal');
    this.signal = o.signal;
    this.signal?.addEventListener('abort', () => this.abortAll(), { once: true });
    this.temp = new TempFolders(o.tempFolder);
    removeDeadFolders([o.tempFolder, process.env.MMNPY_TEMP_FOLDER, SHM, os.tmpdir()].filter((b): b is string => typeof b === 'string' && b !== ''));
    this.gcState = { temp: this.temp, runner: undefined, watch: this.watch };
    registryForGc.register(this, this.gcState, this);
  }

  /** Runs `exportName(...args)` of `module` in a worker; resolves to its result. */
  async run(module: PathLike | URL, exportName: string, args: readonly unknown[]): Promise<unknown> {
    try {
      const [r] = await this.submit(module, exportName, [args], undefined, 'Parallel.run');
      return r;
    } catch (e) {
      throw withCaller(e);
    }
  }

  /** Runs `exportName(...argsList[i])` for every i; resolves to the results in order. */
  async map(module: PathLike | URL, exportName: string, argsList: readonly (readonly unknown[])[], options?: MapOptions): Promise<unknown[]> {
    try {
      return await this.submit(module, exportName, argsList, options, 'Parallel.map');
    } catch (e) {
      throw withCaller(e);
    }
  }

  private async submit(module: PathLike | URL, exportName: string, argsList: readonly (readonly unknown[])[], options: MapOptions | undefined, where: string): Promise<unknown[]> {
    if (this.watch.closing) throw new MmnpyError('ERR_MMNPY_CLOSED', 'the pool is closed');
    if (this.signal?.aborted) throw abortError(this.signal);
    const file = this.modulePath(module);
    if (typeof exportName !== 'string' || exportName === '') throw typeError('exportName must be the name of an exported function');
    if (!Array.isArray(argsList)) throw typeError('argsList must be an array of argument arrays');
    if (where === 'Parallel.run' && !Array.isArray(argsList[0])) throw typeError('args must be the array of arguments of the call: run(module, name, [a, 0, 500])');
    if (!argsList.every((a) => Array.isArray(a))) {
      throw typeError('each entry of argsList must be the array of arguments of one call: [[a, 0, 500], [a, 500, 1000]]');
    }
    if (options !== undefined && (options === null || typeof options !== 'object')) throw typeError('map options must be an object');
    const onProgress = options?.onProgress;
    if (onProgress !== undefined && typeof onProgress !== 'function') throw typeError('onProgress must be a function');
    const signal = options?.signal;
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw typeError('signal must be an AbortSignal');
    if (signal?.aborted) throw abortError(signal);
    if (argsList.length === 0) return [];
    const sender = new Sender(this, this.temp);
    let messages: TaskMessage[];
    try {
      messages = argsList.map((args) => ({ module: file, exportName, args: sender.encode(args) }));
    } catch (e) {
      sender.release();
      throw e;
    }
    const runner = this.start();
    return new Promise<unknown[]>((resolve, reject) => {
      const onAbort = (): void => this.settle(call, abortError(signal!));
      const call: Call = {
        total: messages.length,
        results: new Array<unknown>(messages.length),
        where: `${where} (${exportName} in ${file})`,
        sender,
        onProgress,
        resolve,
        reject,
        cleanupSignal: () => signal?.removeEventListener('abort', onAbort),
        done: 0,
        running: 0,
        settled: false,
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.calls.add(call);
      for (let index = 0; index < messages.length; index++) this.queue.push({ call, index, message: messages[index]! });
      if (runner instanceof Promise) runner.then(() => this.pump(), (e: unknown) => this.settle(call, e));
      else this.pump();
    });
  }

  /** The module's absolute path, checked to exist once per pool. */
  private modulePath(module: PathLike | URL): string {
    const key = typeof module === 'string' ? module : module instanceof URL ? module.href : undefined;
    const known = key === undefined ? undefined : this.modules.get(key);
    if (known !== undefined) return known;
    const p = modulePath(module);
    if (key !== undefined) this.modules.set(key, p);
    return p;
  }

  /** The runner, started on first use: threads at once, tinypool's processes once it has loaded. */
  private start(): Runner | Promise<Runner> {
    if (this.runner !== undefined) return this.runner;
    if (this.backend === 'threads') {
      // The workers' kernels share the process's pool: a worker waits while the pool's threads
      // run its kernel, and the pool balances all workers' kernels over the cores by work
      // stealing, so one descheduled worker does not hold up a pass (BENCHMARKS.md: measured
      // against each worker running its kernels on its own thread).
      this.runner = new ThreadRunner();
      this.gcState.runner = this.runner;
      return this.runner;
    }
    if (this.starting === undefined) {
      this.starting = startTinypool(this.nJobs).then((tp) => new TinypoolRunner(tp));
      this.gcState.runner = this.starting;
      this.starting.then(
        (r) => {
          this.runner = r;
          this.gcState.runner = r;
        },
        ignore,
      );
    }
    return this.starting;
  }

  /** Starts queued tasks while workers are free. */
  private pump(): void {
    const runner = this.runner;
    if (runner === undefined) return;
    while (this.inFlight < this.nJobs && this.queue.length > 0 && !this.watch.closing) {
      const job = this.queue.shift()!;
      if (job.call.settled) continue;
      this.inFlight++;
      job.call.running++;
      runner.run(job.message, (a, e) => this.finish(job, a, e));
    }
  }

  private finish(job: Job, answer: TaskAnswer | undefined, failure: unknown): void {
    this.inFlight--;
    const call = job.call;
    call.running--;
    if (call.settled) {
      if (call.running === 0) call.sender.release();
    } else if (answer?.ok === true) {
      try {
        call.results[job.index] = decodeOwned(answer.value);
        call.done++;
        call.onProgress?.(call.done, call.total);
        if (call.done === call.total) this.settle(call, undefined);
      } catch (e) {
        this.settle(call, e);
      }
    } else if (answer !== undefined) {
      this.settle(call, taskError((answer as { error: WorkerErrorInfo }).error, job.index, call));
    } else if (this.watch.closing || failure instanceof WorkerDied) {
      const e = this.watch.closing
        ? new MmnpyError('ERR_MMNPY_CLOSED', `the pool was closed while task ${job.index} of ${call.where} ran`)
        : new MmnpyError('ERR_MMNPY_WORKER_DIED', `a worker ${(failure as WorkerDied).detail} while running task ${job.index} of ${call.where}; the tasks not started were cancelled`);
      (e as MmnpyError & { taskIndex: number }).taskIndex = job.index;
      fromWorkers.add(e);
      this.settle(call, e);
    } else {
      // The task could not be sent: an argument structured clone refuses (a function...).
      const e = typeError(
        `the arguments of task ${job.index} of ${call.where} cannot be sent to a worker: ${String((failure as Error)?.message ?? failure)} (values cross by structured clone, NdArrays by their mapping)`,
      ) as TypeError & { code: string; taskIndex?: number; cause?: unknown };
      e.cause = failure;
      e.taskIndex = job.index;
      this.settle(call, e);
    }
    this.pump();
  }

  /** Resolves (no error) or rejects a call, cancels its tasks not started, and releases what it holds once none runs. */
  private settle(call: Call, error: unknown): void {
    if (call.settled) return;
    call.settled = true;
    this.calls.delete(call);
    call.cleanupSignal();
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i]!.call === call) this.queue.splice(i, 1);
    if (call.running === 0) call.sender.release();
    if (error === undefined) call.resolve(call.results);
    else call.reject(error);
  }

  private abortAll(): void {
    for (const call of [...this.calls]) this.settle(call, abortError(this.signal!));
  }

  /** Cancels the tasks not started, stops the workers, removes the temporary files. Idempotent. */
  close(): Promise<void> {
    if (this.closed !== undefined) return this.closed;
    this.watch.closing = true;
    registryForGc.unregister(this);
    const calls = [...this.calls];
    this.closed = (async () => {
      const runner = await Promise.resolve(this.runner ?? this.starting).catch(() => undefined);
      await runner?.destroy();
      for (const call of calls) this.settle(call, new MmnpyError('ERR_MMNPY_CLOSED', `the pool was closed before ${call.where} finished`));
      for (const call of calls) call.sender.release();
      this.temp.removeAll();
    })();
    return this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
