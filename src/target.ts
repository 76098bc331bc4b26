// Where code runs: how the parent describes a target function so that a child can find it again.
//
// Three forms, in order of preference (SPEC "Where code runs"):
//  1. a function exported from an ES module: the child imports that module and picks the export
//     whose name and source match (its top-level code runs again there, like Python's spawn);
//  2. fromModule<typeof import("./m.js")>(url).fn: an explicit module + export reference;
//  3. a self-contained function literal, sent as source and rebuilt in the child.
//
// The defining module of a function is found with node:inspector ([[FunctionLocation]] ->
// scriptId -> URL). We never import() the caller's module here: a module that is still evaluating
// (top-level await in the main script) would deadlock that import (NOTES, "Locating a user's
// function"). The child, where the main module is not evaluating, does the importing.
import type { Session } from "node:inspector";
import { createRequire } from "node:module";
import { ArgumentError, ErrorCodes } from "./errors.js";
import { describe } from "./validate.js";

export type TargetDescriptor =
  | { kind: "export"; url: string; name: string }
  | {
      kind: "function";
      name: string;
      source: string;
      url: string | undefined;
      /** Defined in the code of `node -e`/`-p` (a module no other process can import): for messages. */
      evalCode?: boolean;
    };

const kModuleRef = Symbol.for("multiproc.moduleRef");

interface ModuleRef {
  url: string;
  name: string;
}

type AnyFunction = (...args: never[]) => unknown;

/**
 * A typed reference to a module's exports for use as targets (form 2):
 * `const tasks = fromModule<typeof import("./tasks.js")>(new URL("./tasks.js", import.meta.url))`,
 * then `pool.map(tasks.square, xs)`. Nothing is imported here; the child imports the module.
 *
 * @example
 * ```ts
 * import { fromModule, Pool } from "multiproc";
 * const tasks = fromModule<typeof import("./tasks.js")>(new URL("./tasks.js", import.meta.url));
 * await using pool = new Pool(2);
 * const squares: number[] = await pool.map(tasks.square, [1, 2, 3]); // typed from tasks.ts
 * ```
 */
export function fromModule<T extends object>(url: URL | string): T {
  const href = moduleHref(url);
  const cache = new Map<string, AnyFunction>();
  return new Proxy({} as T, {
    get(_target, prop) {
      if (typeof prop !== "string") return undefined;
      if (prop === "then") return undefined; // not a thenable: `await fromModule(...)` stays sane
      let stub = cache.get(prop);
      if (stub === undefined) {
        const ref: ModuleRef = { url: href, name: prop };
        stub = Object.assign(
          () => {
            throw new ArgumentError(
              `${prop} from ${href} is a reference for other processes; pass it to a Process or Pool instead of calling it here`,
              ErrorCodes.INVALID_ARG_VALUE,
            );
          },
          { [kModuleRef]: ref },
        );
        Object.defineProperty(stub, "name", { value: prop });
        cache.set(prop, stub);
      }
      return stub;
    },
  });
}

function moduleHref(url: URL | string): string {
  if (url instanceof URL) return url.href;
  if (typeof url !== "string") {
    throw new ArgumentError(`url must be a URL or a string, got ${describe(url)}`, ErrorCodes.INVALID_ARG_TYPE);
  }
  if (url.startsWith("/")) return new URL("file://" + url).href;
  if (/^[a-z][a-z0-9+.-]*:/i.test(url)) return new URL(url).href;
  throw new ArgumentError(
    `fromModule needs an absolute path or URL, got '${url}'; write new URL("${url}", import.meta.url)`,
    ErrorCodes.INVALID_ARG_VALUE,
  );
}

const described = new WeakMap<AnyFunction, TargetDescriptor>();
const EVAL_URL = /\/\[eval\d*\]$/;

/**
 * Throws at the call for anything that can never be a target. Cheap: it looks nothing up, so a
 * constructor can check its target and leave the lookup to start(), after the child is launched.
 */
export function checkTarget(fn: unknown, what = "target", options: { allowClass?: boolean } = {}): void {
  if (typeof fn !== "function") {
    throw new ArgumentError(`${what} must be a function, got ${describe(fn)}`, ErrorCodes.INVALID_ARG_TYPE);
  }
  const f = fn as AnyFunction;
  if (described.has(f) || (f as unknown as Record<symbol, ModuleRef | undefined>)[kModuleRef] !== undefined) return;
  const source = Function.prototype.toString.call(f);
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    const kind = f.name.startsWith("bound ") ? "a bound function" : "a built-in function";
    throw new ArgumentError(
      `${what} '${f.name}' is ${kind}, which cannot be located in another process; wrap it in an exported function`,
      ErrorCodes.TARGET_NOT_FOUND,
    );
  }
  if (/^class[\s{]/.test(source) && options.allowClass !== true) {
    throw new ArgumentError(`${what} '${f.name}' is a class; pass a function`, ErrorCodes.INVALID_ARG_TYPE);
  }
}

/** Describes `fn` for a child. Throws at the call for anything that can never work. */
export function describeTarget(fn: unknown, what = "target", options: { allowClass?: boolean } = {}): TargetDescriptor {
  checkTarget(fn, what, options);
  const f = fn as AnyFunction;
  const cached = described.get(f);
  if (cached !== undefined) return cached;
  const ref = (f as unknown as Record<symbol, ModuleRef | undefined>)[kModuleRef];
  if (ref !== undefined) {
    const d: TargetDescriptor = { kind: "export", url: ref.url, name: ref.name };
    described.set(f, d);
    return d;
  }
  const source = Function.prototype.toString.call(f);
  const url = functionUrl(f);
  // `node --input-type=module -e` code is the module "file:///<cwd>/[eval1]", which no child can
  // import: such a function can only travel as source (issue #14).
  const d: TargetDescriptor = url !== undefined && EVAL_URL.test(url)
    ? { kind: "function", name: f.name, source, url: undefined, evalCode: true }
    : { kind: "function", name: f.name, source, url };
  described.set(f, d);
  return d;
}

