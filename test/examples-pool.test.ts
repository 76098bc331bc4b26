// The examples of the Pool's features beyond Python's (examples/pool-*.ts, docs/pool.md) run as
// their own programs and print what their "// expect: REGEX" lines say (example-runner.ts).
import { exampleTests, isPoolExample } from "./example-runner.js";

exampleTests((_source, file) => isPoolExample(file));
