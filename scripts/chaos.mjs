#!/usr/bin/env node
// `npm run chaos`: builds the library and the chaos programs, then runs chaos/main.ts (every
// fault-injection and load scenario, each in a program of its own; see docs/reliability.md).
// Arguments go to it: `--seed N` to replay, `--short` for the small variant, scenario names.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { build, root } from "./build.mjs";

build();
const r = spawnSync(process.execPath, [join(root, "out/chaos/main.js"), ...process.argv.slice(2)], { cwd: root, stdio: "inherit" });
process.exit(r.status ?? 1);
