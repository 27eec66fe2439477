/**
 * The module every `Parallel` worker runs. A task maps its arrays (`transfer.ts`), calls the
 * user's export, and answers with the encoded result or the error (its name, message, stack
 * and code kept: structured clone drops an error's own properties).
 *
 * Two ways in:
 * - worker threads (`backend: 'threads'`) are started by `parallel.ts` itself with
 *   `workerData.mmnpyParallel` set: each gets `{ id, module, exportName, args }` messages on
 *   its `parentPort` and answers `{ id, ...TaskAnswer }` on it, one task at a time (the fast
 *   path: no pool library between the two threads);
 * - child processes (`backend: 'processes'`) are run by tinypool, which calls the `run` export.
 *
 * Task modules are imported once per worker and their exports looked up once per name.
 */
import { isMainThread, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { Receiver, encodeResult } from './transfer';

/** What the main thread sends per task. */
export interface TaskMessage {
  module: string;
  exportName: string;
  /** The encoded arguments (an array). */
  args: unknown;
}

/** A task as the threads backend frames it: its number on that worker. */
export interface ThreadTaskMessage extends TaskMessage {
  id: number;
}

/** What a task answers. */
export type TaskAnswer = { ok: true; value: unknown } | { ok: false; error: WorkerErrorInfo };

/** The threads backend's answer: the task's number and its answer. */
export type ThreadTaskAnswer = TaskAnswer & { id: number };

export interface WorkerErrorInfo {
  name: string;
  message: string;
  stack: string | undefined;
  code: string | undefined;
  errno: string | undefined;
}

const receiver = new Receiver();
// Cached files removed or replaced meanwhile (a finished call's temporary files) are unmapped
// between tasks too, so an idle worker does not keep their pages.
setInterval(() => receiver.sweep(), 1000).unref();

// `import()` as written: TypeScript's CommonJS output would turn it into `require`, which
// cannot load ES modules.
const importModule = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<Record<string, unknown>>;
type UserFunction = (...args: unknown[]) => unknown;
/** Modules being imported or imported (a failed import is retried by the next task). */
const modules = new Map<string, Promise<Record<string, unknown>>>();
/** Functions found, by module and export name: a task of a known function starts synchronously. */
const functions = new Map<string, UserFunction>();

function importOnce(module: string): Promise<Record<string, unknown>> {
  let loading = modules.get(module);
  if (loading === undefined) {
    const url = /^[a-z][a-z0-9+.-]*:/i.test(module) && !/^[a-z]:[\\/]/i.test(module) ? module : pathToFileURL(module).href;
    loading = importModule(url);
    modules.set(module, loading);
    loading.catch(() => modules.delete(module));
  }
  return loading;
}

function lookUp(mod: Record<string, unknown>, module: string, exportName: string): UserFunction {
  let f = mod[exportName];
  // A CommonJS module's exports arrive as `default` (and usually as named exports too).
  if (typeof f !== 'function' && mod.default !== null && typeof mod.default === 'object') f = (mod.default as Record<string, unknown>)[exportName];
  if (typeof f !== 'function') throw new TypeError(`${module} has no exported function '${exportName}'`);
  return f as UserFunction;
}

function errorInfo(e: unknown): WorkerErrorInfo {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    const errno = (e as { errno?: unknown }).errno;
    return {
      name: e.name,
      message: e.message,
      stack: e.stack,
      code: typeof code === 'string' ? code : undefined,
      errno: typeof errno === 'string' ? errno : undefined,
    };
  }
  return { name: 'Error', message: `a task threw a non-Error value: ${String(e)}`, stack: undefined, code: undefined, errno: undefined };
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';
}

function succeeded(value: unknown): TaskAnswer {
  try {
    return { ok: true, value: encodeResult(value) };
  } catch (e) {
    return { ok: false, error: errorInfo(e) };
  } finally {
    receiver.endTask();
  }
}

function failed(e: unknown): TaskAnswer {
  receiver.endTask();
  return { ok: false, error: errorInfo(e) };
}

/** Calls the task's function; synchronously when the function is known and returns a plain value. */
function callTask(task: TaskMessage, f: UserFunction): TaskAnswer | Promise<TaskAnswer> {
  let value: unknown;
  try {
    const args = receiver.decode(task.args) as unknown[];
    value = f(...args);
  } catch (e) {
    return failed(e);
  }
  return isThenable(value) ? Promise.resolve(value).then(succeeded, failed) : succeeded(value);
}

