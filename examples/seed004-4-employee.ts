// Seed 004, "sharing an instance through a Manager": an Employee registered with a BaseManager
// lives in the manager's process; 10 processes call increase() on it under a lock and the parent
// prints the pay. (The seed uses multiprocessing.Lock; here the manager's own Lock does the job.)
// expect: ^zhangsan:2000$
import { BaseManager, isMainProcess, Manager, Process, type LockProxy, type Remote } from "multiproc";

export class Employee {
  name: string;
  salary: number;
  constructor(name: string, salary: number) {
    this.name = name;
    this.salary = salary;
  }
  increase(): void {
    this.salary += 100;
  }
  getPay(): string {
    return `${this.name}:${this.salary}`;
  }
}

export class MyManager extends BaseManager {}
MyManager.register("Employee", Employee);

async function manager2(): Promise<MyManager> {
  const m = new MyManager();
  await m.start();
  return m;
}

export async function func1(em: Remote<Employee>, lock: LockProxy): Promise<void> {
  await using _ = await lock.hold();
  await em.increase();
}

if (isMainProcess()) {
  await using manager = await manager2();
  const em = await manager.create<Employee>("Employee", "zhangsan", 1000);
  await using locks = await Manager();
  const lock = await locks.Lock();
  const proces = Array.from({ length: 10 }, () => new Process({ target: func1, args: [em, lock] }));
  for (const p of proces) p.start();
  for (const p of proces) await p.join();
  console.log(await em.getPay());
}
