/**
 * One `Storage` per mapping, shared by all views of it. Elements are read and
 * written through cached windows (TypedArrays or DataViews over external
 * ArrayBuffers of at most `windowBytes` each), so element access costs no
 * native call; arrays larger than one ArrayBuffer simply have several windows.
 */
import { constants as bufferConstants } from 'node:buffer';
import type { NativeArray } from '../binding';
import * as binding from '../binding';
import { ByteOrder, DType, DTYPES, DTYPE_INFOS, DTypeInfo, NATIVE_ORDER, TypedArray, dtypeInfo, halfToNumber, numberToHalf } from './dtype';
import { closedError, invalidArg, MmnpyError, native, nativeCalls, rangeError, typeError } from './errors';
import { Descr, encodeElem, Encoded, readElem, timeUnit } from './records';
import { NAT, toTicks } from './datetime';

export type { Scalar, Complex } from '../index';
import type { Scalar, Complex } from '../index';

/** The largest ArrayBuffer over external memory this runtime allows (Node 20: 4 GiB). */
export const MAX_BUFFER_BYTES: number = Math.min(bufferConstants.MAX_LENGTH, Number.MAX_SAFE_INTEGER);
const DEFAULT_WINDOW = 2 ** 30;
/** With `allowCopy` windows are copies: keep them small and few, so touching one element never copies gigabytes. */
const COPY_WINDOW = 2 ** 20;
const MAX_COPY_WINDOWS = 64;
/** `data` of an array mapped read-only is a snapshot copy: refuse copies larger than this. */
export const READ_ONLY_DATA_LIMIT = 2 ** 28;

let windowLimit = MAX_BUFFER_BYTES;
/** For tests: pretend ArrayBuffers cannot exceed `bytes` (a multiple of 16), or restore the real limit. */
export function setWindowLimitForTests(bytes?: number): void {
  windowLimit = bytes === undefined ? MAX_BUFFER_BYTES : bytes;
}

/** What an array is, from the binding (`infoInto`, read once per storage). */
export interface ArrayInfo {
  dtype: string;
  byteOrder: string;
  shape: number[];
  fortranOrder: boolean;
  /** `'r' | 'r+' | 'w+' | 'c'`, or null for in-memory arrays. */
  mode: string | null;
  filename: string | null;
  fileOffset: number;
  byteLength: number;
  /** Address of the first byte modulo 64 (for alignment decisions). */
  addressMod64: number;
  version: number[] | null;
  /** The memory is mapped read-only, so windows are copies. */
  readOnlyMapping: boolean;
}

const MODES = [null, 'r', 'r+', 'w+', 'c'] as const;
const NUMERIC: ReadonlySet<string> = new Set(DTYPES);
/** Filled by `infoInto` (see `info_into` in crates/node/src/array.rs): 11 fixed fields, then the shape. */
let infoBuf = new Float64Array(11 + 32);

function arrayInfo(n: NativeArray): ArrayInfo {
  let dtype = n.infoInto(infoBuf);
  const ndim = infoBuf[10]!;
  if (11 + ndim > infoBuf.length) {
    infoBuf = new Float64Array(11 + ndim);
    dtype = n.infoInto(infoBuf);
  }
  const b = infoBuf;
  const shape: number[] = new Array<number>(ndim);
  for (let i = 0; i < ndim; i++) shape[i] = b[11 + i]!;
  return {
    dtype,
    byteOrder: String.fromCharCode(b[0]!),
    shape,
    fortranOrder: b[1] === 1,
    mode: MODES[b[2]!] ?? null,
    filename: b[9] === 1 ? n.filename() : null,
    fileOffset: b[3]!,
    byteLength: b[4]!,
    addressMod64: b[5]!,
    version: b[6]! < 0 ? null : [b[6]!, b[7]!],
    readOnlyMapping: b[8] === 1,
  };
}

type Reader = (w: TypedArray & DataView, i: number) => Scalar;

/** How a storage derived from another (a record's field, datetime ticks) shares its memory. */
export interface Derived {
  parent: Storage;
  /** What it is of its parent: `'field:<name>'` or `'ticks'`. */
  key: string;
  /** Byte offset of this storage's element inside the root array's element. */
  fieldOffset: number;
}
type Writer = (w: TypedArray & DataView, i: number, v: unknown) => void;

