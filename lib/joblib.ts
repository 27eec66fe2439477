/**
 * joblib files: `load` (Python's `joblib.load`) and `dump` (`joblib.dump`). The format and the restricted
 * pickle machine live in `crates/core/src/joblib` and `crates/core/src/pickle`; here values cross as flat
 * steps (`crates/core/src/pickle/flat.rs` one way, the codes of `crates/node/src/joblib.rs` the other), so
 * that deep structures never recurse.
 */
import * as binding from '../binding';
import { dtypeOfTypedArray, TypedArray } from './dtype';
import { closedError, invalidArg, native, typeError } from './errors';
import { opts, toPath, wrap } from './io';
import { MmapMode, NdArray } from './ndarray';

export type { JoblibLoadOptions, DumpOptions, JoblibValue } from '../index';
import type { JoblibLoadOptions, DumpOptions, JoblibValue, PathLike } from '../index';

const MODES: Record<string, MmapMode> = { r: 'r', readonly: 'r', c: 'c', copyonwrite: 'c', 'r+': 'r+', readwrite: 'r+', 'w+': 'w+', write: 'w+' };

// Steps of a loaded value (crates/core/src/pickle/flat.rs).
const L_NONE = 0, L_TRUE = 1, L_FALSE = 2, L_NUM = 3, L_BIG = 4, L_STR = 5, L_BYTES = 6, L_COMPLEX = 7;
const L_LIST = 8, L_TUPLE = 9, L_OBJECT = 10, L_MAP = 11, L_SET = 12, L_END = 13, L_ARRAY = 14, L_REF = 15;

interface Frame { kind: number; c: unknown[] | Record<string, unknown> | Map<unknown, unknown> | Set<unknown>; key: unknown; hasKey: boolean }

function setKey(o: Record<string, unknown>, key: string, v: unknown): void {
  // A '__proto__' key is data, never the prototype.
  if (key === '__proto__') Object.defineProperty(o, key, { value: v, writable: true, enumerable: true, configurable: true });
  else o[key] = v;
}

/**
 * Like `joblib.load(path, mmap_mode=...)`: reads a file written by Python's `joblib.dump` (pickle protocols 2 to 5,
 * uncompressed or zlib/gzip/bz2/xz/lzma/lz4-compressed) or by `dump`. With `mmapMode`, each array of an
 * uncompressed file is an `NdArray` mapped in place. The pickle is interpreted, never run.
 */
export function load<T = JoblibValue>(path: PathLike, options?: JoblibLoadOptions): T {
  const o = opts(options, 'load');
  const p = toPath(path);
  const copy = o.allowCopy === true;
  let mode: MmapMode | undefined;
  if (o.mmapMode !== undefined && o.mmapMode !== null) {
    mode = MODES[o.mmapMode as string];
    if (mode === undefined) throw invalidArg(`mmapMode must be one of 'r', 'r+', 'w+', 'c' (or 'readonly', 'readwrite', 'write', 'copyonwrite'), got '${String(o.mmapMode)}'`);
  }
  const n = native(() => binding.loadJoblib(p, mode, copy));
  const kinds = n.kinds();
  const nums = n.nums();
  const strs = n.strs();
  const bytes = n.bytes();
  const arrays = native(() => n.takeArrays()).map((a) => wrap(a, copy));
  const objs: unknown[] = [];
  const frames: Frame[] = [];
  let root: unknown = undefined;
  let ni = 0, si = 0, bi = 0, ai = 0;
  const put = (v: unknown): void => {
    const f = frames[frames.length - 1];
    if (f === undefined) {
      root = v;
      return;
    }
    if (f.kind === L_LIST || f.kind === L_TUPLE) (f.c as unknown[]).push(v);
    else if (f.kind === L_SET) (f.c as Set<unknown>).add(v);
    else if (!f.hasKey) {
      f.key = v;
      f.hasKey = true;
    } else {
      if (f.kind === L_OBJECT) setKey(f.c as Record<string, unknown>, f.key as string, v);
      else (f.c as Map<unknown, unknown>).set(f.key, v);
      f.hasKey = false;
    }
  };
  for (let i = 0; i < kinds.length; i++) {
    const k = kinds[i];
    switch (k) {
      case L_NONE: put(null); break;
      case L_TRUE: put(true); break;
      case L_FALSE: put(false); break;
      case L_NUM: put(nums[ni++]); break;
      case L_BIG: {
        const sign = nums[ni++]!;
        const mag = BigInt(strs[si++]!);
        put(sign < 0 ? -mag : mag);
        break;
      }
      case L_STR: put(strs[si++]); break;
      case L_BYTES: {
        const len = nums[ni++]!;
        const b = bytes.slice(bi, bi + len);
        bi += len;
        const u = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
        objs.push(u);
        put(u);
        break;
      }
      case L_COMPLEX: put({ re: nums[ni++]!, im: nums[ni++]! }); break;
      case L_LIST: case L_TUPLE: case L_OBJECT: case L_MAP: case L_SET: {
        const c = k === L_OBJECT ? {} : k === L_MAP ? new Map() : k === L_SET ? new Set() : [];
        objs.push(c);
        put(c);
        frames.push({ kind: k, c, key: undefined, hasKey: false });
        break;
      }
      case L_END: frames.pop(); break;
      case L_ARRAY: {
        const a = arrays[ai++]!;
        objs.push(a);
        put(a);
        break;
      }
      case L_REF: put(objs[nums[ni++]!]); break;
      default: throw invalidArg(`unknown value step ${k}`);
    }
  }
  return root as T;
}

