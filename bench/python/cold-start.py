"""CPython's side of bench/cold-start.bench.ts: each sample is a fresh python3 program.

Run without arguments, it starts RUNS fresh programs per variant (this file with a mode argument)
and emits their figures. With a mode, it is that fresh program: it times one cold start and prints
the milliseconds. Modes: import (import multiprocessing), process (the first spawn Process
start+join, after the import), pool (the first spawn Pool(2) and its first apply answered).
"""
import subprocess
import sys
import time

RUNS = 5


def noop():
    pass


def double(x):
    return x * 2


def measure(mode):
    t0 = time.perf_counter()
    import multiprocessing as mp
    if mode == "import":
        return (time.perf_counter() - t0) * 1000
    ctx = mp.get_context("spawn")
    t1 = time.perf_counter()
    if mode == "process":
        p = ctx.Process(target=noop)
        p.start()
        p.join()
        if p.exitcode != 0:
            raise RuntimeError(f"the child exited with {p.exitcode}")
        return (time.perf_counter() - t1) * 1000
    if mode == "pool":
        pool = ctx.Pool(2)
        answer = pool.apply(double, (21,))
        ms = (time.perf_counter() - t1) * 1000
        pool.terminate()
        pool.join()
        if answer != 42:
            raise RuntimeError(f"the pool answered {answer}")
        return ms
    raise ValueError(f"unknown mode {mode}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(measure(sys.argv[1]))
    else:
        from _bench import emit, progress, scaled

        figures = {}
        for variant, mode in (("import", "import"), ("spawn Process", "process"), ("spawn Pool", "pool")):
            progress(variant)
            samples = []
            for _ in range(scaled(RUNS, 2)):
                out = subprocess.run([sys.executable, __file__, mode], check=True, capture_output=True, text=True, timeout=60)
                samples.append(float(out.stdout.strip()) * 1e6)
            figures[variant] = {"samples": samples}
        emit(figures)
