/**
 * datetime64 / timedelta64 values: int64 ticks of `multiple` units, NaT = -2^63. Conversions from
 * ISO-8601 strings and `Date`s, and back to `Date`, are exact or throw: nothing is rounded silently.
 */
import { invalidArg, MmnpyError, typeError } from './errors';

export const NAT = -(2n ** 63n);

/** Attoseconds per unit for the fixed-length units (years and months are calendar units). */
const ATTO: Record<string, bigint> = {
  W: 604800n * 10n ** 18n, D: 86400n * 10n ** 18n, h: 3600n * 10n ** 18n, m: 60n * 10n ** 18n, s: 10n ** 18n,
  ms: 10n ** 15n, us: 10n ** 12n, ns: 10n ** 9n, ps: 10n ** 6n, fs: 10n ** 3n, as: 1n,
};
const MS_ATTO = 10n ** 15n;
const DAY_ATTO = ATTO.D!;

/** The unit of a datetime dtype: symbol (`ns`, `generic`) and multiple. */
export interface TimeUnit {
  unit: string;
  multiple: number;
  delta: boolean;
  /** The dtype name, for messages. */
  name: string;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
function daysFromCivil(y: bigint, m: number, d: number): bigint {
  const yy = m <= 2 ? y - 1n : y;
  const era = (yy >= 0n ? yy : yy - 399n) / 400n;
  const yoe = yy - era * 400n;
  const mp = BigInt((m + 9) % 12);
  const doy = (153n * mp + 2n) / 5n + BigInt(d - 1);
  const doe = yoe * 365n + yoe / 4n - yoe / 100n + doy;
  return era * 146097n + doe - 719468n;
}

function daysInMonth(y: bigint, m: number): number {
  if (m === 2) return (y % 4n === 0n && y % 100n !== 0n) || y % 400n === 0n ? 29 : 28;
  return [4, 6, 9, 11].includes(m) ? 30 : 31;
}

/** A moment as NumPy reads it: a year, month, day and the attoseconds into that day. */
interface Moment { year: bigint; month: number; day: number; atto: bigint }

const ISO = /^([+-]?\d{4,})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,18}))?)?)?)?)?)?Z?$/;

/** Parses NumPy's ISO-8601 forms (`2024`, `2024-05`, `2024-05-06T07:08:09.123456789`, `NaT`). */
function parseIso(s: string, t: TimeUnit): Moment | null {
  if (/^nat$/i.test(s.trim())) return null;
  const m = ISO.exec(s.trim());
  if (m === null) throw invalidArg(`cannot store the string ${JSON.stringify(s.slice(0, 40))} in a ${t.name} array: not an ISO-8601 date (YYYY-MM-DDTHH:MM:SS.fff, no time zone)`);
  const year = BigInt(m[1]!);
  const month = m[2] === undefined ? 1 : Number(m[2]);
  const day = m[3] === undefined ? 1 : Number(m[3]);
  const [hh, mm, ss] = [m[4], m[5], m[6]].map((x) => (x === undefined ? 0 : Number(x))) as [number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hh > 23 || mm > 59 || ss > 59) {
    throw invalidArg(`${JSON.stringify(s)} is not a valid date or time`);
  }
  const frac = m[7] === undefined ? 0n : BigInt(m[7].padEnd(18, '0'));
  return { year, month, day, atto: BigInt(hh * 3600 + mm * 60 + ss) * 10n ** 18n + frac };
}

/** Ticks of `t` for a moment; throws when the moment is not a whole number of ticks. */
function momentTicks(x: Moment, t: TimeUnit, what: string): bigint {
  const mult = BigInt(t.multiple);
  let units: bigint;
  let exact: boolean;
  if (t.unit === 'Y' || t.unit === 'M') {
    exact = x.day === 1 && x.atto === 0n && (t.unit === 'M' || x.month === 1);
    units = t.unit === 'Y' ? x.year - 1970n : (x.year - 1970n) * 12n + BigInt(x.month - 1);
  } else {
    const atto = daysFromCivil(x.year, x.month, x.day) * DAY_ATTO + x.atto;
    const per = ATTO[t.unit]!;
    units = atto / per;
    exact = atto % per === 0n;
    if (atto < 0n && !exact) units -= 1n;
  }
  if (!exact || units % mult !== 0n) throw precisionError(`${what} is not a whole number of ${t.name} ticks: storing it would lose precision`);
  return checkRange(units / mult, t);
}

