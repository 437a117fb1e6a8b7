// Reports: figures as data (Vega-Lite specs with inline data, built from plain arrays), rendered to
// SVG in Node by vega, and a self-contained HTML page per run. Depends on store (runReport only).
export {
  makeFigure,
  withScales,
  figureId,
  slug,
  title,
  keepOnLog,
  prefersLog,
  finitePoints,
  droppedNote,
  VEGA_LITE_SCHEMA,
  CONFIG,
  PALETTE,
  WIDTH,
  HEIGHT,
  type Figure,
  type FigureControls,
  type LogToggle,
  type ScaleChoice,
  type VegaLiteSpec,
  type Json,
  type JsonObject,
} from "./spec.js";
export { lineFigure, type LineFigureOptions, type Series, type Band, type Rule, type XY } from "./lines.js";
export {
  sharpnessFigure,
  eigenvalueFigure,
  spectralDensityFigure,
  spreadSteps,
  type SharpnessOptions,
  type EigenvalueOptions,
  type DensityAtStep,
} from "./hessian.js";
export {
  weightHistogramFigure,
  landscape1dFigure,
  landscape2dFigure,
  type HistogramsOverTime,
  type Landscape1D,
  type Landscape2D,
} from "./grids.js";
export { contourSegments, type ContourSegment } from "./contours.js";
export { landscapeFigures, type StoredLandscape, type StoredLandscapeGrid } from "./landscape.js";
export {
  logLogFigure,
  learningCurveFigure,
  type LogLogOptions,
  type LearningCurveOptions,
  type PowerLawFit,
} from "./powerlaw.js";
export { metricFigures, seriesByKey, type MetricValue, type MetricFigureContext } from "./metrics.js";
export {
  lossLabel,
  metricLabel,
  metricTitle,
  thresholdLabel,
  precondThresholdLabel,
  type LossInfo,
  type OptimizerInfo,
} from "./labels.js";
export { compileToVega, renderSvg } from "./render.js";
export { reportHtml, vegaRuntime, PAGE_SCRIPT, type Report } from "./html.js";
export { runReport, writeReport, DENSITY_ARTIFACT, type RunReportOptions, type WrittenReport } from "./runReport.js";
export {
  sweepReport,
  finalVsFieldFigure,
  SWEEP_METRICS,
  SEED_FIELD,
  type SweepReport,
  type SweepReportOptions,
  type SweepRank,
  type MemberFinal,
} from "./sweepReport.js";
