/**
 * Apache Arrow tables in shared memory (SharedTable) and parallel maps over their rows (mapBatches). Needs `npm install apache-arrow`.
 *
 * @module multiproc/arrow
 */
// multiproc/arrow: Apache Arrow tables in shared memory (needs the apache-arrow package).
export { SharedTable } from "../arrow/shared-table.js";
export { mapBatches, rowRanges, type MapBatchesOptions, type RowRange } from "../arrow/map-batches.js";
