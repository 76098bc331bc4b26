"""CPython's side of bench/pool-apply.bench.ts: Pool(2).apply of a trivial task, one at a time."""
import multiprocessing as mp

from _bench import emit, progress, time_ops

BATCH = 200


def double(x):
    return x * 2


if __name__ == "__main__":
    progress("Pool.apply")
    with mp.get_context("spawn").Pool(2) as pool:
        if pool.apply(double, (21,)) != 42:
            raise RuntimeError("the pool returned a wrong result")

        def batch():
            for i in range(BATCH):
                pool.apply(double, (i,))

        samples = time_ops(batch, batch=BATCH, iterations=20, min_time_ms=300)
    emit({"Pool.apply": samples})
