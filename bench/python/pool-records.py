"""CPython's side of bench/pool-records.bench.ts: Pool(2).map over 50,000 records (dicts) returning
records, with chunksize=1 and with the default chunks. Tasks per second."""
import multiprocessing as mp

from _bench import emit, progress, scaled, time_ops

RECORDS = 50_000


def rescore(r):
    return {"id": r["id"], "name": r["name"], "score": r["score"] + 1, "tags": r["tags"]}


def mapper(pool, xs, **kwargs):
    n = len(xs)

    def run():
        ys = pool.map(rescore, xs, **kwargs)
        if len(ys) != n or ys[-1]["score"] != (n - 1) * 0.5 + 1:
            raise RuntimeError("the pool returned a wrong result")
    return run


if __name__ == "__main__":
    n = scaled(RECORDS, 1000)
    xs = [{"id": i, "name": f"item-{i}", "score": i * 0.5, "tags": ["a", "b"]} for i in range(n)]
    with mp.get_context("spawn").Pool(2) as pool:
        progress("map chunksize=1")
        one = time_ops(mapper(pool, xs, chunksize=1), batch=n, iterations=3, min_time_ms=0, warmup=1, warmup_ms=0)
        progress("map default chunks")
        chunked = time_ops(mapper(pool, xs), batch=n, iterations=3, min_time_ms=0, warmup=1, warmup_ms=0)
    emit({"map chunksize=1": [1e9 / ns for ns in one], "map default chunks": [1e9 / ns for ns in chunked]})
