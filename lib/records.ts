/**
 * Elements of the dtypes beyond numbers, read and written in JavaScript over a DataView: records
 * (a plain object per element, nested for nested records, nested arrays for subarray fields),
 * `bytes<N>` (`S`), `str<N>` (`U`, UTF-32) and `void<N>`, datetime64 / timedelta64 ticks.
 * The full dtype comes from the addon as JSON (`describeDtype`, `NativeArray.descr`).
 */
import type { DType } from './dtype';
import { halfToNumber, numberToHalf } from './dtype';
import { MmnpyError, typeError } from './errors';
import { checkValue, Complex } from './storage';
import { NAT, TimeUnit, toTicks } from './datetime';

export type { FieldInfo } from '../index';
import type { FieldInfo } from '../index';

/** A dtype as the addon describes it. */
export interface Descr {
  kind: 'num' | 'time' | 'bytes' | 'str' | 'void' | 'record';
  name: string;
  itemsize: number;
  order: '<' | '>' | '|';
  alignment: number;
  dtype?: DType;
  delta?: boolean;
  unit?: string;
  multiple?: number;
  fields?: { name: string; offset: number; shape: number[]; descr: Descr }[];
}

export function timeUnit(d: Descr): TimeUnit {
  return { unit: d.unit!, multiple: d.multiple!, delta: d.delta!, name: d.name };
}

/** `fields` as the API lists them. */
export function fieldList(d: Descr): FieldInfo[] {
  return (d.fields ?? []).map((f) => ({ name: f.name, dtype: f.descr.name, offset: f.offset, shape: [...f.shape] }));
}

/** Reads one element of `d` at byte `o` of `w`. */
export function readElem(d: Descr, w: DataView, o: number): unknown {
  const le = d.order !== '>';
  switch (d.kind) {
    case 'num': return readNum(d.dtype!, w, o, le);
    case 'time': {
      const t = w.getBigInt64(o, le);
      return t === NAT ? null : t;
    }
    case 'bytes': {
      let n = d.itemsize;
      while (n > 0 && w.getUint8(o + n - 1) === 0) n--;
      return new Uint8Array(w.buffer.slice(w.byteOffset + o, w.byteOffset + o + n));
    }
    case 'void': return new Uint8Array(w.buffer.slice(w.byteOffset + o, w.byteOffset + o + d.itemsize));
    case 'str': {
      let n = d.itemsize / 4;
      while (n > 0 && w.getUint32(o + 4 * (n - 1), le) === 0) n--;
      let s = '';
      for (let i = 0; i < n; i++) {
        const c = w.getUint32(o + 4 * i, le);
        if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
          throw new MmnpyError('ERR_MMNPY_INVALID_STRING', `invalid UTF-32 code point 0x${c.toString(16)} at character ${i} of a ${d.name} element`);
        }
        s += String.fromCodePoint(c);
      }
      return s;
    }
    case 'record': {
      const out: Record<string, unknown> = {};
      for (const f of d.fields!) out[f.name] = f.shape.length === 0 ? readElem(f.descr, w, o + f.offset) : readSub(f.descr, f.shape, 0, w, o + f.offset);
      return out;
    }
  }
}

function readSub(d: Descr, shape: number[], axis: number, w: DataView, o: number): unknown[] {
  const n = shape[axis]!;
  const step = shape.slice(axis + 1).reduce((a, b) => a * b, 1) * d.itemsize;
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) out[i] = axis + 1 === shape.length ? readElem(d, w, o + i * step) : readSub(d, shape, axis + 1, w, o + i * step);
  return out;
}

function readNum(dt: DType, w: DataView, o: number, le: boolean): unknown {
  switch (dt) {
    case 'bool': return w.getUint8(o) !== 0;
    case 'int8': return w.getInt8(o);
    case 'uint8': return w.getUint8(o);
    case 'int16': return w.getInt16(o, le);
    case 'uint16': return w.getUint16(o, le);
    case 'int32': return w.getInt32(o, le);
    case 'uint32': return w.getUint32(o, le);
    case 'int64': return w.getBigInt64(o, le);
    case 'uint64': return w.getBigUint64(o, le);
    case 'float16': return halfToNumber(w.getUint16(o, le));
    case 'float32': return w.getFloat32(o, le);
    case 'float64': return w.getFloat64(o, le);
    case 'complex64': return { re: w.getFloat32(o, le), im: w.getFloat32(o + 4, le) };
    case 'complex128': return { re: w.getFloat64(o, le), im: w.getFloat64(o + 8, le) };
  }
}

