// Beyond seed 002: hand data between Node and Python through shared memory, no socket. Node
// creates a ShareableList and a block of bytes; a python3 process attaches to both by name, reads
// them, writes back; then Python creates a list and Node opens it. Python must not unlink what it
// only attached to, hence resource_tracker.unregister (CPython 3.11 would at exit).
// Without python3 on the machine, the Python part is skipped with a message.
// expect: ^(python sees: \['howdy', b'HoWdY', -273\.154, 100, None, True, 42\]|skipped: python3 is not installed)$
// expect: ^(python read 13 bytes: node → 🐍|skipped: python3 is not installed)$
// expect: ^(node sees: \[ 'python', .*, 3\.5, 100, null, false, 9007199254740993n \]|skipped: python3 is not installed)$
// expect: ^(node opened python's list: \[ 'made in python', 2\.5, true \]|skipped: python3 is not installed)$
import { spawnSync } from "node:child_process";
import { inspect } from "node:util";
import { ShareableList, SharedMemory } from "multiproc/shared-memory";

function python(code: string): string | null {
  const r = spawnSync("python3", ["-c", code], { encoding: "utf8", timeout: 30_000 });
  if (r.error !== undefined) return null;
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  return r.stdout.trim();
}

const show = (items: unknown[]): string => inspect(items, { breakLength: Infinity });

const list = new ShareableList(["howdy", new TextEncoder().encode("HoWdY"), -273.154, 100, null, true, 42]);
const block = new SharedMemory({ create: true, size: 64 });
const message = new TextEncoder().encode("node → 🐍");
block.buf.set(message);
try {
  const out = python(`
from multiprocessing import resource_tracker
from multiprocessing.shared_memory import ShareableList, SharedMemory
sl = ShareableList(name=${JSON.stringify(list.shm.name)})
resource_tracker.unregister(sl.shm._name, "shared_memory")  # Node owns it: do not unlink at exit
print("python sees:", list(sl))
shm = SharedMemory(name=${JSON.stringify(block.name)})
resource_tracker.unregister(shm._name, "shared_memory")
print(f"python read ${message.length} bytes:", bytes(shm.buf[:${message.length}]).decode())
sl[0] = "python"
sl[2] = 3.5
sl[6] = 2**53 + 1
sl[5] = False
new = ShareableList(["made in python", 2.5, True])
resource_tracker.unregister(new.shm._name, "shared_memory")  # Node unlinks it when done
print(new.shm.name)
`);
  if (out === null) {
    for (let i = 0; i < 4; i++) console.log("skipped: python3 is not installed");
  } else {
    const lines = out.split("\n");
    const theirs = lines.pop()!;
    for (const line of lines) console.log(line);
    console.log(`node sees: ${show(list.toArray())}`);
    const fromPython = new ShareableList(null, { name: theirs });
    console.log(`node opened python's list: ${show(fromPython.toArray())}`);
    fromPython.shm.unlink();
  }
} finally {
  list.shm.unlink();
  block.unlink();
}
