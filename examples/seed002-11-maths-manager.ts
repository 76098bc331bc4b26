// Seed 002, "registering a custom type with a manager": BaseManager.register('Maths', MathsClass);
// the instance lives in the manager's server process and its methods are called through a proxy.
// expect: ^7$
// expect: ^56$
import { BaseManager, isMainProcess } from "multiproc";

export class MathsClass {
  add(x: number, y: number): number {
    return x + y;
  }
  mul(x: number, y: number): number {
    return x * y;
  }
}

// register() returns the class typed with a Maths() method (Python adds it the same way).
export const MyManager = class MyManager extends BaseManager {}.register("Maths", MathsClass);

if (isMainProcess()) {
  await using manager = new MyManager();
  await manager.start();
  const maths = await manager.Maths();
  console.log(await maths.add(4, 3)); // prints 7
  console.log(await maths.mul(7, 8)); // prints 56
}
