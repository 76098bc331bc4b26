// Helpers shared by the examples. MULTIPROC_DEMO_SCALE shrinks the seeds' sleeps and work sizes
// (the test suite runs every example at 0.05 to check what it prints without waiting).

export function scaled(amount: number): number {
  const factor = Number(process.env.MULTIPROC_DEMO_SCALE ?? "1");
  return Number.isFinite(factor) && factor > 0 ? amount * factor : amount;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Blocks this thread for `ms` milliseconds, like Python's time.sleep (the event loop waits too). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
