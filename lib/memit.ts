/**
 * `memit` / `memitAsync`: memory_profiler's `%memit`, told apart by kind. The peak is the
 * kernel's exact high-water mark (Linux `VmHWM`, reset before the call); its split into
 * anonymous memory, mapped file pages and shared memory is sampled every millisecond by a
 * native thread, which runs while the JavaScript thread is busy in `fn`. A zero-copy pass over
 * a mapped file shows as `file`, a copy into memory as `anon` (`%memit` calls both
 * "increment"). Elsewhere than Linux the resident set is read before and after the call (and
 * sampled by a timer during `memitAsync`), and everything counts as `anon`.
 */
import * as binding from '../binding';
import { typeError } from './errors';

export type { MemitResult, ResidentMemory } from '../index';
import type { MemitResult, ResidentMemory } from '../index';

const INTERVAL_US = 1000;

/** This process's resident memory now, by kind (Linux), or the resident set as `anon` elsewhere. */
export function residentMemory(): ResidentMemory {
  const u = binding.memoryUsage();
  if (u !== null) return { rss: u.rss, peak: u.hwm, anon: u.anon, file: u.file, shmem: u.shmem };
  const rss = process.memoryUsage.rss();
  return { rss, peak: Math.max(rss, process.resourceUsage().maxRSS * 1024), anon: rss, file: 0, shmem: 0 };
}

interface Probe {
  before: ResidentMemory;
  sampler: binding.MemSampler;
  exact: boolean;
  start: bigint;
  fallbackPeak: number;
}

function begin(): Probe {
  const before = residentMemory();
  const exact = binding.resetMemoryPeak();
  const sampler = new binding.MemSampler(INTERVAL_US);
  return { before, sampler, exact, start: process.hrtime.bigint(), fallbackPeak: before.rss };
}

function end<T>(p: Probe, result: T): MemitResult<T> {
  const seconds = Number(process.hrtime.bigint() - p.start) / 1e9;
  const sampled = p.sampler.stop();
  const now = residentMemory();
  const b = p.before;
  if (sampled === null) {
    const peak = Math.max(p.fallbackPeak, now.rss);
    return { result, peak, increment: peak - b.rss, anon: peak - b.rss, file: 0, shmem: 0, seconds, before: b };
  }
  const peak = Math.max(p.exact ? now.peak : 0, sampled.rss, now.rss);
  const over = (x: number, y: number): number => Math.max(0, x - y);
  return {
    result,
    peak,
    increment: over(peak, b.rss),
    anon: over(sampled.anon, b.anon),
    file: over(sampled.file, b.file),
    shmem: over(sampled.shmem, b.shmem),
    seconds,
    before: b,
  };
}

/** Runs `fn` once and measures the resident memory during the call. */
export function memit<T>(fn: () => T): MemitResult<T> {
  if (typeof fn !== 'function') throw typeError('memit takes a function');
  const p = begin();
  let result: T;
  try {
    result = fn();
  } catch (e) {
    p.sampler.stop();
    throw e;
  }
  return end(p, result);
}

/** Runs `fn` (which may return a Promise) once and measures the resident memory until it settles. */
export async function memitAsync<T>(fn: () => T | Promise<T>): Promise<MemitResult<Awaited<T>>> {
  if (typeof fn !== 'function') throw typeError('memitAsync takes a function');
  const p = begin();
  // Where the platform has no native sampler, a timer samples the resident set while fn awaits.
  const timer = binding.memoryUsage() === null ? setInterval(() => (p.fallbackPeak = Math.max(p.fallbackPeak, process.memoryUsage.rss())), 10) : undefined;
  try {
    const result = await fn();
    return end(p, result);
  } catch (e) {
    p.sampler.stop();
    throw e;
  } finally {
    if (timer !== undefined) clearInterval(timer);
  }
}
