// Seed 004, "A, B and C": the top-level process C starts a manager and hands its list to A and B.
// A appends 100..104 every second, B appends 300..308 every 0.6 s, and C looks at the shared
// "data pool" once a second, like a mailbox. At the end C waits for A and B and prints it sorted.
// expect: ^\[(\d+(, \d+)*)?\]$
// expect: ^final: \[100, 101, 102, 103, 104, 300, 301, 302, 303, 304, 305, 306, 307, 308\]$
import { isMainProcess, Manager, Process, type ListProxy } from "multiproc";
import { scaled, sleep } from "./util.js";

export async function threadAMain(syncDataPool: ListProxy<number>): Promise<void> {
  for (let ix = 100; ix < 105; ix++) {
    await sleep(scaled(1000));
    await syncDataPool.append(ix);
  }
}

export async function threadBMain(syncDataPool: ListProxy<number>): Promise<void> {
  for (let ix = 300; ix < 309; ix++) {
    await sleep(scaled(600));
    await syncDataPool.append(ix);
  }
}

async function testCase000(): Promise<void> {
  await using manager = await Manager(); // a SyncManager whose server runs in its own process
  const syncDataPool = await manager.list<number>(); // each call makes a new shared list
  const a = new Process({ target: threadAMain, args: [syncDataPool] });
  const b = new Process({ target: threadBMain, args: [syncDataPool] });
  a.start();
  b.start();
  for (let ix = 0; ix < 6; ix++) {
    await sleep(scaled(1000));
    console.log(`[${(await syncDataPool.toArray()).join(", ")}]`);
  }
  await a.join();
  await b.join();
  console.log(`final: [${(await syncDataPool.toArray()).sort((x, y) => x - y).join(", ")}]`);
}

if (isMainProcess()) await testCase000();
