"""CPython's side of bench/queue-records.bench.ts: a child puts n records (dicts) or strings on a
multiprocessing.Queue, the parent gets them; messages per second, the child kept across samples."""
import multiprocessing as mp

from _bench import emit, progress, scaled, time_ops


def produce(commands, q):
    put = q.put
    while True:
        command = commands.get()
        if command is None:
            return
        n, shape = command
        if shape == "records":
            for i in range(n):
                put({"id": i, "name": f"item-{i}", "score": i * 0.5, "tags": ["a", "b"]})
        else:
            for i in range(n):
                put(f"item-{i}")


if __name__ == "__main__":
    ctx = mp.get_context("spawn")
    commands, q = ctx.Queue(), ctx.Queue()
    child = ctx.Process(target=produce, args=(commands, q))
    child.start()
    n = scaled(100_000, 2000)
    get = q.get
    figures = {}
    for shape in ("records", "strings"):
        progress(shape)

        def batch():
            commands.put((n, shape))
            for i in range(n):
                item = get()
                name = item if shape == "strings" else item["name"]
                if name != f"item-{i}":
                    raise RuntimeError("out of order")

        samples = time_ops(batch, batch=n, iterations=3, min_time_ms=0, warmup=1, warmup_ms=0)
        figures[shape] = [1e9 / ns for ns in samples]
    commands.put(None)
    child.join()
    emit(figures)
