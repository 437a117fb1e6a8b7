// The dashboard: `sgdlab ui`'s HTTP server over a read-only store, its JSON API, live change notices
// and server-side downsampling. The browser code is in web/dashboard/.
export {
  createUiServer,
  defaultWebRoot,
  PAGE_SIZE,
  PAGE_LIMIT,
  type UiServer,
  type UiServerOptions,
} from "./server.js";
export {
  Dashboard,
  specDifferences,
  EVENTS_SHOWN,
  COMPARE_LIMIT,
  type RunDetail,
  type RunFigures,
  type Comparison,
  type SpecDifference,
} from "./dashboard.js";
export {
  downsampledMetrics,
  metricKeysOf,
  keyStats,
  DEFAULT_MAX_POINTS,
  MAX_POINTS_LIMIT,
  type Downsampled,
  type SeriesInfo,
} from "./downsample.js";
export {
  runsPage,
  SORT_COLUMNS,
  type RunsQuery,
  type RunsPage,
  type RunsTableRow,
  type SortColumn,
} from "./runsTable.js";
export { StoreWatcher, type StoreChange } from "./live.js";
export { StaticApp, CONTENT_TYPES } from "./staticFiles.js";