// Steps of a value being dumped (crates/node/src/joblib.rs, `code`).
const D_NONE = 0, D_TRUE = 1, D_FALSE = 2, D_INT = 3, D_BIG = 4, D_STR = 5, D_BYTES = 6, D_FLOAT = 7;
const D_LIST = 8, D_TUPLE = 9, D_DICT = 10, D_SET = 12, D_END = 13, D_GET = 15, D_MEMO = 16;
const FLUSH_STEPS = 1 << 16;

/** Little-endian two's complement bytes of a bigint. */
function bigBytes(v: bigint): Uint8Array {
  const out: number[] = [];
  let x = v;
  for (;;) {
    const b = Number(x & 0xffn);
    out.push(b);
    x >>= 8n;
    if ((x === 0n && (b & 0x80) === 0) || (x === -1n && (b & 0x80) !== 0)) break;
  }
  return Uint8Array.from(out);
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Containers (arrays, plain objects, Maps, Sets) reached more than once: written once, then referenced. */
function sharedContainers(value: unknown): Set<object> {
  const seen = new Set<object>();
  const shared = new Set<object>();
  const todo: unknown[] = [value];
  while (todo.length > 0) {
    const v = todo.pop();
    if (v === null || typeof v !== 'object' || v instanceof NdArray || ArrayBuffer.isView(v)) continue;
    const isContainer = Array.isArray(v) || v instanceof Map || v instanceof Set || isPlainObject(v);
    if (!isContainer) continue;
    if (seen.has(v)) {
      shared.add(v);
      continue;
    }
    seen.add(v);
    if (Array.isArray(v)) for (const x of v) todo.push(x);
    else if (v instanceof Map) for (const [, x] of v) todo.push(x);
    else if (v instanceof Set) { /* elements are keys: scalars or tuples, never shared containers */ }
    else for (const k of Object.keys(v)) todo.push((v as Record<string, unknown>)[k]);
  }
  return shared;
}

/** A value to write, or the end of a container (of a tuple key, which may not contain itself). */
type Task = { v: unknown; where: string; key?: boolean } | { end: true; tuple?: object };

/**
 * Like `joblib.dump(value, path, compress=...)`: writes `value` (see `JoblibValue`) as joblib's pickle format,
 * atomically, so that Python's `joblib.load(path, mmap_mode='r')` returns the same structure with arrays mapped.
 * `NdArray`s are written straight from their memory (a mapped array is never copied whole).
 */
export function dump(value: unknown, path: PathLike, options?: DumpOptions): void {
  const o = opts(options, 'dump');
  const p = toPath(path);
  let level: number | undefined;
  const c = o.compress;
  if (c === undefined || c === null || c === false || c === 0) level = undefined;
  else if (c === true) level = 3;
  else if (typeof c === 'number' && Number.isInteger(c) && c >= 1 && c <= 9) level = c;
  else throw invalidArg(`compress must be a boolean or a level from 0 to 9, got ${String(c)}`);
  const shared = sharedContainers(value);
  const memo = new Map<object, number>();
  const w = native(() => binding.createJoblib(p, level, o.durable === true));
  let kinds: number[] = [];
  let nums: number[] = [];
  let strs: string[] = [];
  let blobs: Uint8Array[] = [];
  const flush = (): void => {
    if (kinds.length === 0) return;
    let total = 0;
    for (const b of blobs) total += b.byteLength;
    const blob = new Uint8Array(total);
    let at = 0;
    for (const b of blobs) { blob.set(b, at); at += b.byteLength; }
    const k = Uint8Array.from(kinds), n = Float64Array.from(nums), s = strs;
    native(() => w.events(k, n, s, blob));
    kinds = []; nums = []; strs = []; blobs = [];
  };
  const inProgressTuples = new Set<object>();
  try {
    const todo: Task[] = [{ v: value, where: 'value' }];
    while (todo.length > 0) {
      if (kinds.length >= FLUSH_STEPS) flush();
      const t = todo.pop()!;
      if ('end' in t) {
        if (t.tuple !== undefined) inProgressTuples.delete(t.tuple);
        kinds.push(D_END);
        continue;
      }
      const { v, where, key } = t;
      if (v === null) kinds.push(D_NONE);
      else if (v === true) kinds.push(D_TRUE);
      else if (v === false) kinds.push(D_FALSE);
      else if (typeof v === 'number') {
        if (Number.isSafeInteger(v) && !Object.is(v, -0)) kinds.push(D_INT);
        else kinds.push(D_FLOAT);
        nums.push(v);
      } else if (typeof v === 'bigint') {
        if (v >= -(2n ** 53n) + 1n && v <= 2n ** 53n - 1n) {
          kinds.push(D_INT);
          nums.push(Number(v));
        } else {
          const b = bigBytes(v);
          kinds.push(D_BIG);
          nums.push(b.byteLength);
          blobs.push(b);
        }
      } else if (typeof v === 'string') {
        kinds.push(D_STR);
        strs.push(v);
      } else if (typeof v === 'object' && key === true) {
        // A Map key or Set element: Python needs a hashable value; an array becomes a tuple.
        if (!Array.isArray(v)) throw typeError(`${where}: a Map key or Set element must be a string, number, bigint, boolean, null or an array of those (a Python tuple), got ${v.constructor?.name ?? 'an object'}`);
        if (inProgressTuples.has(v)) throw typeError(`${where}: an array used as a key contains itself`);
        inProgressTuples.add(v);
        kinds.push(D_TUPLE);
        todo.push({ end: true, tuple: v });
        for (let i = v.length - 1; i >= 0; i--) todo.push({ v: v[i], where: `${where}[${i}]`, key: true });
      } else if (v instanceof NdArray) {
        if (v.closed) throw closedError();
        flush();
        const a = v;
        native(() => w.addArray(a._s.native, [...a.shape], [...a.strides], a._offset));
      } else if (v instanceof Uint8Array || v instanceof ArrayBuffer || v instanceof DataView) {
        const b = v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
        kinds.push(D_BYTES);
        nums.push(b.byteLength);
        blobs.push(b);
      } else if (ArrayBuffer.isView(v)) {
        const dtype = dtypeOfTypedArray(v as TypedArray);
        if (dtype === undefined) throw typeError(`${where}: unsupported TypedArray ${v.constructor.name}`);
        flush();
        const ta = v as TypedArray;
        const bytes = new Uint8Array(ta.buffer, ta.byteOffset, ta.byteLength);
        native(() => w.addBytes(bytes, dtype, [ta.length]));
      } else if (typeof v === 'object' && (Array.isArray(v) || v instanceof Map || v instanceof Set || isPlainObject(v))) {
        const m = memo.get(v);
        if (m !== undefined) {
          kinds.push(D_GET);
          nums.push(m);
          continue;
        }
        kinds.push(Array.isArray(v) ? D_LIST : v instanceof Set ? D_SET : D_DICT);
        if (shared.has(v)) {
          kinds.push(D_MEMO);
          memo.set(v, memo.size);
        }
        todo.push({ end: true });
        if (Array.isArray(v)) {
          for (let i = v.length - 1; i >= 0; i--) todo.push({ v: v[i], where: `${where}[${i}]` });
        } else if (v instanceof Set) {
          const items = [...v];
          for (let i = items.length - 1; i >= 0; i--) todo.push({ v: items[i], where: `${where} (a Set element)`, key: true });
        } else if (v instanceof Map) {
          const items = [...v];
          for (let i = items.length - 1; i >= 0; i--) {
            const [k, x] = items[i]!;
            todo.push({ v: x, where: `${where}.get(${String(k)})` });
            todo.push({ v: k, where: `${where} (a Map key)`, key: true });
          }
        } else {
          const ks = Object.keys(v);
          for (let i = ks.length - 1; i >= 0; i--) {
            const k = ks[i]!;
            todo.push({ v: (v as Record<string, unknown>)[k], where: `${where}.${k}` });
            todo.push({ v: k, where, key: true });
          }
        }
      } else {
        const what = v === undefined ? 'undefined' : typeof v === 'object' ? (v.constructor?.name ?? 'an object') : typeof v;
        throw typeError(`${where}: dump writes null, booleans, numbers, bigints, strings, Uint8Arrays, TypedArrays, NdArrays, arrays, plain objects, Maps and Sets; got ${what}`);
      }
    }
    flush();
    native(() => w.finish());
  } catch (e) {
    w.abort();
    throw e;
  }
}
