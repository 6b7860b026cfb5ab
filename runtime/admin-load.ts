// The admin endpoint (admin.ts, with prom-client) is loaded only when the job is started
// with --admin-port. From the source tree it is a plain import; a bundle holds it as an
// embedded chunk instead (compiler/bundle.ts puts admin-embedded.ts in this module's place).

import type * as Admin from "./admin.js";

export type AdminModule = typeof Admin;

export function loadAdmin(): Promise<AdminModule> {
  return import("./admin.js");
}
