"""CPython's side of bench/shareable-list.bench.ts: ShareableList get and set of one item, over a
list of 1,000 int64 items and one of 1,000 10-byte strings (the same lists as the JS side)."""
import itertools
from multiprocessing.shared_memory import ShareableList

from _bench import emit, progress, time_ops

ITEMS = 1_000
PASSES = 50
BATCH = ITEMS * PASSES
WORDS = [f"word-{i}".ljust(10, "!") for i in range(16)]


def measure(items, make_run):
    sl = ShareableList(items)
    try:
        return time_ops(make_run(sl), batch=BATCH, iterations=20, min_time_ms=300)
    finally:
        sl.shm.close()
        sl.shm.unlink()


def get(sl):
    getitem = sl.__getitem__  # bound once: time the list, not attribute lookups
    indexes = range(ITEMS)

    def run():
        for _ in itertools.repeat(None, PASSES):
            for i in indexes:
                getitem(i)
    return run


def set_ints(sl):
    setitem = sl.__setitem__
    indexes = range(ITEMS)

    def run():
        for p in range(PASSES):
            for i in indexes:
                setitem(i, i + p)
    return run


def set_strs(sl):
    setitem = sl.__setitem__
    indexes = range(ITEMS)

    def run():
        for p in range(PASSES):
            for i in indexes:
                setitem(i, WORDS[(i + p) & 15])
    return run


if __name__ == "__main__":
    ints = [i * 7 for i in range(ITEMS)]
    strs = [f"item-{i}".ljust(10, ".") for i in range(ITEMS)]
    figures = {}
    for name, items, make_run in [
        ("get int", ints, get),
        ("set int", ints, set_ints),
        ("get str", strs, get),
        ("set str", strs, set_strs),
    ]:
        progress(name)
        figures[name] = measure(items, make_run)
    emit(figures)
