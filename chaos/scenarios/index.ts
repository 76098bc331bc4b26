// The scenarios `npm run chaos` runs, in order, by name.
import type { ScenarioOptions, ScenarioResult } from "../lib.js";
import { managerLoad, queueLoad } from "./load.js";
import { locksChaos } from "./locks.js";
import { mainKillChaos } from "./main-kill.js";
import { managerKillChaos } from "./manager-kill.js";
import { poolChaos } from "./pool.js";
import { queueChaos } from "./queue.js";
import { fuzzLinkScenario, fuzzListenerScenario, fuzzManagerScenario, fuzzParsersScenario, fuzzPickleServerScenario, fuzzSharedScenario } from "./fuzz.js";

export const SCENARIOS: Record<string, (opts: ScenarioOptions) => Promise<ScenarioResult>> = {
  pool: poolChaos,
  queue: queueChaos,
  locks: locksChaos,
  "manager-kill": managerKillChaos,
  "main-kill": mainKillChaos,
  "queue-load": queueLoad,
  "manager-load": managerLoad,
  "fuzz-parsers": fuzzParsersScenario,
  "fuzz-shared": fuzzSharedScenario,
  "fuzz-listener": fuzzListenerScenario,
  "fuzz-manager": fuzzManagerScenario,
  "fuzz-pickle-server": fuzzPickleServerScenario,
  "fuzz-link": fuzzLinkScenario,
};
