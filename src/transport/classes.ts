// Sending your own objects (SPEC "Sending your own objects", issue 14.5): like pickle, an
// instance travels by naming its class, and the receiver rebuilds it from the class it imports.
//
//   sender:   the class's module URL (node:inspector, as for targets: target.ts) and its export
//             name (read from the module's source: an instance of a class nobody can import
//             would otherwise arrive as a plain object, silently); then the instance's own
//             fields, or what its [reduce]() returns.
//   receiver: the module (require() of ES modules, so synchronous receivers work too; an async
//             receiver imports it first, see loadClassModules), then Object.create(prototype)
//             plus the fields, or the class's static [revive](data). No constructor runs, as
//             with pickle.
// A class that cannot be located (not exported, defined in an eval, a built-in we do not clone)
// throws ERR_UNSERIALIZABLE at the sending call, naming the class and the fix.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { ArgumentError, corruptData, ErrorCodes } from "../errors.js";
import { functionUrl } from "../target.js";

import { reduce, revive } from "./class-symbols.js";
import { moduleNamespaces } from "./module-namespaces.js";

export { reduce, revive };

/** Where a class lives: the module to import and the export that holds it. */
export interface ClassRef {
  url: string;
  name: string;
}

/** What an instance becomes on the wire (then reduced further by handles.ts). */
export interface InstanceState {
  cls: ClassRef;
  /** true: `data` is what [reduce]() returned; false: `data` holds the own fields. */
  custom: boolean;
  data: unknown;
}

type Ctor = abstract new (...args: never[]) => unknown;

const refs = new WeakMap<Ctor, ClassRef | ArgumentError>();
/** Classes this thread has sent or rebuilt, by "url#name": the receiver in the same thread needs no import. */
const known = new Map<string, Ctor>();

function keyOf(ref: ClassRef): string {
  return `${ref.url}#${ref.name}`;
}

/** The state of a class instance, or throws ERR_UNSERIALIZABLE if its class cannot be located. */
export function instanceState(value: object): InstanceState {
  const ctor = (Object.getPrototypeOf(value) as { constructor?: unknown } | null)?.constructor;
  if (typeof ctor !== "function") throw unlocatable("an object whose prototype has no constructor", "give it Object.prototype, or a class exported from a module");
  const cls = locate(ctor as Ctor);
  const own = value as { [reduce]?: () => unknown };
  if (typeof own[reduce] === "function") {
    if (typeof (ctor as { [revive]?: unknown })[revive] !== "function") {
      throw unlocatable(`an instance of ${ctor.name}, which has [reduce]() but no static [revive](data)`, `add static [revive](data) to ${ctor.name}`);
    }
    return { cls, custom: true, data: own[reduce]() };
  }
  const data: Record<string, unknown> = {};
  for (const key of Object.keys(value)) data[key] = (value as Record<string, unknown>)[key];
  return { cls, custom: false, data };
}

function locate(ctor: Ctor): ClassRef {
  const cached = refs.get(ctor);
  if (cached instanceof ArgumentError) throw cached;
  if (cached !== undefined) return cached;
  const found = findExport(ctor);
  refs.set(ctor, found);
  if (found instanceof ArgumentError) throw found;
  known.set(keyOf(found), ctor);
  return found;
}

function findExport(ctor: Ctor): ClassRef | ArgumentError {
  const name = ctor.name;
  const label = name === "" ? "an anonymous class" : `class ${name}`;
  const url = functionUrl(ctor as unknown as (...args: never[]) => unknown);
  if (url === undefined || !url.startsWith("file:")) {
    return unlocatable(`an instance of ${label}, which is not defined in a module file`, "define it in a module and export it, or send plain data");
  }
  let source: string;
  try {
    source = readFileSync(fileURLToPath(url), "utf8");
  } catch {
    return unlocatable(`an instance of ${label} from ${url}, whose source cannot be read`, "export the class from a module file");
  }
  const exported = name === "" ? undefined : exportName(source, name);
  if (exported === undefined) {
    return unlocatable(`an instance of ${label} from ${url}, which does not export it`, `export it (export class ${name || "Name"} ...) so the receiver can import it, or send plain data`);
  }
  return { url, name: exported };
}

/** The name under which `source` exports the class `name`, if it does (ES module syntax, as tsc emits it). */
function exportName(source: string, name: string): string | undefined {
  const id = name.replace(/[$]/g, "\\$");
  if (new RegExp(`export\\s+default\\s+class\\s+${id}\\b`).test(source)) return "default";
  if (new RegExp(`export\\s+(abstract\\s+)?class\\s+${id}\\b`).test(source)) return name;
  for (const list of source.matchAll(/export\s*\{([^}]*)\}/g)) {
    for (const item of list[1]!.split(",")) {
      const [local, as] = item.trim().split(/\s+as\s+/);
      if (local === name) return as ?? name;
    }
  }
  return undefined;
}

function unlocatable(what: string, fix: string): ArgumentError {
  return new ArgumentError(`cannot send ${what}: the receiver could not rebuild it; ${fix} (or implement [reduce]() and static [revive](data))`, ErrorCodes.UNSERIALIZABLE);
}

const namespaces = moduleNamespaces;
const requireHere = createRequire(import.meta.url);

/** Imports the modules of classes named in a message (async receivers, so modules with top-level await work too). */
export async function loadClassModules(urls: Iterable<string>): Promise<void> {
  for (const url of urls) if (!namespaces.has(url)) namespaces.set(url, (await import(url)) as Record<string, unknown>);
}

function classOf(ref: ClassRef): Ctor {
  const key = keyOf(ref);
  const local = known.get(key);
  if (local !== undefined) return local;
  let ns = namespaces.get(ref.url);
  if (ns === undefined) {
    try {
      ns = requireHere(fileURLToPath(ref.url)) as Record<string, unknown>;
    } catch (err) {
      throw new ArgumentError(`cannot rebuild an instance of ${ref.name} from ${ref.url}: its module did not load (${(err as Error).message})`, ErrorCodes.UNSERIALIZABLE, err);
    }
    namespaces.set(ref.url, ns);
  }
  const ctor = ns[ref.name];
  if (typeof ctor !== "function") throw new ArgumentError(`cannot rebuild an instance of ${ref.name}: ${ref.url} does not export it`, ErrorCodes.UNSERIALIZABLE);
  known.set(key, ctor as Ctor);
  return ctor as Ctor;
}

/** Rebuilds an instance from its state (its data already revived). */
export function reviveInstance(state: InstanceState): unknown {
  if (typeof state !== "object" || state === null || typeof state.cls?.url !== "string" || typeof state.cls.name !== "string") {
    throw corruptData("a class instance in a message is malformed");
  }
  const ctor = classOf(state.cls);
  if (state.custom) {
    const make = (ctor as unknown as { [revive]?: (data: unknown) => unknown })[revive];
    if (typeof make !== "function") throw new ArgumentError(`cannot rebuild an instance of ${state.cls.name}: it has no static [revive](data) here`, ErrorCodes.UNSERIALIZABLE);
    return make.call(ctor, state.data);
  }
  // Own data properties, defined rather than assigned: a setter on the prototype must not run.
  const out = Object.create((ctor as unknown as { prototype: object }).prototype) as object;
  for (const [key, value] of Object.entries(state.data as Record<string, unknown>)) {
    Object.defineProperty(out, key, { value, writable: true, enumerable: true, configurable: true });
  }
  return out;
}
