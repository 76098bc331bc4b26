// Seed 000, "a singleton DataFrame for every process through Manager().Namespace()": the parent
// puts a table in a manager Namespace and a child prints it. The DataFrame is an Apache Arrow
// table: the manager keeps it in shared memory, and every process on this machine reads it in
// place (a client on another machine would get Arrow IPC bytes).
// expect: ^    a  b   c   d$
// expect: ^0  10  6   7   8$
// expect: ^2   5  8  10   6$
// expect: ^end$
import { tableFromArrays, type Table } from "apache-arrow";
import { isMainProcess, Manager, Process, type NamespaceProxy } from "multiproc";
import { formatTable } from "./arrow-format.js";
import { scaled, sleep } from "./util.js";

export async function worker(ns: NamespaceProxy): Promise<void> {
  const df = await ns.get<Table>("df");
  console.log(formatTable(df));
  await sleep(scaled(1000));
  console.log("end");
}

if (isMainProcess()) {
  await using mgr = await Manager();
  const ns = await mgr.Namespace();
  const df = tableFromArrays({
    a: Int32Array.from([10, 1, 5]),
    b: Int32Array.from([6, 9, 8]),
    c: Int32Array.from([7, 12, 10]),
    d: Int32Array.from([8, 14, 6]),
  });
  await ns.set("df", df);
  // Another process:
  const p = new Process({ target: worker, args: [ns] });
  p.start();
  await p.join();
}
