export * from "./directions.js";
export * from "./grid.js";
export * from "./landscape.js";
