// Seed 002, "Pipe": a two-way pipe; the child sends ['hi!! I am Python'] and closes its end, the
// parent prints it. With Pipe({ duplex: false }) the first end would only receive, the second
// only send.
// expect: ^\[ 'hi!! I am Python' \]$
import { type Connection, isMainProcess, Pipe, Process } from "multiproc";

export function myfunction(conn: Connection<string[]>): void {
  conn.sendSync(["hi!! I am Python"]);
  conn.close();
}

if (isMainProcess()) {
  const [parentConn, childConn] = Pipe<string[]>();
  const p = new Process({ target: myfunction, args: [childConn] });
  p.start();
  console.log(await parentConn.recv());
  await p.join();
}