/** Results up to this many bytes live in plain ArrayBuffers allocated here (see `Storage.small`). */
export const SMALL_BYTES = 65536;

/**
 * Small results up to `PIECE_MAX` bytes are pieces of a shared `SLAB_BYTES` ArrayBuffer (as
 * Node's `Buffer.allocUnsafe` pools small buffers): a new ArrayBuffer per result cost ~0.8 µs
 * (V8's backing store, its sweeping, and malloc churn as results die in GC batches), more
 * than a whole NumPy `a + b` of 1,000 float64. A slab lives as long as any piece of it does,
 * so one live piece keeps at most `SLAB_BYTES` alive. Pieces are never handed out: memory
 * handed out is a native array's, made over a copy first (see `native`).
 */
const SLAB_BYTES = 65536;
const PIECE_MAX = 8192;
let slab: ArrayBuffer | undefined;
let slabUsed = SLAB_BYTES;

/** Uninitialised memory for a small result: a piece of the current slab, or its own buffer. */
function smallMemory(bytes: number): Uint8Array {
  if (bytes > PIECE_MAX) return new Uint8Array(Buffer.allocUnsafeSlow(bytes).buffer, 0, bytes);
  // Pieces start on 64-byte boundaries of the slab (which malloc aligns to 16): any dtype's alignment.
  const size = (bytes + 63) & ~63;
  if (slab === undefined || slabUsed + size > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES).buffer as ArrayBuffer;
    slabUsed = 0;
  }
  const piece = new Uint8Array(slab, slabUsed, bytes);
  slabUsed += size;
  return piece;
}

/** A small result's memory and what its dtype code already says (see `Storage.small`). */
interface SmallMemory {
  buffer: Uint8Array;
  info: ArrayInfo;
  dt: DTypeInfo;
  dcode: number;
}

/** Element accessors by dtype code * 4 + direct * 2 + little-endian (closures made once, not per storage). */
const ACCESSORS: ([Reader, Writer] | undefined)[] = [];
/** No derivation keys (a root storage's `path`). */
const NO_PATH: readonly string[] = Object.freeze([]);

export class Storage {
  /** The native array; created on first use for a small result (see `small`). */
  private _native: NativeArray | undefined;
  /** The memory of a small result until its native array exists (see `small`): exactly its bytes. */
  private js: Uint8Array | undefined;
  /** `memory()` of a storage with a native array: a Uint8Array over window 0, made once. */
  private mem: Uint8Array | undefined = undefined;
  readonly info: ArrayInfo;
  readonly dt: DTypeInfo;
  /** The dtype's code for the small-call path (its index in `DTYPES`), -1 for datetimes, strings and records. */
  readonly dcode: number;
  readonly byteOrder: ByteOrder;
  readonly byteLength: number;
  readonly writeable: boolean;
  /** Windows are TypedArrays indexed by element (fast path) or DataViews indexed by byte. */
  readonly direct: boolean;
  readonly windowBytes: number;
  /**
   * Whether windows are copies: runtimes without external buffers (`allowCopy`), and `'r'` arrays
   * mapped read-only under strict overcommit accounting, whose pages a JavaScript write would fault on.
   */
  readonly copied: boolean;
  closed = false;
  /** Appended to the read-only error: set on the arrays a `Parallel` worker receives read-only. */
  readOnlyHint: string | undefined = undefined;
  /** Window 0, the only one of arrays up to the buffer limit: read without a lookup. */
  /** @internal */ w0: (TypedArray & DataView) | undefined = undefined;
  private readonly buffers: (ArrayBuffer | undefined)[] = [];
  private readonly windows: ((TypedArray & DataView) | undefined)[] = [];
  /** @internal */ readonly reader: Reader;
  private readonly writer: Writer;
  /** Bytes per window index: the TypedArray's element size, or 1 for DataViews. */
  private readonly div: number;
  private copiedWindows = 0;
  /** `nativeCalls.n` when the copied windows were last known to match the memory. */
  private seen = -1;
  /** The full dtype of datetimes, strings and records (undefined for the numeric dtypes). */
  readonly descr: Descr | undefined;
  /** Every storage over the same memory (the array, its fields' views, its ticks): closed together. */
  readonly family: Storage[];
  /** Bytes of the root array's element: windows hold whole root elements, so no element straddles two. */
  readonly rowBytes: number;
  /** Byte offset of this storage's element inside the root's element (0 for a root). */
  readonly fieldOffset: number;
  /** The storage the mapping was opened as (itself for a root). */
  readonly root: Storage;
  /** The derivation keys from the root to this storage (`['field:meta', 'field:code']`, `['ticks']`). */
  readonly path: readonly string[];
  /** Fields' and ticks' storages by key, made on first `derive`. */
  private derived: Map<string, Storage> | undefined = undefined;

