// The scenarios `npm run chaos` runs, in order, by name.
import type { ScenarioOptions, ScenarioResult } from "../lib.js";
import { poolChaos } from "./pool.js";

export const SCENARIOS: Record<string, (opts: ScenarioOptions) => Promise<ScenarioResult>> = {
  pool: poolChaos,
};
