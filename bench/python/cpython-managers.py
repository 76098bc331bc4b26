"""CPython's side of bench/cpython-managers.bench.ts: a SyncManager dict over TCP 127.0.0.1,
set and get through the proxy, one round trip each. With `serve` as argument, it serves such a
manager instead (for multiproc's pickle client) and prints its port."""
import sys
from multiprocessing.managers import SyncManager

from _bench import emit, progress, time_ops

BATCH = 400

if __name__ == "__main__":
    if sys.argv[1:] == ["serve"]:
        m = SyncManager(address=("127.0.0.1", 0), authkey=b"bench")
        server = m.get_server()
        print(server.address[1], flush=True)
        server.serve_forever()
    progress("SyncManager dict, TCP")
    with SyncManager(address=("127.0.0.1", 0), authkey=b"bench") as manager:
        d = manager.dict()
        d["k"] = 0

        def batch():
            for i in range(BATCH // 2):
                d["k"] = i
                d["k"]

        samples = time_ops(batch, batch=BATCH, iterations=10, min_time_ms=300)
    emit({"client -> CPython server, TCP": samples})