  constructor(nativeArray: NativeArray | undefined, copied: boolean, from?: Derived, js?: SmallMemory) {
    this._native = nativeArray;
    this.js = js?.buffer;
    this.info = js?.info ?? arrayInfo(nativeArray!);
    if (js !== undefined) {
      // A small result (see `small`): its dtype's code and info are known.
      this.dt = js.dt;
      this.dcode = js.dcode;
      this.descr = undefined;
    } else if (NUMERIC.has(this.info.dtype)) {
      this.dt = dtypeInfo(this.info.dtype as DType);
      this.dcode = DTYPES.indexOf(this.dt.name);
      this.descr = undefined;
    } else {
      const d = JSON.parse(nativeArray!.descr()) as Descr;
      this.descr = d;
      this.dcode = -1;
      const time = d.kind === 'time';
      this.dt = { name: d.name as DType, itemsize: d.itemsize, ctor: time ? BigInt64Array : Uint8Array, lanes: 1, kind: time ? 'i' : 'u', alignment: d.alignment };
    }
    this.byteOrder = this.info.byteOrder as ByteOrder;
    this.byteLength = this.info.byteLength;
    this.writeable = this.info.mode !== 'r';
    this.copied = copied || this.info.readOnlyMapping;
    this.family = from?.parent.family ?? [];
    this.family.push(this);
    this.rowBytes = from?.parent.rowBytes ?? this.dt.itemsize;
    this.fieldOffset = from?.fieldOffset ?? 0;
    this.root = from?.parent.root ?? this;
    this.path = from === undefined ? NO_PATH : [...from.parent.path, from.key];
    const aligned = this.info.addressMod64 % this.dt.alignment === 0;
    const nativeOrder = this.byteOrder === '|' || this.byteOrder === NATIVE_ORDER;
    const unit = this.dt.itemsize / this.dt.lanes;
    // TypedArray windows index whole elements: every element offset must be a multiple of the element size.
    const onGrid = this.rowBytes % unit === 0 && this.fieldOffset % unit === 0;
    this.direct = aligned && nativeOrder && onGrid && (this.descr === undefined || this.descr.kind === 'time');
    const limit = this.copied ? Math.min(windowLimit, COPY_WINDOW) : windowLimit;
    const row = Math.max(this.rowBytes, 1);
    this.windowBytes = this.byteLength <= limit ? Math.max(this.byteLength, 16) : Math.max(row, Math.floor(Math.min(DEFAULT_WINDOW, limit) / row) * row);
    this.div = this.direct ? unit : 1;
    if (this.descr === undefined) {
      const k = this.dcode * 4 + (this.direct ? 2 : 0) + (this.byteOrder !== '>' ? 1 : 0);
      const rw = ACCESSORS[k] ?? (ACCESSORS[k] = accessors(this.dt.name, this.direct, this.byteOrder !== '>'));
      this.reader = rw[0];
      this.writer = rw[1];
    } else {
      [this.reader, this.writer] = extendedAccessors(this.descr, this.direct);
    }
  }