function writeNum(dt: DType, w: DataView, o: number, le: boolean, v: unknown): void {
  switch (dt) {
    case 'bool': case 'uint8': w.setUint8(o, v as number); break;
    case 'int8': w.setInt8(o, v as number); break;
    case 'int16': w.setInt16(o, v as number, le); break;
    case 'uint16': w.setUint16(o, v as number, le); break;
    case 'int32': w.setInt32(o, v as number, le); break;
    case 'uint32': w.setUint32(o, v as number, le); break;
    case 'int64': w.setBigInt64(o, v as bigint, le); break;
    case 'uint64': w.setBigUint64(o, v as bigint, le); break;
    case 'float16': w.setUint16(o, numberToHalf(v as number), le); break;
    case 'float32': w.setFloat32(o, v as number, le); break;
    case 'float64': w.setFloat64(o, v as number, le); break;
    case 'complex64': w.setFloat32(o, (v as Complex).re, le); w.setFloat32(o + 4, (v as Complex).im, le); break;
    case 'complex128': w.setFloat64(o, (v as Complex).re, le); w.setFloat64(o + 8, (v as Complex).im, le); break;
  }
}

/** Writes a checked value (see `encodeElem`) at byte `o` of `w`. */
export type Encoded = (w: DataView, o: number) => void;

function tooLong(d: Descr, have: number, unit: string): MmnpyError {
  return new MmnpyError('ERR_MMNPY_VALUE_TOO_LONG', `a value of ${have} ${unit} does not fit in ${d.name} (NumPy would truncate it silently)`);
}

/**
 * Checks `v` for an element of `d` and returns what writes it: nothing is written unless the
 * whole value (every field of a record) is valid. `where` names the element in messages.
 */
export function encodeElem(d: Descr, v: unknown, where = ''): Encoded {
  const le = d.order !== '>';
  switch (d.kind) {
    case 'num': {
      const c = checkValue(d.dtype!, v);
      return (w, o) => writeNum(d.dtype!, w, o, le, c);
    }
    case 'time': {
      const t = toTicks(v, timeUnit(d));
      return (w, o) => w.setBigInt64(o, t, le);
    }
    case 'bytes': case 'void': {
      let b: Uint8Array;
      if (typeof v === 'string' && d.kind === 'bytes') {
        // NumPy encodes str into S as ASCII.
        if (!/^[\x00-\x7f]*$/.test(v)) throw typeError(`cannot store the non-ASCII string ${JSON.stringify(v.slice(0, 20))}${where} in a ${d.name} array: give the bytes (a Uint8Array)`);
        b = Uint8Array.from(v, (ch) => ch.charCodeAt(0));
      } else if (ArrayBuffer.isView(v)) {
        b = new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice();
      } else {
        throw typeError(`a ${d.name} array takes a Uint8Array${d.kind === 'bytes' ? ' or an ASCII string' : ''}${where}`);
      }
      if (b.length > d.itemsize) throw tooLong(d, b.length, 'bytes');
      return (w, o) => {
        for (let i = 0; i < d.itemsize; i++) w.setUint8(o + i, i < b.length ? b[i]! : 0);
      };
    }
    case 'str': {
      if (typeof v !== 'string') throw typeError(`a ${d.name} array takes a string${where}, got ${v === null ? 'null' : typeof v}`);
      const cps: number[] = [];
      for (const ch of v) {
        const c = ch.codePointAt(0)!;
        if (c >= 0xd800 && c <= 0xdfff) throw new MmnpyError('ERR_MMNPY_INVALID_STRING', `the string${where} has a lone surrogate (U+${c.toString(16).toUpperCase()}) at character ${cps.length}: UTF-32 cannot hold it`);
        cps.push(c);
      }
      if (cps.length > d.itemsize / 4) throw tooLong(d, cps.length, 'characters');
      return (w, o) => {
        for (let i = 0; i < d.itemsize / 4; i++) w.setUint32(o + 4 * i, i < cps.length ? cps[i]! : 0, le);
      };
    }
    case 'record': {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw typeError(`a record${where} is set from a plain object with the fields ${d.fields!.map((f) => f.name).join(', ')}`);
      const obj = v as Record<string, unknown>;
      const known = new Set(d.fields!.map((f) => f.name));
      for (const k of Object.keys(obj)) if (!known.has(k)) throw typeError(`the record has no field '${k}' (its fields are ${[...known].join(', ')})`);
      const parts: [number, Encoded][] = [];
      for (const f of d.fields!) {
        if (!(f.name in obj)) throw typeError(`the value for a record${where} lacks the field '${f.name}'`);
        const at = `${where} field '${f.name}'`;
        if (f.shape.length === 0) parts.push([f.offset, encodeElem(f.descr, obj[f.name], at)]);
        else encodeSub(f.descr, f.shape, 0, obj[f.name], f.offset, parts, at);
      }
      return (w, o) => {
        for (const [off, put] of parts) put(w, o + off);
      };
    }
  }
}

