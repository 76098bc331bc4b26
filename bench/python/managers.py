"""CPython's side of bench/managers.bench.ts: Manager().dict() set and get through the proxy, one
round trip to the manager's server process each: over its default Unix socket, and over TCP on
127.0.0.1 (a SyncManager with a TCP address, as remote clients use it; issue 15)."""
import multiprocessing as mp
from multiprocessing.managers import SyncManager

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
    progress("Manager().dict(), TCP")
    tcp = SyncManager(address=("127.0.0.1", 0), ctx=mp.get_context("spawn"))
    tcp.start()
    try:
        d = tcp.dict()
        d["k"] = 0

        def tcp_batch():
            for i in range(BATCH // 2):
                d["k"] = i
                d["k"]

        tcp_samples = time_ops(tcp_batch, batch=BATCH, iterations=10, min_time_ms=300)
    finally:
        tcp.shutdown()
    emit({"Manager().dict()": samples, "Manager().dict(), TCP": tcp_samples})
