"""CPython's side of bench/locked-increment.bench.ts: 2 processes x `with v.get_lock(): v.value += 1`."""
import multiprocessing as mp

from _bench import emit, progress, time_ops

WORKERS = 2
N = 50_000


def increment_rounds(value, stop, start, end):
    lock = value.get_lock()
    while True:
        start.wait()
        if stop.value:
            return
        for _ in range(N):
            with lock:
                value.value += 1
        end.wait()


if __name__ == "__main__":
    progress("Value")
    ctx = mp.get_context("spawn")
    value = ctx.Value("i", 0)
    stop = ctx.RawValue("b", 0)
    start, end = ctx.Barrier(WORKERS + 1), ctx.Barrier(WORKERS + 1)
    workers = [ctx.Process(target=increment_rounds, args=(value, stop, start, end)) for _ in range(WORKERS)]
    for w in workers:
        w.start()

    def one_round():
        value.value = 0
        start.wait()
        end.wait()
        if value.value != WORKERS * N:
            raise RuntimeError(f"lost updates: {value.value}")

    samples = time_ops(one_round, batch=WORKERS * N, iterations=10, min_time_ms=300)
    stop.value = 1
    start.wait()
    for w in workers:
        w.join()
    emit({"Value": samples})