function encodeSub(d: Descr, shape: number[], axis: number, v: unknown, off: number, parts: [number, Encoded][], where: string): void {
  const n = shape[axis]!;
  if (!Array.isArray(v) && !(ArrayBuffer.isView(v) && axis + 1 === shape.length && d.kind === 'num')) {
    throw typeError(`${where.trim()} takes an array of shape [${shape.join(', ')}]`);
  }
  const list = v as ArrayLike<unknown>;
  if (list.length !== n) throw typeError(`${where.trim()} takes an array of shape [${shape.join(', ')}]; axis ${axis} has ${list.length} items, not ${n}`);
  const step = shape.slice(axis + 1).reduce((a, b) => a * b, 1) * d.itemsize;
  for (let i = 0; i < n; i++) {
    if (axis + 1 === shape.length) parts.push([off + i * step, encodeElem(d, list[i], where)]);
    else encodeSub(d, shape, axis + 1, list[i], off + i * step, parts, where);
  }
}

/** A dtype given as an object (`{ names, formats, offsets?, itemsize? }`) as NumPy's dict-form literal. */
export function dtypeLiteral(spec: unknown): string {
  return typeof spec === 'string' ? spec : literal(spec);
}

/** A dtype inside a record literal: strings quoted. */
function literal(spec: unknown): string {
  if (typeof spec === 'string') return pyStr(spec);
  if (Array.isArray(spec)) {
    // The list form: [[name, format], [name, format, shape], ...]
    return `[${spec.map((e) => {
      if (!Array.isArray(e) || e.length < 2 || e.length > 3) throw typeError('a record dtype list holds [name, format] or [name, format, shape] entries');
      const shape = e.length === 3 ? `, (${toInts(e[2], 'shape').join(', ')},)` : '';
      return `(${pyStr(e[0])}, ${literal(e[1])}${shape})`;
    }).join(', ')}]`;
  }
  if (spec !== null && typeof spec === 'object') {
    const o = spec as { names?: unknown; formats?: unknown; offsets?: unknown; itemsize?: unknown };
    if (!Array.isArray(o.names) || !Array.isArray(o.formats)) throw typeError('a record dtype object needs names and formats arrays');
    const formats = o.formats.map((f) => (Array.isArray(f) && f.length === 2 && Array.isArray(f[1]) ? `(${literal(f[0])}, (${toInts(f[1], 'shape').join(', ')},))` : literal(f)));
    let s = `{'names': [${o.names.map(pyStr).join(', ')}], 'formats': [${formats.join(', ')}]`;
    if (o.offsets !== undefined) s += `, 'offsets': [${toInts(o.offsets, 'offsets').join(', ')}]`;
    if (o.itemsize !== undefined) s += `, 'itemsize': ${toInts([o.itemsize], 'itemsize')[0]}`;
    return `${s}}`;
  }
  throw typeError(`a dtype is a string or a record description, got ${typeof spec}`);
}

function pyStr(v: unknown): string {
  if (typeof v !== 'string') throw typeError(`a field name must be a string, got ${typeof v}`);
  return JSON.stringify(v);
}

function toInts(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every((x) => Number.isSafeInteger(x))) throw typeError(`${what} must be an array of integers`);
  return v as number[];
}