/** One task, start to answer. */
function runTask(task: TaskMessage): TaskAnswer | Promise<TaskAnswer> {
  const key = `${task.exportName}\0${task.module}`;
  const f = functions.get(key);
  if (f !== undefined) return callTask(task, f);
  return importOnce(task.module).then(
    (mod) => {
      let found: UserFunction;
      try {
        found = lookUp(mod, task.module, task.exportName);
      } catch (e) {
        return failed(e);
      }
      functions.set(key, found);
      return callTask(task, found);
    },
    (e: unknown) => failed(e),
  );
}

/** The tinypool handler (child processes): one task. */
export async function run(task: TaskMessage): Promise<TaskAnswer> {
  return runTask(task);
}

// --- the threads backend's loop ---------------------------------------------------------

/** Waits until what the task printed has left this thread (as tinypool does), so it shows before the answer. */
function flushed(): Promise<void> | undefined {
  const out = process.stdout.writableLength > 0;
  const err = process.stderr.writableLength > 0;
  if (!out && !err) return undefined;
  return Promise.all([
    out ? new Promise<void>((r) => process.stdout.write('', () => r())) : undefined,
    err ? new Promise<void>((r) => process.stderr.write('', () => r())) : undefined,
  ]).then(() => undefined);
}

/**
 * How long a worker thread that answered a task keeps polling its port for the next one before
 * it goes back to sleep in its event loop (ns; `MMNPY_PARALLEL_SPIN_US` in microseconds, 0 turns
 * it off). A sleeping thread is woken through the kernel, and on an idle machine that wake-up
 * (the core leaving its idle state) costs more than a tiny task's whole round trip: polling for
 * a moment catches the next task of a `map` or of back-to-back `run` calls without it. Bounded
 * twice, so that the thread's own timers and promises still run: by this window after each
 * answer, and by `SPIN_TOTAL_NS` in all.
 */
const SPIN_NS = spinWindow(process.env.MMNPY_PARALLEL_SPIN_US);
const SPIN_TOTAL_NS = 2_000_000n;

function spinWindow(us: string | undefined): bigint {
  const v = us === undefined || us === '' ? 200 : Number(us);
  return Number.isFinite(v) && v > 0 ? BigInt(Math.round(v * 1000)) : 0n;
}

function serveThreads(port: NonNullable<typeof parentPort>): void {
  /** Sends a task's answer; false when it waits for output to flush first (sent later). */
  const reply = (id: number, answer: TaskAnswer): boolean => {
    const send = (): void => {
      try {
        (answer as ThreadTaskAnswer).id = id;
        port.postMessage(answer);
      } catch (e) {
        // A result structured clone refuses (a function, a class instance with private state...).
        const info = errorInfo(e);
        info.message = `the task's result cannot be sent to the main thread: ${info.message}`;
        port.postMessage({ id, ok: false, error: info });
      }
    };
    const wait = flushed();
    if (wait === undefined) send();
    else void wait.then(send);
    return wait === undefined;
  };
  /** Runs a task; true when its answer is already sent. */
  const serve = (task: ThreadTaskMessage): boolean => {
    const answer = runTask(task);
    if (answer instanceof Promise) {
      void answer.then((a) => reply(task.id, a));
      return false;
    }
    return reply(task.id, answer);
  };
  port.on('message', (task: ThreadTaskMessage) => {
    if (!serve(task) || SPIN_NS === 0n) return;
    // Answered at once: poll for the next task a moment (see SPIN_NS); a task answered later
    // (a promise, output to flush) needs the event loop, so the polling stops there.
    const start = process.hrtime.bigint();
    let last = start;
    for (;;) {
      const next = receiveMessageOnPort(port);
      const t = process.hrtime.bigint();
      if (next !== undefined) {
        if (!serve(next.message as ThreadTaskMessage)) return;
        last = process.hrtime.bigint();
      } else if (t - last > SPIN_NS || t - start > SPIN_TOTAL_NS) {
        return;
      }
    }
  });
}

if (!isMainThread && parentPort !== null && (workerData as { mmnpyParallel?: unknown } | null)?.mmnpyParallel === true) serveThreads(parentPort);
