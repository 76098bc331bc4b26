"""CPython's side of bench/big-table.bench.ts: a 1M-row table (dict of numpy columns) put in a
Manager Namespace; 2 running workers each read it (one pickled copy each) and sum a column."""
import multiprocessing as mp

import numpy as np

from _bench import emit, progress, time_ops

ROWS = 1_000_000


def worker(ns, jobs, results):
    while True:
        column = jobs.get()
        if column is None:
            break
        results.put(float(ns.df[column].sum()))


if __name__ == "__main__":
    ctx = mp.get_context("spawn")
    progress("Manager Namespace")
    with ctx.Manager() as manager:
        ns = manager.Namespace()
        jobs, results = ctx.Queue(), ctx.Queue()
        workers = [ctx.Process(target=worker, args=(ns, jobs, results)) for _ in range(2)]
        for w in workers:
            w.start()
        df = {"x": np.arange(ROWS) * 0.5, "y": np.arange(ROWS) % 97.0, "id": np.arange(ROWS, dtype=np.int32)}
        expected = ROWS * (ROWS - 1) / 4

        def once():
            ns.df = df
            jobs.put("x")
            jobs.put("x")
            sums = [results.get(), results.get()]
            assert all(s == expected for s in sums), sums

        samples = time_ops(once, iterations=8, min_time_ms=500)
        for _ in workers:
            jobs.put(None)
        for w in workers:
            w.join()
    emit({"Manager Namespace": samples})
