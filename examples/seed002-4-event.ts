// Seed 002, "子進程間協調機制 – Event": joo_b clears the event, works for 2 seconds, puts a number
// on the queue and sets the event; joo_a waits for the event before putting its own number. The
// parent prints what the queue holds: joo_b's number (200-300, both ends included, as
// Python's randint) always comes first.
// expect: ^subprocess joo_a start$
// expect: ^subprocess joo_b start$
// expect: ^subprocess joo_b ended$
// expect: ^subprocess joo_a ended$
// expect: ^(2\d\d|300)\n([1-9]\d?|100)$
import { Event, isMainProcess, Process, Queue } from "multiproc";
import { scaled, sleep } from "./util.js";

function randint(a: number, b: number): number {
  return a + Math.floor(Math.random() * (b - a + 1));
}

export async function jooA(q: Queue<number>, ev: Event): Promise<void> {
  console.log("subprocess joo_a start");
  if (!ev.isSet()) await ev.wait();
  await q.put(randint(1, 100));
  console.log("subprocess joo_a ended");
}

export async function jooB(q: Queue<number>, ev: Event): Promise<void> {
  console.log("subprocess joo_b start");
  ev.clear();
  await sleep(scaled(2000));
  await q.put(randint(200, 300));
  ev.set();
  console.log("subprocess joo_b ended");
}

if (isMainProcess()) {
  const qu = new Queue<number>();
  const ev = new Event();
  const subA = new Process({ target: jooA, args: [qu, ev] });
  const subB = new Process({ target: jooB, args: [qu, ev] });
  subA.start();
  subB.start();
  // ev.set();
  await subA.join();
  await subB.join();
  while (!qu.empty()) console.log(await qu.get());
  qu.close();
}
