"""CPython's side of bench/queue-1to1.bench.ts: a child puts the ints 0..n-1 on a multiprocessing.Queue
as fast as it can, the parent gets them; messages per second, the child kept across samples."""
import multiprocessing as mp

from _bench import emit, progress, scaled, time_ops


def produce(commands, q):
    put = q.put
    while True:
        n = commands.get()
        if n is None:
            return
        for i in range(n):
            put(i)


if __name__ == "__main__":
    progress("Queue")
    ctx = mp.get_context("spawn")
    commands, q = ctx.Queue(), ctx.Queue()
    child = ctx.Process(target=produce, args=(commands, q))
    child.start()
    n = scaled(20_000, 1000)
    get = q.get

    def batch():
        commands.put(n)
        for i in range(n):
            if get() != i:
                raise RuntimeError("out of order")

    samples = time_ops(batch, batch=n, iterations=10, min_time_ms=500)
    commands.put(None)
    child.join()
    emit({"Queue": [1e9 / ns for ns in samples]})
