"""CPython's side of bench/start-join.bench.ts: start a Process running a trivial target, join it."""
import multiprocessing as mp

from _bench import emit, progress, time_ops


def noop():
    pass


def start_join(ctx):
    def once():
        p = ctx.Process(target=noop)
        p.start()
        p.join()
        if p.exitcode != 0:
            raise RuntimeError(f"the child exited with {p.exitcode}")
    return once


if __name__ == "__main__":
    figures = {}
    for method in ("spawn", "forkserver"):
        progress(method)
        figures[method] = time_ops(start_join(mp.get_context(method)), iterations=10, min_time_ms=300)
    emit(figures)
