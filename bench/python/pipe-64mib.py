"""CPython's side of bench/pipe-64mib.bench.ts: 64 MiB to a child and back through a Pipe with
send_bytes/recv_bytes; MiB of payload per second, round trip."""
import multiprocessing as mp

from _bench import emit, progress, scaled, time_ops

MIB = 64


def echo(conn):
    while True:
        payload = conn.recv_bytes()
        if not payload:
            return
        conn.send_bytes(payload)


if __name__ == "__main__":
    progress("Pipe bytes")
    ctx = mp.get_context("spawn")
    parent, child_end = ctx.Pipe()
    child = ctx.Process(target=echo, args=(child_end,))
    child.start()
    payload = bytes([7]) * (MIB << 20)

    def once():
        parent.send_bytes(payload)
        if len(parent.recv_bytes()) != len(payload):
            raise RuntimeError("the payload came back wrong")

    samples = time_ops(once, iterations=scaled(8, 3), min_time_ms=500)
    parent.send_bytes(b"")
    child.join()
    emit({"Pipe bytes": [MIB * 1e9 / ns for ns in samples]})
