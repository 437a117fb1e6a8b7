// The optimizer contract (see contract.testkit.ts), part 2 of 2: the kinds at odd positions of the
// registry.
import { before } from "node:test";
import { initRuntime } from "../core/index.js";
import { contractPart } from "./contract.testkit.js";

before(async () => initRuntime("wasm"));

contractPart(1);
