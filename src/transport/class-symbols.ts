// The two symbols a class uses to choose how its instances travel (SPEC "Sending your own
// objects"). Their own module imports nothing, so the package root exports them without loading
// the codec (issue #15.3: the root import stays cheap).

/**
 * A method a class may define to choose what of an instance travels: `[reduce]()` returns plain
 * data (anything a Queue can carry), and the class's static `[revive](data)` rebuilds the instance
 * from it in the receiving process.
 *
 * @example
 * ```ts
 * import { reduce, revive } from "multiproc";
 * export class Temperature {
 *   constructor(readonly celsius: number) {}
 *   [reduce]() { return this.celsius; }
 *   static [revive](celsius: number) { return new Temperature(celsius); }
 * }
 * ```
 */
export const reduce: unique symbol = Symbol.for("multiproc.class.reduce");

/**
 * The static method that rebuilds an instance from what its `[reduce]()` returned (see `reduce`).
 *
 * @example
 * ```ts
 * import { reduce, revive } from "multiproc";
 * export class Money {
 *   constructor(readonly cents: bigint) {}
 *   [reduce]() { return String(this.cents); }
 *   static [revive](s: string) { return new Money(BigInt(s)); }
 * }
 * ```
 */
export const revive: unique symbol = Symbol.for("multiproc.class.revive");
