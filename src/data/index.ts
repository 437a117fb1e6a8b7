/** The data layer: host datasets (float64 rows), generators, loaders, transforms and batch plans. */
export * from "./types.js";
export { makeDataset, takeRows, withFields, classCounts, type DatasetFields } from "./dataset.js";
export * from "./synthetic.js";
export { mnist, mnistDigits, MNIST_PACKAGE_SIZE, type MnistOptions } from "./mnist.js";
export { readIdx, loadIdx, type IdxArray, type IdxOptions } from "./idx.js";
export * from "./cifar10.js";
export { readNpy, loadNpyDataset, type NpyArray, type NpyDatasetOptions } from "./npy.js";
export { loadCsv, type CsvOptions, type CsvColumn } from "./csv.js";
export * from "./transforms.js";
export * from "./corruption.js";
export * from "./batches.js";
export { DataConfigSchema, type DataConfig, type DataConfigInput, type DataKind } from "./schema.js";
export { loadData, parseDataConfig, datasetSummary, type DatasetSummary } from "./load.js";
export { syntheticData, SYNTHETIC_KINDS } from "./build.js";
export { readSafetensors, encodeSafetensors, type SafeTensor } from "./safetensors.js";
