"""The CPython side of `npm run bench`: timing helpers shaped like bench/harness.ts's timeOps.

Each bench/python/<name>.py measures CPython's variants of one case and prints one JSON object on
stdout, {"python": VERSION, "figures": {VARIANT: {"samples": [...]}}}, in the case's metric
(nanoseconds per operation for times). Progress goes to stderr. BENCH_SCALE shrinks the work.
"""
import json
import os
import platform
import sys
import time

try:
    SCALE = float(os.environ.get("BENCH_SCALE", "1"))
except ValueError:
    SCALE = 1.0
if not SCALE > 0:
    SCALE = 1.0


def scaled(n, minimum=1):
    return max(minimum, round(n * SCALE))


def time_ops(fn, batch=1, iterations=10, min_time_ms=300, warmup=2, warmup_ms=50):
    """Calls fn() untimed at least `warmup` times and for `warmup_ms`, then timed at least
    `iterations` times and for at least `min_time_ms`; returns ns per operation for each call
    (the call's time divided by `batch`). Counts and budgets are scaled by BENCH_SCALE, as in
    the JS harness, so both sides do the same amount of work."""
    def loop(count, budget_ms, timed):
        samples = []
        end = time.perf_counter() + budget_ms * SCALE / 1000
        while len(samples) < count or time.perf_counter() < end:
            t0 = time.perf_counter_ns()
            fn()
            t1 = time.perf_counter_ns()
            samples.append((t1 - t0) / batch)
        return samples if timed else []

    loop(scaled(warmup), warmup_ms, False)
    return loop(scaled(iterations, 3), min_time_ms, True)


def progress(message):
    print(f"    python: {message}", file=sys.stderr, flush=True)


def emit(figures):
    """Prints the figures ({variant: [samples]} or {variant: {"samples": [...], "note": "..."}})."""
    out = {}
    for name, value in figures.items():
        out[name] = value if isinstance(value, dict) else {"samples": value}
    print(json.dumps({"python": platform.python_version(), "figures": out}))
