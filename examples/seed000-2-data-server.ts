// Seed 000, "BaseManager and SyncManager as client/server": DataServer serves a table to clients
// over TCP with an authkey; DataClient connects with BaseManager.register('DataProxy') (no
// callable: the server has it) and workers fetch the table through the proxy.
// The server is one command here: `multiproc manager serve --module <this file>` imports this
// module, finds DataManager and serves it. The main part below starts that command, then plays
// the seed's test script: workers get the data from the server or use local data, timed.
// expect: ^serving DataManager \(.*DataProxy.*\) at 127\.0\.0\.1:\d+
// expect: ^using local data 2 processes$
// expect: ^using client/server 1 processes$
// expect: ^0  10  6   7   8$
// expect: ^took \d+\.\d\d\d seconds$
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { tableFromArrays, type Table } from "apache-arrow";
import { BaseManager, isMainProcess, Process, SyncManager, type Remote } from "multiproc";
import { formatTable } from "./arrow-format.js";

// ---- DataServer.ts ----

/** Global for storing the data to be served (filled wherever this module is imported). */
const gData = new Map<number, Table>();
gData.set(1, tableFromArrays({
  a: Int32Array.from([10, 1, 5]),
  b: Int32Array.from([6, 9, 8]),
  c: Int32Array.from([7, 12, 10]),
  d: Int32Array.from([8, 14, 6]),
}));

/** The class shared with other processes: its methods run in the server, next to the data. */
export class DataProxy {
  /**
   * The table itself: a client on this machine gets a Table that reads the server's shared copy in
   * place; one on another machine gets its Arrow IPC bytes, rebuilt into a Table.
   */
  getData(key: number): Table | null {
    return gData.get(key) ?? null;
  }
}

export class DataManager extends SyncManager {}
DataManager.register("DataProxy", DataProxy);

// ---- DataClient.ts ----

export class DataClient {
  readonly mgr: BaseManager;
  constructor(port: number) {
    class MyManager extends BaseManager {}
    MyManager.register("DataProxy");
    this.mgr = new MyManager({ address: ["127.0.0.1", port], authkey: "DataProxy01" });
  }
  async proxy(): Promise<Remote<DataProxy>> {
    await this.mgr.connect();
    return this.mgr.create<DataProxy>("DataProxy");
  }
}

// ---- the test script: a worker per process, getting the data from the server or locally ----

export async function worker(port: number, mode: number, key: number): Promise<void> {
  if (mode === 0) {
    const proxy = await new DataClient(port).proxy(); // get from the proxy
    const table = await proxy.getData(key);
    if (table !== null) console.log(formatTable(table));
  } else {
    const gDummy = new Float64Array(1000).map(() => Math.random()); // local data, for comparison
    void gDummy;
  }
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMainProcess() && isEntry) {
  const cli = fileURLToPath(new URL("../../dist/cli/multiproc.js", import.meta.url));
  const server = spawn(process.execPath, [cli, "manager", "serve", "--address", "127.0.0.1:0", "--authkey-env", "DATA_KEY", "--module", fileURLToPath(import.meta.url)], {
    env: { ...process.env, DATA_KEY: "DataProxy01" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  process.on("exit", () => server.kill()); // even if something below fails
  const [line] = (await once(createInterface({ input: server.stdout }), "line")) as [string];
  console.log("Serving data. Press Ctrl+C to stop.");
  console.log(line);
  const port = Number(/:(\d+);/.exec(line)![1]);
  for (const mode of [1, 0]) {
    for (const nprocs of [2, 1]) {
      console.log(`using ${mode === 0 ? "client/server" : "local data"} ${nprocs} processes`);
      const start = performance.now();
      const ps = Array.from({ length: nprocs }, () => new Process({ target: worker, args: [port, mode, 1] }));
      for (const p of ps) p.start();
      for (const p of ps) await p.join();
      console.log(`took ${((performance.now() - start) / 1000).toFixed(3)} seconds`);
    }
  }
  server.kill("SIGTERM");
  await once(server, "exit");
}
