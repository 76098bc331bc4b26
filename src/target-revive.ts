// Child side of targets: turns a TargetDescriptor back into a callable function.
import { ErrorCodes, ProcessError } from "./errors.js";
import type { TargetDescriptor } from "./target.js";
import { moduleNamespaces } from "./transport/module-namespaces.js";

type AnyFunction = (...args: unknown[]) => unknown;

const revived = new Map<string, AnyFunction>();

/** Finds or rebuilds the function a descriptor names. Throws a coded ProcessError if it cannot. */
export async function reviveTarget(d: TargetDescriptor): Promise<AnyFunction> {
  const key = d.kind === "export" ? `e\0${d.url}\0${d.name}` : `f\0${d.url ?? ""}\0${d.name}\0${d.source}`;
  const cached = revived.get(key);
  if (cached !== undefined) return cached;
  const fn = d.kind === "export" ? await fromExport(d.url, d.name) : await fromFunction(d);
  revived.set(key, fn);
  return fn;
}

async function fromExport(url: string, name: string): Promise<AnyFunction> {
  let ns: Record<string, unknown>;
  try {
    ns = (await import(url)) as Record<string, unknown>;
    moduleNamespaces.set(url, ns);
  } catch (err) {
    throw new ProcessError(`cannot import ${url} to find '${name}' in this process`, { code: ErrorCodes.TARGET_NOT_FOUND, cause: err });
  }
  const fn = ns[name];
  if (typeof fn !== "function") {
    throw new ProcessError(`${url} has no exported function '${name}'`, { code: ErrorCodes.TARGET_NOT_FOUND });
  }
  return fn as AnyFunction;
}

async function fromFunction(d: Extract<TargetDescriptor, { kind: "function" }>): Promise<AnyFunction> {
  let importError: unknown;
  if (d.url !== undefined) {
    try {
      const ns = (await import(d.url)) as Record<string, unknown>;
      moduleNamespaces.set(d.url, ns);
      const found = findExport(ns, d.name, d.source);
      if (found !== undefined) return found;
    } catch (err) {
      // An unguarded main module may refuse to run here (see isMainProcess); the source may still do.
      importError = err;
    }
  }
  return fromSource(d, importError);
}

function findExport(ns: Record<string, unknown>, name: string, source: string): AnyFunction | undefined {
  const byName = ns[name];
  if (typeof byName === "function" && Function.prototype.toString.call(byName) === source) return byName as AnyFunction;
  for (const value of Object.values(ns)) {
    if (typeof value === "function" && Function.prototype.toString.call(value) === source) return value as AnyFunction;
  }
  return undefined;
}

// esbuild's keepNames (used by tsx) wraps nested functions in __name(fn, "name"); give the rebuilt
// function a harmless one so TypeScript run through tsx revives like compiled JavaScript.
const keepName = <T>(fn: T): T => fn;

// Rebuilding a function from its source is the point of target form 3, so eval is deliberate here.
/* eslint-disable @typescript-eslint/no-implied-eval, @typescript-eslint/no-unsafe-call */
function compile(source: string, name: string): AnyFunction {
  try {
    return new Function("__name", `"use strict"; return (${source});`)(keepName) as AnyFunction;
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
  }
  // Method shorthand ("square(x) { ... }", "async run() { ... }") is not an expression on its own.
  const holder = new Function("__name", `"use strict"; return ({ ${source} });`)(keepName) as Record<string, unknown>;
  const method = holder[name] ?? Object.values(holder)[0];
  if (typeof method !== "function") throw new SyntaxError(`cannot rebuild '${name}' from its source`);
  return method as AnyFunction;
}
/* eslint-enable @typescript-eslint/no-implied-eval, @typescript-eslint/no-unsafe-call */

function notSelfContained(d: { name: string; url: string | undefined; evalCode?: boolean }, cause: unknown, importError: unknown): ProcessError {
  const label = d.name === "" ? "an anonymous function" : `'${d.name}'`;
  let where = "";
  if (d.evalCode === true) where = " (defined in the code given to node -e/--eval/--print, which no other process can import: only self-contained functions work there; put the others in a module file)";
  else if (d.url !== undefined) where = importError === undefined ? ` (defined in ${d.url}, which does not export it)` : ` (defined in ${d.url}, which could not be imported here: ${importError instanceof Error ? importError.message : "the import failed"})`;
  const missing = cause instanceof ReferenceError ? `: ${cause.message}` : "";
  return new ProcessError(
    `the target ${label}${where} was sent as source and uses names from its surroundings that do not exist in this process${missing}. ` +
      `A function run elsewhere must be (1) exported from its module, (2) referenced with fromModule(url), ` +
      `or (3) self-contained, using only its parameters and globals.`,
    { code: ErrorCodes.TARGET_NOT_SELF_CONTAINED, cause },
  );
}

function fromSource(d: Extract<TargetDescriptor, { kind: "function" }>, importError: unknown): AnyFunction {
  let fn: AnyFunction;
  try {
    fn = compile(d.source, d.name);
  } catch (err) {
    throw new ProcessError(`cannot rebuild the target '${d.name}' from its source`, {
      code: ErrorCodes.TARGET_NOT_FOUND,
      cause: importError ?? err,
    });
  }
  // A class (a manager's registered type, located like a target) is used as is, with `new`.
  if (/^class[\s{]/.test(d.source)) return fn;
  // A free variable shows up as a ReferenceError when the rebuilt function runs: say why.
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    try {
      const result = fn.apply(this, args);
      if (result instanceof Promise) {
        return result.catch((err: unknown) => {
          throw err instanceof ReferenceError ? notSelfContained(d, err, importError) : err;
        });
      }
      return result;
    } catch (err) {
      throw err instanceof ReferenceError ? notSelfContained(d, err, importError) : err;
    }
  };
  Object.defineProperty(wrapped, "name", { value: d.name });
  return wrapped;
}
