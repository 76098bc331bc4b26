"""CPython's side of bench/small-objects.bench.ts: creating Value('i'), Lock and Event, time per
object, with the /dev/shm entries and RSS growth in the note. The 1,000,000 cases stop after
10,000 objects (a million at ~150 us each would take minutes): the time per object is compared."""
import multiprocessing as mp
import os
import resource
import time

from _bench import emit, progress, scaled

MAKERS = {"Value": lambda: mp.Value("i", 0), "Lock": mp.Lock, "Event": mp.Event}
CAPPED = 10_000


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def create(kind, count, rounds):
    make = MAKERS[kind]
    n = scaled(min(count, CAPPED), 1000)
    samples, entries, grown = [], 0, 0
    for _ in range(rounds):
        shm0, rss0 = len(os.listdir("/dev/shm")), rss()
        t0 = time.perf_counter_ns()
        objects = [make() for _ in range(n)]
        samples.append((time.perf_counter_ns() - t0) / n)
        entries = max(entries, len(os.listdir("/dev/shm")) - shm0)
        grown = max(grown, rss() - rss0)
        del objects
    stopped = f" (of {count}, stopped there)" if count > n else ""
    return {"samples": samples, "note": f"{n}{stopped} x {kind}: +{entries} /dev/shm entries, +{grown / 2**20:.0f} MiB RSS at most"}


if __name__ == "__main__":
    figures = {}
    for count, label in ((10_000, "10k"), (1_000_000, "1M")):
        for kind in MAKERS:
            progress(f"{kind} x{label}")
            figures[f"{kind} x{label}"] = create(kind, count, 2 if count == 10_000 else 1)
    emit(figures)
