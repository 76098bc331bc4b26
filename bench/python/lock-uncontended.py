"""CPython's side of bench/lock-uncontended.bench.ts: multiprocessing.Lock acquire+release, no contention."""
import itertools
import multiprocessing as mp

from _bench import emit, progress, time_ops

BATCH = 100_000


def pairs(lock):
    acquire, release = lock.acquire, lock.release  # bound once: time the lock, not attribute lookups

    def run():
        for _ in itertools.repeat(None, BATCH):
            acquire()
            release()
    return run


if __name__ == "__main__":
    progress("mp.Lock")
    emit({"mp.Lock": time_ops(pairs(mp.Lock()), batch=BATCH, iterations=20, min_time_ms=300)})