  /**
   * A new in-memory array of zeros in a plain ArrayBuffer (C order, native byte order, at most
   * `SMALL_BYTES`): the result of a call on small arrays. Kernels write it through `memory()`;
   * a native array over a copy of it is made only when something needs one (`native`), and
   * before any of its memory is handed out (`windowBuffer`), so there is only ever one copy
   * that anyone sees. A napi class instance per result, with its finalizer and allocator
   * memory freed in garbage-collection batches, cost ~10 µs; this costs what an ArrayBuffer does.
   */
  static small(dcode: number, shape: number[]): Storage {
    const dt = DTYPE_INFOS[dcode]!;
    let size = 1;
    for (let i = 0; i < shape.length; i++) size *= shape[i]!;
    const byteLength = size * dt.itemsize;
    const info: ArrayInfo = {
      dtype: dt.name, byteOrder: dt.itemsize / dt.lanes === 1 ? '|' : NATIVE_ORDER, shape, fortranOrder: false, mode: null, filename: null,
      fileOffset: 0, byteLength, addressMod64: 0, version: null, readOnlyMapping: false,
    };
    // Not zeroed: every caller has a kernel write every element before the array is returned.
    return new Storage(undefined, false, undefined, { buffer: smallMemory(byteLength), info, dt, dcode });
  }

  /** The native array, made now over a copy of a small result's memory if there is none yet. */
  get native(): NativeArray {
    if (this._native !== undefined) return this._native;
    const js = this.js;
    if (js === undefined) throw closedError();
    const n = native(() => binding.fromBytes(js, this.dt.name, this.info.shape, false, false));
    this._native = n;
    // From now on the native memory is the array's: windows over the old buffer (only ever
    // used here, never handed out) are dropped.
    this.js = undefined;
    this.windows.length = 0;
    this.buffers.length = 0;
    this.w0 = undefined;
    return n;
  }

  /**
   * All of the memory, exactly its bytes, as a Uint8Array for the kernels' small-call path
   * (`binaryMem`, ...), or undefined where that path does not apply: several windows, copies
   * (`allowCopy`), closed, empty, or anything but native byte order and a plain numeric dtype.
   */
  memory(): Uint8Array | undefined {
    if (this.js !== undefined) return this.closed ? undefined : this.js;
    if (this.mem !== undefined) return this.closed ? undefined : this.mem;
    if (this.closed || this.copied || this.descr !== undefined || this.byteLength === 0 || this.byteLength > this.windowBytes) return undefined;
    if (this.byteOrder !== '|' && this.byteOrder !== NATIVE_ORDER) return undefined;
    this.mem = new Uint8Array(this.buffers[0] ?? this.windowBuffer(0));
    return this.mem;
  }

  /** The storage of a record's field (or of datetime ticks, `name` null), made once. */
  derive(key: string, fieldOffset: number, make: () => NativeArray): Storage {
    const derived = this.derived ?? (this.derived = new Map());
    let s = derived.get(key);
    if (s === undefined) {
      s = new Storage(native(make), this.copied, { parent: this, key, fieldOffset });
      derived.set(key, s);
    }
    return s;
  }

  /** Field `name` of this record storage and the storage of its values, over the same memory (`NdArray.field`'s errors). */
  field(name: string): { field: NonNullable<Descr['fields']>[number]; storage: Storage } {
    const d = this.descr;
    if (d?.kind !== 'record') throw invalidArg(`field('${name}') needs a record array; this one is ${this.dt.name}`);
    const f = d.fields!.find((x) => x.name === name);
    if (f === undefined) throw new MmnpyError('ERR_MMNPY_NOT_FOUND', `no field named '${name}' (the fields are ${d.fields!.map((x) => `'${x.name}'`).join(', ')})`);
    return { field: f, storage: this.derive(`field:${name}`, this.fieldOffset + f.offset, () => this.native.fieldArray(name)) };
  }

  /** The int64 ticks of this datetime storage, over the same memory. */
  ticksStorage(): Storage {
    return this.derive('ticks', this.fieldOffset, () => this.native.ticksArray());
  }

  /** The storage `path` (see `path`) names below this one: what a worker replays on its own mapping of the root. */
  rederive(path: readonly string[]): Storage {
    let s: Storage = this;
    for (const key of path) {
      if (key === 'ticks') s = s.ticksStorage();
      else if (key.startsWith('field:')) s = s.field(key.slice(6)).storage;
      else throw invalidArg(`cannot derive '${key}' from an array of ${s.dt.name}`);
    }
    return s;
  }

