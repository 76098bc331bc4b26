// Shared words between a test and its pool tasks (test/fixtures/pool-features.ts numbers them).
import { SharedMemory } from "multiproc";
import { waiter } from "#internal/native/wait.js";

export function board(): SharedMemory {
  return new SharedMemory({ create: true, size: 64 });
}

export function word(shm: SharedMemory, i: number): number {
  return Atomics.load(new Int32Array(shm.buffer), i);
}

export function setWord(shm: SharedMemory, i: number, v: number): void {
  const w = new Int32Array(shm.buffer);
  Atomics.store(w, i, v);
  waiter().wake(w, i);
}

/** Waits until word i reaches `atLeast` (woken by the tasks), failing after `timeout` ms. */
export async function untilWord(shm: SharedMemory, i: number, atLeast: number, timeout = 30_000): Promise<void> {
  const w = new Int32Array(shm.buffer);
  const end = performance.now() + timeout;
  for (let v = Atomics.load(w, i); v < atLeast; v = Atomics.load(w, i)) {
    if (performance.now() > end) throw new Error(`word ${i} stayed at ${v}, expected >= ${atLeast}`);
    await waiter().waitAsync(w, i, v, { timeout: 100 });
  }
}

export function release(shm: SharedMemory): void {
  shm.close();
  shm.unlink();
}

export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of it) out.push(v);
  return out;
}
