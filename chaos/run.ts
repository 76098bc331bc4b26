// One scenario in a program of its own (started by main.ts): its result goes to stdout as one
// line `CHAOS-RESULT <json>`, so a scenario that crashes or hangs cannot take the others with it.
import { isMainProcess } from "multiproc";
import { subSeed } from "./lib.js";
import { SCENARIOS } from "./scenarios/index.js";

if (isMainProcess()) {
  const [name, seed, scale, seconds] = process.argv.slice(2);
  const scenario = name === undefined ? undefined : SCENARIOS[name];
  if (scenario === undefined) {
    console.error(`unknown scenario ${name}; known: ${Object.keys(SCENARIOS).join(", ")}`);
    process.exit(2);
  }
  const result = await scenario({ seed: subSeed(Number(seed), name!), scale: Number(scale), seconds: Number(seconds) });
  process.stdout.write(`CHAOS-RESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
}
