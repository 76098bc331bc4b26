# The Python half of examples/seed004-6-node-producer.ts: seed 004's server side, unchanged
# CPython code (a QueueManager serving one queue.Queue), plus a consumer of that queue in the
# same program. It prints its port, then every job a Node program puts, until None.
import queue
import threading
from multiprocessing.managers import BaseManager

jobs = queue.Queue()


class QueueManager(BaseManager):
    pass


QueueManager.register("get_queue", callable=lambda: jobs)

m = QueueManager(address=("127.0.0.1", 0), authkey=b"abracadabra")
server = m.get_server()
threading.Thread(target=server.serve_forever, daemon=True).start()
print(server.address[1], flush=True)
while (job := jobs.get()) is not None:
    print("python got", job, flush=True)
print("python: done", flush=True)
