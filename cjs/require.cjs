// require("multiproc") lands here (the "require" condition of package.json's exports). The package
// is ESM-only: the process context finds a user's functions by their module URL, which CommonJS
// does not give. The code is the one in src/errors.ts (ErrorCodes.REQUIRE_ESM).
"use strict";
const error = new Error(
  'multiproc is ESM-only and cannot be loaded with require(). Use `const { Pool } = await import("multiproc")` ' +
    '(from CommonJS too), or `import { Pool } from "multiproc"` in an ES module (.mjs, or "type": "module").',
);
error.code = "ERR_REQUIRE_ESM";
throw error;
