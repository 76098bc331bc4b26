// `multiproc worker`: one worker node of a ClusterPool (src/cluster/worker-node.ts), serving the
// queue until SIGINT or SIGTERM (a first signal lets running tasks finish, a second abandons them
// to other nodes).
import { parseArgs } from "node:util";
import { ArgumentError, ErrorCodes } from "../errors.js";
import { WorkerNode } from "../cluster/worker-node.js";

export const WORKER_USAGE = `usage: multiproc worker --connection redis://HOST:PORT[/DB] [--concurrency N] [--queue NAME]
                        [--root DIR] [--name NAME] [--lock-duration MS] [--stalled-interval MS]

  --connection        the Redis server the pools use (rediss:// for TLS; a password in the URL)
  --concurrency       tasks run at once, each in a worker process (default: the CPU count)
  --queue             the queue to serve (default: multiproc; a ClusterPool's \`queue\` option)
  --root              where module targets are resolved (default: the working directory); start
                      nodes in a copy of the pools' code, as pools send module paths relative to
                      their own root. TypeScript targets: NODE_OPTIONS="--import tsx"
  --name              how the node shows up in pool.nodes() and worker names (default: HOST:PID)
  --lock-duration     ms a task's lock lasts unrenewed: how soon a dead node's tasks move on (10000)
  --stalled-interval  ms between this node's checks for tasks whose node died (5000)`;

function integer(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new ArgumentError(`--${name} must be a whole number, got '${text}'`, ErrorCodes.INVALID_ARG_VALUE);
  return n;
}

/** Runs a node until a signal; resolves with the exit code. Bad usage throws an ArgumentError. */
export async function workerCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      connection: { type: "string" },
      concurrency: { type: "string" },
      queue: { type: "string" },
      root: { type: "string" },
      name: { type: "string" },
      "lock-duration": { type: "string" },
      "stalled-interval": { type: "string" },
    },
    strict: true,
  });
  if (values.connection === undefined) throw new ArgumentError("--connection is required", ErrorCodes.INVALID_ARG_VALUE);
  const node = new WorkerNode({
    connection: values.connection,
    concurrency: integer(values.concurrency, "concurrency"),
    queue: values.queue,
    root: values.root,
    name: values.name,
    lockDuration: integer(values["lock-duration"], "lock-duration"),
    stalledInterval: integer(values["stalled-interval"], "stalled-interval"),
  });
  // The first signal lets running tasks finish; a second leaves at once, and the tasks move on
  // to other nodes when their locks expire, as if this node had died.
  let stopped = () => undefined as void;
  const done = new Promise<void>((resolve) => (stopped = resolve));
  let signals = 0;
  const stop = () => {
    if (++signals > 1) process.exit(130);
    node.close().then(stopped, stopped);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  try {
    await node.start();
  } catch (err) {
    // Stopped before it was serving (Redis unreachable all along): a stop as asked, not a failure.
    if (signals === 0) throw err;
  }
  if (signals === 0) {
    console.log(
      `multiproc worker ${node.name}: serving queue '${node.queue}' at ${node.connection} with ${node.concurrency} processes (root ${node.root}); Ctrl+C to stop`,
    );
  }
  await done;
  return 0;
}
