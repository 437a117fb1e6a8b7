/**
 * The training loop: `runExperiment` / `resumeExperiment` over a resolved experiment and a run store,
 * and the step engine they drive (objective → gradient → optimizer update, evaluation).
 */
export * from "./trainer.js";
export * from "./engine.js";
export * from "./batched.js";
