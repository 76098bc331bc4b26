// Loading on first use (issue #15.3). Node's ES module loader pays roughly half a millisecond to
// a millisecond per module file, and the whole library is ~125 files: importing all of them made
// `import("multiproc")` take 80-130 ms. So the package root loads a handful of files, and each
// feature's module graph loads the first time the feature is used.
//
// Use is synchronous (`new Queue()`, `isMainProcess()`), so loading must be too. Node >= 20.19 and
// >= 22.12 load an ES module graph synchronously through require() ("require(esm)",
// process.features.require_module) and hand back the very module instances import() gives, so a
// class loaded either way is one class. Older Nodes cannot: there the root preloads every lazy
// module with import() before it finishes evaluating (the old cost; nothing else changes). The
// same happens where require() is hooked so that it does not give the ES module instances: tsx
// compiles required files to CommonJS, which would make a second copy of every class.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { probe } from "./lazy-probe.js";

function esmRequire(): NodeJS.Require | undefined {
  if ((process.features as { require_module?: boolean }).require_module !== true) return undefined;
  const require = createRequire(import.meta.url);
  try {
    const required = require(fileURLToPath(new URL("./lazy-probe.js", import.meta.url))) as { probe?: unknown };
    return required.probe === probe ? require : undefined;
  } catch {
    return undefined;
  }
}

const requireEsm = esmRequire();

/** Whether lazy modules load synchronously here (false: the root preloads them all). */
export const syncLoading = requireEsm !== undefined;

/** A module loaded on first call: `mod()` gives its namespace; `mod.load()` imports it. */
export interface LazyModule<T> {
  (): T;
  load(): Promise<T>;
  /** Whether `mod()` can answer now (always, with require(esm)). */
  ready(): boolean;
}

const every: LazyModule<unknown>[] = [];
// Namespaces by URL: several lazy handles on one file share what one of them loaded.
const loaded = new Map<string, unknown>();

/** Declares a lazily loaded module; `url` is its compiled file (new URL("./x.js", import.meta.url)). */
export function lazyModule<T>(url: URL): LazyModule<T> {
  const get = (() => {
    let ns = loaded.get(url.href) as T | undefined;
    if (ns === undefined) {
      if (requireEsm === undefined) throw new Error(`multiproc internal error: ${url.href} was not preloaded`);
      ns = requireEsm(fileURLToPath(url)) as T;
      loaded.set(url.href, ns);
    }
    return ns;
  }) as LazyModule<T>;
  get.load = async () => {
    const ns = (await import(url.href)) as T;
    loaded.set(url.href, ns);
    return ns;
  };
  get.ready = () => syncLoading || loaded.has(url.href);
  every.push(get);
  return get;
}

/** Imports every lazy module declared so far (for Nodes without require(esm)). */
export async function preloadAll(): Promise<void> {
  await Promise.all(every.map((m) => m.load()));
}

type AnyClass = abstract new (...args: never[]) => unknown;
type AnyFunction = (...args: never[]) => unknown;

/**
 * A stand-in for the class `mod()[name]` that loads it on first use: `new`, `instanceof`, static
 * members and `extends` all reach the real class. It is a Proxy around a plain function (not a
 * class: a class's `prototype` is read-only, and a Proxy must report a read-only property as it
 * is on its target); the first trap copies the real `prototype` onto it so every invariant holds.
 */
export function lazyClass<M, K extends keyof M & string>(mod: LazyModule<M>, name: K): M[K] {
  let real: AnyClass | undefined;
  const stand = function () {
    // Never runs: every trap goes to the real class.
  };
  Object.defineProperty(stand, "name", { value: name });
  const load = (): AnyClass => {
    if (real === undefined) {
      real = mod()[name] as AnyClass;
      Object.defineProperty(stand, "prototype", { value: real.prototype, writable: false });
    }
    return real;
  };
  // Used directly (not through a subclass), the receiver is the real class, so that static
  // methods using private static members work.
  const self = (receiver: unknown): unknown => (receiver === proxy ? load() : receiver);
  const proxy: object = new Proxy(stand, {
    construct: (_t, args, newTarget) => Reflect.construct(load(), args, self(newTarget) as AnyClass) as object,
    apply: (_t, thisArg, args) => Reflect.apply(load() as unknown as AnyFunction, thisArg, args) as unknown,
    get: (_t, key, receiver) => Reflect.get(load(), key, self(receiver)) as unknown,
    set: (_t, key, value, receiver) => Reflect.set(load(), key, value, self(receiver)),
    has: (_t, key) => Reflect.has(load(), key),
    ownKeys: (_t) => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_t, key) => Reflect.getOwnPropertyDescriptor(load(), key),
    defineProperty: (_t, key, descriptor) => Reflect.defineProperty(load(), key, descriptor),
    deleteProperty: (_t, key) => Reflect.deleteProperty(load(), key),
    getPrototypeOf: (_t) => Reflect.getPrototypeOf(load()),
  });
  return proxy as M[K];
}

/** A function that loads `mod` on its first call and calls `mod()[name]`. */
export function lazyFunction<M, K extends keyof M & string>(mod: LazyModule<M>, name: K): M[K] {
  const call = function (this: unknown, ...args: never[]): unknown {
    return (mod()[name] as AnyFunction).apply(this, args);
  };
  Object.defineProperty(call, "name", { value: name });
  return call as M[K];
}
