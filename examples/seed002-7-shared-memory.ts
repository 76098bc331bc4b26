// Seed 002, "共享內存 Shared_memory": create a block, write into it through `buf`, attach to it by
// name (here and from a child process), read it back, close every instance and unlink it once.
// expect: ^Uint8Array$
// expect: ^10$
// expect: ^\[ 22, 33, 44, 55, 100 \]$
// expect: ^howdy$
// expect: ^the child wrote: HoWdY$
// expect: ^attaching after unlink: ERR_SHM_NOT_FOUND$
import { isMainProcess, Process } from "multiproc";
import { SharedMemory, SharedMemoryError } from "multiproc/shared-memory";

/** Runs in a child: attach to the parent's block by name, as any other program could. */
export function child(name: string): void {
  const shm = new SharedMemory({ name });
  shm.buf.set(new TextEncoder().encode("HoWdY"), 5);
  shm.close();
}

if (isMainProcess()) {
  const shmA = new SharedMemory({ create: true, size: 10 });
  console.log(shmA.buf.constructor.name); // Python: <class 'memoryview'>
  const buffer = shmA.buf;
  console.log(buffer.length);
  buffer.set([22, 33, 44, 55]); // modify multiple at once
  buffer[4] = 100; // modify a single byte at a time

  // Attach to an existing shared memory block by its name.
  const shmB = new SharedMemory(shmA.name);
  console.log(`[ ${[...new Int8Array(shmB.buf.slice(0, 5))].join(", ")} ]`); // copy into a new array
  shmB.buf.set(new TextEncoder().encode("howdy")); // modify via shmB using bytes
  console.log(new TextDecoder().decode(shmA.buf.slice(0, 5))); // access via shmA

  // 父進程創建 shared_memory 后,子進程可以使用它: a child attaches by name too.
  const p = new Process({ target: child, args: [shmA.name] });
  p.start();
  await p.join();
  console.log(`the child wrote: ${new TextDecoder().decode(shmA.buf.slice(5, 10))}`);

  shmB.close(); // close each SharedMemory instance
  shmA.close();
  shmA.unlink(); // call unlink only once to release the shared memory
  try {
    new SharedMemory(shmA.name);
  } catch (err) {
    console.log(`attaching after unlink: ${(err as SharedMemoryError).code}`);
  }
}
