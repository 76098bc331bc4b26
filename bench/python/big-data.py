"""CPython's side of bench/big-data.bench.ts: 64 MiB to a running child and back through a Pipe,
as bytes (send_bytes/recv_bytes) and as a pickled numpy array (send/recv). MiB/s per round trip."""
import multiprocessing as mp

import numpy as np

from _bench import emit, progress, time_ops

MIB = 64


def echo(conn):
    while True:
        kind, payload = conn.recv()
        if kind == "stop":
            break
        if kind == "bytes":
            conn.send_bytes(conn.recv_bytes())
        else:
            conn.send(conn.recv())


def measure(kind):
    parent, child = mp.Pipe()
    p = mp.get_context("spawn").Process(target=echo, args=(child,))
    p.start()
    if kind == "bytes":
        payload = bytes(MIB << 20)

        def once():
            parent.send((kind, None))
            parent.send_bytes(payload)
            assert len(parent.recv_bytes()) == len(payload)
    else:
        payload = np.zeros((MIB << 20) // 8)

        def once():
            parent.send((kind, None))
            parent.send(payload)
            assert parent.recv().shape == payload.shape

    samples = time_ops(once, iterations=8, min_time_ms=500)
    parent.send(("stop", None))
    p.join()
    return [MIB * 1e9 / ns for ns in samples]


if __name__ == "__main__":
    figures = {}
    for kind, label in (("bytes", "Pipe bytes"), ("numpy", "Pipe numpy")):
        progress(label)
        figures[label] = measure(kind)
    emit(figures)
