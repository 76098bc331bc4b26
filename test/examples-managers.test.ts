// The examples that use managers (see examples.test.ts for the others).
import { exampleTests, usesManagers } from "./example-runner.js";

exampleTests(usesManagers);
