// The savepoint code a job runs only when it takes a savepoint or starts from one. A bundle
// carries it in its embedded chunk (runtime/admin.ts exports it as `savepoints`; see
// runtime/admin-embedded.ts), not in the code every start evaluates: the driver reaches it
// through loadAdmin() (runtime/admin-load.ts). flowc's own commands import the modules.

export { captureOperator, restoreOperator } from "./capture.js";
export { planRestore, refusal } from "./compat.js";
export { readPartRows, readSavepoint, SavepointError, writeSavepoint } from "./format.js";
