// Helpers for the synchronisation tests: every primitive runs under each context, and under a mix
// where a process child and a thread child share it.
import { getContext, type Process, type StartMethod, type Target } from "multiproc";

export interface Mix {
  name: string;
  /** The start method of the first and of the second child. */
  kinds: readonly [StartMethod, StartMethod];
}

export const MIXES: readonly Mix[] = [
  { name: "process", kinds: ["process", "process"] },
  { name: "thread", kinds: ["thread", "thread"] },
  { name: "process+thread", kinds: ["process", "thread"] },
];

/** Starts one child per entry of `kinds`, each running `target` with `args`. */
export function startAll<A extends unknown[]>(kinds: readonly StartMethod[], target: Target<A>, args: NoInfer<A>): Process<A>[] {
  return kinds.map((kind) => {
    const p = new (getContext(kind).Process)<A>({ target, args });
    p.start();
    return p;
  });
}

export async function joinAll(ps: readonly Process<never>[] | readonly Process[]): Promise<void> {
  await Promise.all(ps.map((p) => p.join()));
}