  /** NumPy's spelling of this storage's dtype in its byte order (`'>f8'`, `'<M8[ns]'`, `'|S5'`, a record's list), as `memmap` takes it. */
  get spec(): string {
    const d = this.descr;
    if (d === undefined) return `${this.byteOrder}${this.dt.kind}${this.dt.itemsize}`;
    switch (d.kind) {
      case 'time':
        return `${d.order}${d.delta === true ? 'm8' : 'M8'}${/\[.*\]$/.exec(d.name)?.[0] ?? ''}`;
      case 'bytes':
        return `|S${d.itemsize}`;
      case 'str':
        return `${d.order}U${d.itemsize / 4}`;
      case 'void':
        return `|V${d.itemsize}`;
      default:
        return d.name;
    }
  }

  /** Checks a value for `set` and converts it to what the writer stores. */
  check(v: unknown, where = ''): unknown {
    const d = this.descr;
    if (d === undefined) return checkValue(this.dt.name, v);
    if (d.kind === 'time') return toTicks(v, timeUnit(d));
    return encodeElem(d, v, where);
  }

  /**
   * Drops copied windows (`allowCopy`) if a native call ran since they were taken: a kernel, a
   * write through another view of the same memory (a record's field, the record array), or a
   * write into another mapping of the file may have changed what they copy.
   */
  private fresh(): void {
    if (this.seen === nativeCalls.n) return;
    this.windows.length = 0;
    this.buffers.length = 0;
    this.copiedWindows = 0;
    this.seen = nativeCalls.n;
  }

  private load(k: number): TypedArray & DataView {
    if (this.closed) throw closedError();
    if (this.copied) this.fresh();
    const start = k * this.windowBytes;
    const len = Math.min(this.windowBytes, this.byteLength - start);
    if (this.copied && this.buffers[k] === undefined && ++this.copiedWindows > MAX_COPY_WINDOWS) {
      // drop the cached copies (plain memory, nothing to detach)
      this.windows.length = 0;
      this.buffers.length = 0;
      this.copiedWindows = 1;
    }
    if (this.js !== undefined) {
      // A small result's own memory (one window): kept internal, see `small`.
      const js = this.js;
      const w = (this.direct ? new this.dt.ctor(js.buffer, js.byteOffset, js.byteLength / this.dt.ctor.BYTES_PER_ELEMENT) : new DataView(js.buffer, js.byteOffset, js.byteLength)) as TypedArray & DataView;
      this.windows[0] = w;
      this.w0 = w;
      return w;
    }
    const ab = this.buffers[k] ?? native(() => this.native.window(start, len));
    this.buffers[k] = ab;
    const w = (this.direct ? new this.dt.ctor(ab) : new DataView(ab)) as TypedArray & DataView;
    this.windows[k] = w;
    // Copied windows are read through `read`, which checks them (`fresh`), never through `w0`.
    if (this.copied) this.seen = nativeCalls.n;
    else if (k === 0) this.w0 = w;
    return w;
  }

  /** The ArrayBuffer of window `k` (created on demand). */
  windowBuffer(k: number): ArrayBuffer {
    // Memory handed out: a small result gets its native array first (see `small`).
    if (this.js !== undefined) void this.native;
    if (this.buffers[k] === undefined) this.load(k);
    return this.buffers[k]!;
  }

  /** Reads the element at byte offset `off` of the mapping. */
  read(off: number): Scalar {
    if (this.closed) throw closedError();
    const W = this.windowBytes;
    const k = off < W ? 0 : Math.floor(off / W);
    if (this.copied) this.fresh();
    const w = this.windows[k] ?? this.load(k);
    return this.reader(w, (off - k * W) / this.div);
  }

  /** Writes the element at byte offset `off` of the mapping (value already checked by `check`). */
  write(off: number, value: unknown): void {
    if (this.closed) throw closedError();
    if (!this.writeable) throw this.readOnlyError();
    const k = Math.floor(off / this.windowBytes);
    if (this.copied) this.fresh();
    const w = this.windows[k] ?? this.load(k);
    const local = off - k * this.windowBytes;
    this.writer(w, local / this.div, value);
    if (this.copied) {
      const bytes = new Uint8Array(w.buffer, w.byteOffset + local, this.dt.itemsize);
      native(() => this.native.writeBytes(off, bytes));
      // That call wrote only what this window already holds.
      this.seen = nativeCalls.n;
    }
  }

