// Argument guards used at the entry of public calls, so a wrong argument fails at the call that
// was wrong with a message naming it.
import { ArgumentError, ErrorCodes } from "./errors.js";

export function describe(value: unknown): string {
  switch (typeof value) {
    case "function":
      return "a function";
    case "object":
      if (value === null) return "null";
      if (Array.isArray(value)) return "an array";
      return `an instance of ${value.constructor?.name ?? "Object"}`;
    case "symbol":
      return `a symbol ${value.toString()}`;
    case "string":
      return `the string ${JSON.stringify(value)}`;
    default:
      return `${typeof value} ${String(value)}`;
  }
}

/** A timeout in milliseconds: undefined/null means none; otherwise a number >= 0. */
/**
 * A wait's timeout in ms. A negative one is 0 (look, do not wait), as in CPython's
 * multiprocessing (SemLock, Connection.poll, Process.join, Event.wait; docs/design.md, "Differences
 * from CPython").
 */
export function checkTimeout(timeout: unknown, name = "timeout"): number | undefined {
  const ms = checkLimit(timeout, name, true);
  return ms === undefined ? undefined : Math.max(0, ms);
}

/** A duration that is a limit or a setting, not a wait (a task's time limit, handshakeTimeout): >= 0. */
export function checkLimit(timeout: unknown, name: string, negativeOk = false): number | undefined {
  if (timeout === undefined || timeout === null) return undefined;
  if (typeof timeout !== "number" || Number.isNaN(timeout)) {
    throw new ArgumentError(`${name} must be a number of milliseconds, got ${describe(timeout)}`, ErrorCodes.INVALID_ARG_TYPE);
  }
  if (timeout < 0 && !negativeOk) throw new ArgumentError(`${name} must be >= 0 milliseconds, got ${timeout}`, ErrorCodes.OUT_OF_RANGE);
  return timeout;
}

export function checkInteger(value: unknown, name: string, min = -Infinity, max = Infinity): number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new ArgumentError(`${name} must be an integer, got ${describe(value)}`, ErrorCodes.INVALID_ARG_TYPE);
  }
  if (value < min || value > max) {
    const range = max === Infinity ? `>= ${min}` : `between ${min} and ${max}`;
    throw new ArgumentError(`${name} must be ${range}, got ${value}`, ErrorCodes.OUT_OF_RANGE);
  }
  return value;
}

export function checkFunction(value: unknown, name: string): asserts value is (...args: never[]) => unknown {
  if (typeof value !== "function") {
    throw new ArgumentError(`${name} must be a function, got ${describe(value)}`, ErrorCodes.INVALID_ARG_TYPE);
  }
}

export function checkSignal(signal: unknown, name = "signal"): AbortSignal | undefined {
  if (signal === undefined || signal === null) return undefined;
  if (!(signal instanceof AbortSignal)) {
    throw new ArgumentError(`${name} must be an AbortSignal, got ${describe(signal)}`, ErrorCodes.INVALID_ARG_TYPE);
  }
  return signal;
}

export function checkOptions(value: unknown, name = "options"): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ArgumentError(`${name} must be an object, got ${describe(value)}`, ErrorCodes.INVALID_ARG_TYPE);
  }
  return value as Record<string, unknown>;
}
