// Seed 002, "ShareableList 共享列表": a list of mixed types in one shared block, with CPython's
// exact layout. Items may change type, but never outgrow the storage they were created with (the
// "resize error"). A second process opens the same list by name and writes to it.
// expect: ^\[ 'string', 'bytes', 'number', 'number', 'null', 'boolean', 'number' \]$
// expect: ^-273\.154$
// expect: ^-78\.5$
// expect: ^dry ice$
// expect: ^ERR_SHM_ITEM_TOO_LARGE: item 2 has room for 8 bytes, .*$
// expect: ^dry ice$
// expect: ^7$
// expect: ^6$
// expect: ^0$
// expect: ^1$
// expect: ^ShareableList\(\[ 0, 1, 2, 3, 4 \], name='.*psm_[0-9a-f]+'\)$
// expect: ^-999$
import { isMainProcess, Process } from "multiproc";
import { ShareableList, SharedMemoryError } from "multiproc/shared-memory";

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** In a second process: open the list by name and change its last item. */
export function second(name: string): void {
  const c = new ShareableList(null, { name });
  console.log(String(c));
  c.set(-1, -999);
  c.shm.close();
}

if (isMainProcess()) {
  const a = new ShareableList(["howdy", bytes("HoWdY"), -273.154, 100, null, true, 42]);
  const types = [...a].map((entry) => (entry === null ? "null" : entry instanceof Uint8Array ? "bytes" : typeof entry));
  console.log(`[ ${types.map((t) => `'${t}'`).join(", ")} ]`); // Python: [<class 'str'>, <class 'bytes'>, ...]
  console.log(a.get(2));
  a.set(2, -78.5);
  console.log(a.get(2));
  a.set(2, "dry ice"); // changing data types is supported as well
  console.log(a.get(2));
  try {
    a.set(2, "larger than previously allocated storage space");
  } catch (err) {
    const e = err as SharedMemoryError;
    console.log(`${e.code}: ${e.message}`); // Python: ValueError: exceeds available storage
  }
  console.log(a.get(2));
  console.log(a.length);
  console.log(a.index(42));
  console.log(a.count(bytes("howdy")));
  console.log(a.count(bytes("HoWdY")));
  a.shm.close();
  a.shm.unlink();

  const b = new ShareableList([0, 1, 2, 3, 4]); // in a first process
  const p = new Process({ target: second, args: [b.shm.name] }); // and a second one
  p.start();
  await p.join();
  console.log(b.get(-1));
  b.shm.close();
  b.shm.unlink();
}
