"""CPython's side of bench/managers.bench.ts: Manager().dict() set and get through the proxy, one
round trip to the manager's server process each."""
import multiprocessing as mp

from _bench import emit, progress, time_ops

BATCH = 400

if __name__ == "__main__":
    progress("Manager().dict()")
    with mp.get_context("spawn").Manager() as manager:
        d = manager.dict()
        d["k"] = 0

        def batch():
            for i in range(BATCH // 2):
                d["k"] = i
                d["k"]

        samples = time_ops(batch, batch=BATCH, iterations=10, min_time_ms=300)
    emit({"Manager().dict()": samples})
