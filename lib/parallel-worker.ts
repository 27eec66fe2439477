/**
 * The module every `Parallel` worker (thread or child process) runs: tinypool calls `run` with
 * one task, which maps the task's arrays (`transfer.ts`), calls the user's export, and answers
 * with the encoded result or the error (its name, message, stack and code kept: structured
 * clone drops an error's own properties).
 */
import { pathToFileURL } from 'node:url';
import { Receiver, encodeResult } from './transfer';

/** What the main thread sends per task. */
export interface TaskMessage {
  module: string;
  exportName: string;
  /** The encoded arguments (an array). */
  args: unknown;
}

/** What a task answers. */
export type TaskAnswer = { ok: true; value: unknown } | { ok: false; error: WorkerErrorInfo };

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
const modules = new Map<string, Promise<Record<string, unknown>>>();

async function userFunction(module: string, exportName: string): Promise<(...args: unknown[]) => unknown> {
  let loading = modules.get(module);
  if (loading === undefined) {
    const url = /^[a-z][a-z0-9+.-]*:/i.test(module) && !/^[a-z]:[\\/]/i.test(module) ? module : pathToFileURL(module).href;
    loading = importModule(url);
    modules.set(module, loading);
    loading.catch(() => modules.delete(module));
  }
  const mod = await loading;
  let f = mod[exportName];
  // A CommonJS module's exports arrive as `default` (and usually as named exports too).
  if (typeof f !== 'function' && mod.default !== null && typeof mod.default === 'object') f = (mod.default as Record<string, unknown>)[exportName];
  if (typeof f !== 'function') throw new TypeError(`${module} has no exported function '${exportName}'`);
  return f as (...args: unknown[]) => unknown;
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

/** The tinypool handler: one task. */
export async function run(task: TaskMessage): Promise<TaskAnswer> {
  try {
    const f = await userFunction(task.module, task.exportName);
    const args = receiver.decode(task.args) as unknown[];
    const value = await f(...args);
    return { ok: true, value: encodeResult(value) };
  } catch (e) {
    return { ok: false, error: errorInfo(e) };
  } finally {
    receiver.endTask();
  }
}
