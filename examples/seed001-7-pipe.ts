// Seed 001, "Exchanging objects between processes: Pipes": a child sends [42, None, 'hello'] down
// one end of a Pipe and closes it; the parent prints what the other end receives.
// expect: ^\[ 42, null, 'hello' \]$
import { type Connection, isMainProcess, Pipe, Process } from "multiproc";

export async function f(conn: Connection<unknown[]>): Promise<void> {
  await conn.send([42, null, "hello"]);
  conn.close();
}

if (isMainProcess()) {
  const [parentConn, childConn] = Pipe<unknown[]>();
  const p = new Process({ target: f, args: [childConn] });
  p.start();
  console.log(await parentConn.recv()); // prints "[ 42, null, 'hello' ]"
  await p.join();
}