const resolved = new WeakMap<AnyFunction, Promise<TargetDescriptor>>();

/**
 * A stand-in for a function described elsewhere, to hand to a Pool as is: a cluster's worker node
 * passes the descriptors it receives to its local pool without importing anything itself.
 */
export function descriptorTarget(d: TargetDescriptor): AnyFunction {
  const stub = () => {
    throw new ArgumentError(`'${d.name}' is a reference for other processes; pass it to a Process or Pool instead of calling it here`, ErrorCodes.INVALID_ARG_VALUE);
  };
  Object.defineProperty(stub, "name", { value: d.name });
  described.set(stub, d);
  resolved.set(stub, Promise.resolve(d));
  return stub;
}

/**
 * The final descriptor for a child. When the defining module has finished evaluating, its
 * namespace tells whether `fn` is exported and under which name; then the child imports it only
 * if it is (an inline function in a test file or a library must not re-run that module). A module
 * still evaluating (the main script during top-level await) cannot be imported here without a
 * deadlock: the race against setImmediate gives up on it and the child, where that module is not
 * evaluating, looks for the function by source.
 */
export function resolveTarget(fn: unknown, what = "target", options: { allowClass?: boolean } = {}): Promise<TargetDescriptor> {
  const d = describeTarget(fn, what, options);
  const f = fn as AnyFunction;
  let pending = resolved.get(f);
  if (pending === undefined) {
    pending = d.kind === "export" || d.url === undefined ? Promise.resolve(d) : lookUpExport(f, d);
    resolved.set(f, pending);
  }
  return pending;
}

const EVALUATING = Symbol("evaluating");

async function lookUpExport(fn: AnyFunction, d: Extract<TargetDescriptor, { kind: "function" }>): Promise<TargetDescriptor> {
  const url = d.url!;
  let ns: Record<string, unknown> | typeof EVALUATING;
  try {
    ns = await Promise.race([
      import(url) as Promise<Record<string, unknown>>,
      new Promise<typeof EVALUATING>((resolve) => setImmediate(resolve, EVALUATING)),
    ]);
  } catch {
    return { ...d, url: undefined };
  }
  if (ns === EVALUATING) return d;
  for (const [name, value] of Object.entries(ns)) {
    if (value === fn) return { kind: "export", url, name };
  }
  return { ...d, url: undefined };
}

/** The URL of the module that defines `fn`, when it came from a file module (also used for classes: transport/classes.ts). */
export function functionUrl(fn: AnyFunction): string | undefined {
  try {
    const url = inspectorUrl(fn);
    return url !== undefined && /^(file|data):/.test(url) ? url : undefined;
  } catch {
    return undefined;
  }
}

let session: Session | undefined;
const scriptUrls = new Map<string, string>();
const STASH = "__multiproc_locate__";

interface InspectorReply {
  result?: { objectId?: string };
  internalProperties?: { name: string; value?: { value?: { scriptId?: string } } }[];
}

function post(method: string, params: object): InspectorReply {
  let reply: InspectorReply | undefined;
  let failure: unknown;
  session!.post(method, params, (err, result) => {
    failure = err;
    reply = result;
  });
  // node:inspector answers in-thread sessions synchronously; anything else is a failure here.
  if (failure instanceof Error) throw failure;
  if (reply === undefined) throw new Error(`no synchronous reply to ${method}`);
  return reply;
}

function refreshScripts(): void {
  const onParsed = (message: { params: { scriptId: string; url: string } }) => {
    scriptUrls.set(message.params.scriptId, message.params.url);
  };
  session!.on("Debugger.scriptParsed", onParsed);
  try {
    // Enabling the debugger replays scriptParsed for every script loaded so far.
    post("Debugger.enable", {});
    post("Debugger.disable", {});
  } finally {
    session!.off("Debugger.scriptParsed", onParsed);
  }
}

function inspectorUrl(fn: AnyFunction): string | undefined {
  if (session === undefined) {
    // Loaded here, not at import: node:inspector costs a few ms, and only the parent needs it.
    const inspector = createRequire(import.meta.url)("node:inspector") as typeof import("node:inspector");
    session = new inspector.Session();
    session.connect();
  }
  const g = globalThis as Record<string, unknown>;
  g[STASH] = fn;
  try {
    const evaluated = post("Runtime.evaluate", { expression: `globalThis.${STASH}`, objectGroup: "multiproc" });
    const objectId = evaluated.result?.objectId;
    if (objectId === undefined) return undefined;
    const props = post("Runtime.getProperties", { objectId, ownProperties: true });
    const location = props.internalProperties?.find((p) => p.name === "[[FunctionLocation]]");
    const scriptId = location?.value?.value?.scriptId;
    if (scriptId === undefined) return undefined;
    if (!scriptUrls.has(scriptId)) refreshScripts();
    return scriptUrls.get(scriptId);
  } finally {
    delete g[STASH];
    post("Runtime.releaseObjectGroup", { objectGroup: "multiproc" });
  }
}
