# The Python half of examples/seed004-5-python-producer.ts: seed 004's client side, unchanged
# CPython code. It connects to the manager the Node program serves, gets its queue and puts jobs.
import sys
from multiprocessing.managers import BaseManager


class QueueManager(BaseManager):
    pass


QueueManager.register("get_queue")

m = QueueManager(address=("127.0.0.1", int(sys.argv[1])), authkey=b"abracadabra")
m.connect()
queue = m.get_queue()
for i in range(5):
    queue.put({"job": i, "square": i * i, "payload": b"\x00\x01", "tags": ("py", i)})
queue.put(None)  # no more jobs