  /** The error of a write into a mode-'r' array. */
  readOnlyError(): MmnpyError {
    const hint = this.readOnlyHint === undefined ? '' : `; ${this.readOnlyHint}`;
    return new MmnpyError('ERR_MMNPY_READONLY', `assignment destination is read-only (${this.info.filename ?? 'array'} is open in mode 'r')${hint}`);
  }

  flush(): void {
    if (this.closed) throw closedError();
    if (this.js !== undefined) return;
    native(() => this.native.flush());
  }

  close(): void {
    // One memory: closing any storage over it closes them all.
    for (const s of this.family) s.closeOne();
  }

  private closeOne(): void {
    if (this.closed) return;
    this.closed = true;
    this.w0 = undefined;
    this.mem = undefined;
    this.windows.length = 0;
    this.buffers.length = 0;
    if (this.js !== undefined) {
      this.js = undefined;
      return;
    }
    native(() => this.native.close());
  }
}

/** Checks a value for `set` and converts it to what the writer stores. */
export function checkValue(dt: DType, v: unknown): unknown {
  switch (dt) {
    case 'bool':
      if (typeof v === 'boolean') return v ? 1 : 0;
      if (typeof v === 'number' || typeof v === 'bigint') return v ? 1 : 0;
      throw typeError(`cannot store ${describe(v)} in a bool array`);
    case 'int8': case 'uint8': case 'int16': case 'uint16': case 'int32': case 'uint32': {
      const [lo, hi] = INT_RANGE[dt]!;
      const n = typeof v === 'bigint' ? Number(v) : v;
      if (typeof n === 'boolean') return n ? 1 : 0;
      if (typeof n !== 'number') throw typeError(`cannot store ${describe(v)} in a ${dt} array`);
      if (!Number.isInteger(n)) throw rangeError(`${n} is not an integer: refusing to truncate it into a ${dt} array`);
      if (n < lo || n > hi) throw rangeError(`${n} is out of bounds for ${dt} (${lo} to ${hi})`);
      return n;
    }
    case 'int64': case 'uint64': {
      let b: bigint;
      if (typeof v === 'bigint') b = v;
      else if (typeof v === 'boolean') b = v ? 1n : 0n;
      else if (typeof v === 'number' && Number.isInteger(v)) b = BigInt(v);
      else if (typeof v === 'number') throw rangeError(`${v} is not an integer: refusing to truncate it into a ${dt} array`);
      else throw typeError(`cannot store ${describe(v)} in a ${dt} array`);
      const [lo, hi] = dt === 'int64' ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
      if (b < lo || b > hi) throw rangeError(`${b} is out of bounds for ${dt}`);
      return b;
    }
    case 'float16': case 'float32': case 'float64':
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint') return Number(v);
      if (typeof v === 'boolean') return v ? 1 : 0;
      throw typeError(`cannot store ${describe(v)} in a ${dt} array`);
    case 'complex64': case 'complex128': {
      if (typeof v === 'number') return { re: v, im: 0 };
      if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'number') return { re: v[0], im: v[1] };
      if (v !== null && typeof v === 'object' && typeof (v as Complex).re === 'number' && typeof (v as Complex).im === 'number') return v;
      throw typeError(`cannot store ${describe(v)} in a ${dt} array (give a number, { re, im } or [re, im])`);
    }
  }
}

const INT_RANGE: Record<string, [number, number]> = {
  int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767], uint16: [0, 65535],
  int32: [-(2 ** 31), 2 ** 31 - 1], uint32: [0, 2 ** 32 - 1],
};

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.slice(0, 20))}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

/** Reader and writer of datetimes (ticks; NaT reads as null), strings and records. */
function extendedAccessors(d: Descr, direct: boolean): [Reader, Writer] {
  type W = TypedArray & DataView;
  if (d.kind === 'time') {
    const le = d.order !== '>';
    if (direct) return [(w: W, i) => { const t = w[i] as bigint; return t === NAT ? null as never : t; }, (w: W, i, v) => { w[i] = v as never; }];
    return [(w, o) => { const t = w.getBigInt64(o, le); return t === NAT ? null as never : t; }, (w, o, v) => w.setBigInt64(o, v as bigint, le)];
  }
  return [(w, o) => readElem(d, w, o) as Scalar, (w, o, v) => (v as Encoded)(w, o)];
}

