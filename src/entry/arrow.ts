// multiproc/arrow: Apache Arrow tables in shared memory (needs the apache-arrow package).
export { SharedTable } from "../arrow/shared-table.js";
export { mapBatches, rowRanges, type MapBatchesOptions, type RowRange } from "../arrow/map-batches.js";
