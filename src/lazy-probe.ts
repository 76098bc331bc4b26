// lazy.ts requires this module it has imported: the same object back means require() gives the
// ES module instances (require(esm)), so lazy modules can load synchronously.
export const probe = {};