function checkRange(ticks: bigint, t: TimeUnit): bigint {
  if (ticks <= NAT || ticks >= 2n ** 63n) throw new MmnpyError('ERR_MMNPY_OUT_OF_RANGE', `the value is out of the range of ${t.name}`);
  return ticks;
}

function precisionError(message: string): MmnpyError {
  return new MmnpyError('ERR_MMNPY_PRECISION', message);
}

/** A value for `set` on a datetime64 / timedelta64 array, as int64 ticks (`NAT` for null). */
export function toTicks(v: unknown, t: TimeUnit): bigint {
  if (v === null) return NAT;
  if (typeof v === 'bigint') return checkRange(v, t);
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw invalidArg(`${v} is not a safe integer number of ticks; give a bigint`);
    return checkRange(BigInt(v), t);
  }
  if (t.delta) throw typeError(`a ${t.name} array takes bigint or integer ticks, or null for NaT`);
  if (t.unit === 'generic') throw invalidArg(`a datetime64 array without a unit holds only NaT (null) and integer ticks`);
  if (typeof v === 'string') {
    const x = parseIso(v, t);
    return x === null ? NAT : momentTicks(x, t, JSON.stringify(v));
  }
  if (v instanceof Date) {
    const ms = v.getTime();
    if (Number.isNaN(ms)) throw invalidArg('cannot store an invalid Date');
    const d = new Date(ms);
    const atto = BigInt(ms - Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())) * MS_ATTO;
    return momentTicks({ year: BigInt(d.getUTCFullYear()), month: d.getUTCMonth() + 1, day: d.getUTCDate(), atto }, t, d.toISOString());
  }
  throw typeError(`a ${t.name} array takes a bigint, a Date, an ISO-8601 string or null`);
}

/** A datetime64 tick count as a `Date` (null for NaT); throws where the Date would not be exact. */
export function ticksToDate(ticks: bigint | null, t: TimeUnit): Date | null {
  if (ticks === null) return null;
  if (t.delta) throw typeError(`${t.name} values are durations, not dates`);
  if (t.unit === 'generic') throw invalidArg('a datetime64 without a unit has no dates');
  const n = ticks * BigInt(t.multiple);
  let ms: bigint;
  if (t.unit === 'Y' || t.unit === 'M') {
    const months = t.unit === 'Y' ? n * 12n : n;
    const y = 1970n + (months >= 0n ? months / 12n : -((-months + 11n) / 12n));
    const m = Number(months - (y - 1970n) * 12n);
    if (y < -300000n || y > 300000n) throw rangeErr(ticks, t);
    ms = BigInt(Date.UTC(Number(y), m, 1));
    const d = new Date(Number(ms));
    d.setUTCFullYear(Number(y), m, 1); // years 0..99 need setUTCFullYear
    return checkDate(d, ticks, t);
  }
  const atto = n * ATTO[t.unit]!;
  if (atto % MS_ATTO !== 0n) throw precisionError(`${ticks} ${t.name} ticks are not a whole number of milliseconds: a Date would lose precision (read the bigint with get())`);
  ms = atto / MS_ATTO;
  if (ms > 8640000000000000n || ms < -8640000000000000n) throw rangeErr(ticks, t);
  return new Date(Number(ms));
}

function checkDate(d: Date, ticks: bigint, t: TimeUnit): Date {
  if (Number.isNaN(d.getTime())) throw rangeErr(ticks, t);
  return d;
}

function rangeErr(ticks: bigint, t: TimeUnit): MmnpyError {
  return new MmnpyError('ERR_MMNPY_OUT_OF_RANGE', `${ticks} ${t.name} ticks are outside the range of a Date`);
}
