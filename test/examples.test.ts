// Every example in examples/ runs as its own program (sleeps and sizes scaled down) and prints
// what its "// expect: REGEX" lines say, one line of output per pattern. The manager examples run
// in examples-managers.test.ts, the Pool features' ones in examples-pool.test.ts.
import { exampleTests, isPoolExample, usesManagers } from "./example-runner.js";

exampleTests((source, file) => !usesManagers(source) && !isPoolExample(file));
