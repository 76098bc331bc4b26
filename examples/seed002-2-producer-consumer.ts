// Seed 002, "producer - consumer with a Queue": a producer process puts the even numbers among 10
// random ones into a Queue of maxsize 5 (stopping with "queue is full" when it is); once it has
// ended, a consumer process takes everything out; the parent prints what is left (0).
// expect: ^put \d+ in queue by producer$
// expect: ^take data \d+ from queue by consumer$
// expect: ^0$
import { isMainProcess, Process, Queue } from "multiproc";

export async function producer(numbers: number[], q: Queue<number>): Promise<void> {
  for (const x of numbers) {
    if (x % 2 === 0) {
      if (q.full()) {
        console.log("queue is full");
        break;
      }
      await q.put(x);
      console.log(`put ${x} in queue by producer`);
    }
  }
}

export async function consumer(q: Queue<number>): Promise<void> {
  while (!q.empty()) console.log(`take data ${await q.get()} from queue by consumer`);
}

if (isMainProcess()) {
  await using qu = new Queue<number>({ maxsize: 5 });
  // At least one even number, so that there is always something to take.
  const numbers = [2 * (1 + Math.floor(Math.random() * 50)), ...Array.from({ length: 9 }, () => 1 + Math.floor(Math.random() * 100))];
  const p5 = new Process({ name: "producer-1", target: producer, args: [numbers, qu] });
  p5.start();
  await p5.join();
  const p6 = new Process({ name: "consumer-1", target: consumer, args: [qu] });
  p6.start();
  await p6.join();
  console.log(qu.qsize());
}
