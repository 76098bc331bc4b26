"""CPython's side of bench/pipe-round-trip.bench.ts: send a small int to a child that sends it
back through a Pipe, and a record (a dict, issue 15); time per round trip."""
import multiprocessing as mp

from _bench import emit, progress, time_ops

BATCH = 500


def echo(conn):
    while True:
        message = conn.recv()
        if message is None:
            return
        conn.send(message)


if __name__ == "__main__":
    progress("Pipe")
    ctx = mp.get_context("spawn")
    parent, child_end = ctx.Pipe()
    child = ctx.Process(target=echo, args=(child_end,))
    child.start()
    send, recv = parent.send, parent.recv

    def batch():
        for i in range(BATCH):
            send(i)
            recv()

    samples = time_ops(batch, batch=BATCH, iterations=20, min_time_ms=300)

    def records():
        for i in range(BATCH):
            send({"id": i, "name": f"item-{i}", "score": i * 0.5, "tags": ["a", "b"]})
            recv()

    progress("Pipe record")
    record_samples = time_ops(records, batch=BATCH, iterations=20, min_time_ms=300)
    send(None)
    child.join()
    emit({"Pipe": samples, "Pipe record": record_samples})
