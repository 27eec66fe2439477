/** Errors: every failure mmnpy reports is an `Error` with a stable `code`. */

/** The error class of mmnpy. `code` is stable (`ERR_MMNPY_...`); the message names the file and the problem. */
export class MmnpyError extends Error {
  readonly code: string;
  /** The errno name (`ENOENT`) when the operating system refused. */
  readonly errno?: string;

  constructor(code: string, message: string, errno?: string) {
    super(message);
    this.name = 'MmnpyError';
    this.code = code;
    if (errno !== undefined) this.errno = errno;
  }
}

/** A `RangeError` with a `code`, for indices out of range. */
export function rangeError(message: string): RangeError & { code: string } {
  const e = new RangeError(message) as RangeError & { code: string };
  e.code = 'ERR_MMNPY_OUT_OF_RANGE';
  return e;
}

/** A `TypeError` with a `code`, for arguments of the wrong type. */
export function typeError(message: string): TypeError & { code: string } {
  const e = new TypeError(message) as TypeError & { code: string };
  e.code = 'ERR_MMNPY_INVALID_ARG';
  return e;
}

export function invalidArg(message: string): MmnpyError {
  return new MmnpyError('ERR_MMNPY_INVALID_ARG', message);
}

export function closedError(): MmnpyError {
  return new MmnpyError('ERR_MMNPY_CLOSED', 'the array is closed: its memory was unmapped by close()');
}

/** Converts an error thrown by the native addon into an `MmnpyError` (or `RangeError`). */
export function fromNative(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  let code = (e as { code?: unknown }).code;
  // Errors of native async tasks carry their code in the message: "ERR_MMNPY_X: ...".
  const tagged = /^(ERR_MMNPY_[A-Z_]+): ([\s\S]*)$/.exec(e.message);
  if (tagged && (typeof code !== 'string' || !code.startsWith('ERR_MMNPY_'))) {
    code = tagged[1]!;
    e.message = tagged[2]!;
  }
  if (typeof code !== 'string' || !code.startsWith('ERR_MMNPY_')) return e;
  if (code === 'ERR_MMNPY_OUT_OF_RANGE') return rangeError(e.message);
  const m = /\[(E[A-Z0-9]+)\]$/.exec(e.message);
  const err = new MmnpyError(code, m ? e.message.slice(0, m.index).trimEnd() : e.message, m?.[1]);
  return err;
}

/**
 * Counts native calls: any of them may have written memory that a copied window (`allowCopy`)
 * holds a copy of, so `Storage` drops its copies when the count has moved since it took them.
 */
export const nativeCalls = { n: 0 };

/** Runs a native call, converting its errors. */
export function native<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw fromNative(e);
  } finally {
    nativeCalls.n++;
  }
}

/** Awaits a native promise, converting its errors. */
export async function nativeAsync<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await native(f);
  } catch (e) {
    throw fromNative(e);
  } finally {
    // The task wrote (if it did) on another thread until now.
    nativeCalls.n++;
  }
}
