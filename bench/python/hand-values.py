"""CPython's side of bench/hand-values.bench.ts: start+join of a spawned child given 10,000
Value('i') in its args (and one), which reads each; time per 10,000 Values."""
import multiprocessing as mp

from _bench import emit, progress, time_ops

COUNT = 10_000


def touch_all(values):
    total = 0
    for v in values:
        total += v.value
    values[-1].value = total + 1


CTX = mp.get_context("spawn")


def hand(values):
    def run():
        p = CTX.Process(target=touch_all, args=(values,))
        p.start()
        p.join()
        if p.exitcode != 0:
            raise RuntimeError(f"the child exited with {p.exitcode}")
    return run


if __name__ == "__main__":
    figures = {}
    for label, count in (("10k Values", COUNT), ("1 Value", 1)):
        progress(label)
        values = [CTX.Value("i", 1) for _ in range(count)]
        figures[label] = time_ops(hand(values), batch=COUNT, iterations=5, min_time_ms=300, warmup=1)
    emit(figures)
