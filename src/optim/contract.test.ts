// The optimizer contract (see contract.testkit.ts), part 1 of 2: the kinds at even positions of the
// registry, and the checks of the harness itself.
import { before } from "node:test";
import { initRuntime } from "../core/index.js";
import { contractPart } from "./contract.testkit.js";

before(async () => initRuntime("wasm"));

contractPart(0);
