"""CPython's side of bench/pool-map.bench.ts: Pool(2).map of a trivial task, one message per task
(chunksize=1) and with the default chunking. Tasks per second."""
import multiprocessing as mp

from _bench import emit, progress, time_ops

TASKS = 5_000  # chunksize=1: ~0.1 s per call here
CHUNKED_TASKS = 200_000  # default chunking: ~0.02-0.1 s per call


def double(x):
    return x * 2


def throughput(ns_per_task):
    return [1e9 / ns for ns in ns_per_task]


def mapper(pool, n, **kwargs):
    xs = range(n)

    def run():
        ys = pool.map(double, xs, **kwargs)
        if ys[-1] != 2 * (n - 1):
            raise RuntimeError("the pool returned a wrong result")
    return run


if __name__ == "__main__":
    with mp.get_context("spawn").Pool(2) as pool:
        progress("map chunksize=1")
        one = time_ops(mapper(pool, TASKS, chunksize=1), batch=TASKS, iterations=3, min_time_ms=0, warmup=1)
        progress("map default chunks")
        chunked = time_ops(mapper(pool, CHUNKED_TASKS), batch=CHUNKED_TASKS, iterations=3, min_time_ms=0, warmup=1)
    emit({"map chunksize=1": throughput(one), "map default chunks": throughput(chunked)})
