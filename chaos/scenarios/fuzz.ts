// The fuzzing and attack scenarios (chaos/fuzz/*): every byte parser another process or the
// network feeds gets 10^5 damaged inputs at full scale, and the Listener and the manager server
// get damaged messages and authentication attacks over TCP. In the table, `faults` counts the
// damaged inputs and attacks, `crashes` the untyped errors (and dead servers), `hangs` the inputs
// that got no answer.
import type { ScenarioOptions, ScenarioResult } from "../lib.js";
import type { FuzzResult, Verdicts } from "../fuzz/common.js";
import { fuzzManagerLink } from "../fuzz/link.js";
import { fuzzListener } from "../fuzz/listener.js";
import { fuzzManagerServer } from "../fuzz/manager.js";
import { fuzzCodec, fuzzFraming, fuzzManagerRequests, fuzzMessages, fuzzPoolFrames, parsersResult } from "../fuzz/parsers.js";
import { fuzzPickles, fuzzPickleServer } from "../fuzz/pickle.js";
import { fuzzQueues } from "../fuzz/queues.js";
import { fuzzRing, fuzzShareableList } from "../fuzz/shared.js";

function sum(figures: Record<string, number>, suffix: RegExp): number {
  return Object.entries(figures).reduce((s, [k, v]) => (suffix.test(k) ? s + v : s), 0);
}

/** Adds the runner's standard columns to a fuzz result. */
function standard(r: FuzzResult): ScenarioResult {
  const f = r.figures;
  f.faults = sum(f, /\.(cases|messageCases|requestCases)$/) + sum(f, /\.(wrongKey|truncated|replay|oversized|garbage|slowLoris|drop)\.(?!controlWelcomed)/);
  f.crashes = sum(f, /\.(crashes|untypedErrors|serverCrashed)$/);
  f.hangs = sum(f, /\.hangs?$/) + sum(f, /\.[a-zA-Z]+\.hang$/);
  return r;
}

export async function fuzzParsersScenario(opts: ScenarioOptions): Promise<ScenarioResult> {
  const verdicts: Verdicts[] = [fuzzMessages(opts), fuzzCodec(opts), fuzzManagerRequests(opts), fuzzFraming(opts), fuzzPoolFrames(opts), fuzzPickles(opts)];
  return Promise.resolve(standard(parsersResult("fuzz-parsers", verdicts)));
}

export async function fuzzSharedScenario(opts: ScenarioOptions): Promise<ScenarioResult> {
  const ring = fuzzRing(opts);
  const list = await fuzzShareableList(opts);
  const queues = await fuzzQueues(opts);
  const r = parsersResult("fuzz-shared", [ring.verdicts, list, queues.verdicts]);
  Object.assign(r.figures, {
    "ring.recovered": ring.recovered,
    "ring.notRecovered": ring.notRecovered,
    "ring.tailDamaged": ring.tailDamaged,
    "ring.badConstructs": ring.badConstructs,
    "queues.emptied": queues.emptied,
    "queues.recovered": queues.recovered,
    "queues.notRecovered": queues.notRecovered,
  });
  r.mustBeZero.push("ring.notRecovered", "ring.badConstructs", "queues.notRecovered");
  return standard(r);
}

export async function fuzzListenerScenario(opts: ScenarioOptions): Promise<ScenarioResult> {
  return standard(await fuzzListener(opts));
}

export async function fuzzManagerScenario(opts: ScenarioOptions): Promise<ScenarioResult> {
  return standard(await fuzzManagerServer(opts));
}

export async function fuzzLinkScenario(opts: ScenarioOptions): Promise<ScenarioResult> {
  return standard(await fuzzManagerLink(opts));
}

export async function fuzzPickleServerScenario(opts: ScenarioOptions): Promise<ScenarioResult> {
  return standard(await fuzzPickleServer(opts));
}