/** Element reader and writer for a dtype: TypedArray (direct) or DataView access. */
function accessors(dt: DType, direct: boolean, le: boolean): [Reader, Writer] {
  type W = TypedArray & DataView;
  if (direct) {
    switch (dt) {
      case 'bool':
        return [(w: W, i) => w[i] !== 0, (w: W, i, v) => { w[i] = v as number; }];
      case 'float16':
        return [(w: W, i) => halfToNumber(w[i] as number), (w: W, i, v) => { w[i] = numberToHalf(v as number); }];
      case 'complex64': case 'complex128':
        return [
          (w: W, i) => ({ re: w[i] as number, im: w[i + 1] as number }),
          (w: W, i, v) => { w[i] = (v as Complex).re; w[i + 1] = (v as Complex).im; },
        ];
      default:
        return [(w: W, i) => w[i] as number | bigint, (w: W, i, v) => { w[i] = v as never; }];
    }
  }
  switch (dt) {
    case 'bool': return [(w, o) => w.getUint8(o) !== 0, (w, o, v) => w.setUint8(o, v as number)];
    case 'int8': return [(w, o) => w.getInt8(o), (w, o, v) => w.setInt8(o, v as number)];
    case 'uint8': return [(w, o) => w.getUint8(o), (w, o, v) => w.setUint8(o, v as number)];
    case 'int16': return [(w, o) => w.getInt16(o, le), (w, o, v) => w.setInt16(o, v as number, le)];
    case 'uint16': return [(w, o) => w.getUint16(o, le), (w, o, v) => w.setUint16(o, v as number, le)];
    case 'int32': return [(w, o) => w.getInt32(o, le), (w, o, v) => w.setInt32(o, v as number, le)];
    case 'uint32': return [(w, o) => w.getUint32(o, le), (w, o, v) => w.setUint32(o, v as number, le)];
    case 'int64': return [(w, o) => w.getBigInt64(o, le), (w, o, v) => w.setBigInt64(o, v as bigint, le)];
    case 'uint64': return [(w, o) => w.getBigUint64(o, le), (w, o, v) => w.setBigUint64(o, v as bigint, le)];
    case 'float16': return [(w, o) => halfToNumber(w.getUint16(o, le)), (w, o, v) => w.setUint16(o, numberToHalf(v as number), le)];
    case 'float32': return [(w, o) => w.getFloat32(o, le), (w, o, v) => w.setFloat32(o, v as number, le)];
    case 'float64': return [(w, o) => w.getFloat64(o, le), (w, o, v) => w.setFloat64(o, v as number, le)];
    case 'complex64':
      return [
        (w, o) => ({ re: w.getFloat32(o, le), im: w.getFloat32(o + 4, le) }),
        (w, o, v) => { w.setFloat32(o, (v as Complex).re, le); w.setFloat32(o + 4, (v as Complex).im, le); },
      ];
    case 'complex128':
      return [
        (w, o) => ({ re: w.getFloat64(o, le), im: w.getFloat64(o + 8, le) }),
        (w, o, v) => { w.setFloat64(o, (v as Complex).re, le); w.setFloat64(o + 8, (v as Complex).im, le); },
      ];
  }
}

/**
 * The storages of every array an open container (an `.npz` archive, an HDF5 file) handed out,
 * held weakly so that dropped arrays can be collected; closing the container closes the rest.
 */
export class TakenStorages {
  private readonly refs: WeakRef<Storage>[] = [];
  private sweepAt = 64;

  add(s: Storage): void {
    this.refs.push(new WeakRef(s));
    if (this.refs.length > this.sweepAt) {
      const alive = this.refs.filter((r) => r.deref() !== undefined);
      this.refs.length = 0;
      this.refs.push(...alive);
      this.sweepAt = Math.max(64, alive.length * 2);
    }
  }

  closeAll(): void {
    for (const r of this.refs) r.deref()?.close();
    this.refs.length = 0;
  }
}
