// The namespaces of ES modules this process has imported, by URL, for code that must find a
// module's exports synchronously (classes.ts, reviving users' class instances). require() of an ES
// module whose graph has a top-level await fails (ERR_REQUIRE_ASYNC_MODULE), and the package root
// has one on Nodes without require(esm) or under tsx; a module already imported (a child's target
// module, the usual home of the classes it receives) is found here instead. Imports nothing.

/** Module URL -> its namespace. */
export const moduleNamespaces = new Map<string, Record<string, unknown>>();
