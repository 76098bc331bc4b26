// imap, imapUnordered and lazy inputs under both start methods: the shared conformance cases
// (conformance/pool-cases.ts): order, laziness with a bound on items in flight, early exit,
// AbortSignal, errors in order.
import { getContext } from "multiproc";
import { CONTEXTS } from "./helpers.js";
import { imapCases } from "./conformance/pool-cases.js";

for (const kind of CONTEXTS) {
  const ctx = getContext(kind);
  imapCases(`Pool.imap (${kind})`, (n) => new ctx.Pool(n));
}
