// The dashboard's page and assets on the admin endpoint: GET / (the page), /dashboard.js,
// /dashboard.css. They are built with the compiler (scripts/build.mjs: page.ts bundled with
// layout.ts and minified, page.css minified, page.html) into the admin chunk as
// FLOWC_DASHBOARD, so they are in a job's memory only once it serves the endpoint
// (--admin-port), and cost a bundle only their compressed size.
//
// They hold no job data and are served without the token: the page asks for it (the body's
// data-token says whether the endpoint wants one) and sends it with every request for data
// (/graph, /status, /checkpoints, /savepoints), which the token guards. The Host, Origin
// and Sec-Fetch-Site checks of admin.ts apply to them as to every request. The page's
// Content-Security-Policy lets it load and fetch nothing but its own origin.

import type { IncomingMessage, ServerResponse } from "node:http";

declare const FLOWC_DASHBOARD: { html: string; js: string; css: string } | undefined;

const assets = typeof FLOWC_DASHBOARD === "undefined" ? null : FLOWC_DASHBOARD;

const HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

/** Answers a request for the dashboard's page or assets; false for any other request. */
export function serveDashboard(req: IncomingMessage, res: ServerResponse, tokenRequired: boolean): boolean {
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  const path = (req.url ?? "/").split("?")[0];
  let type: string;
  let body: string;
  if (assets === null) {
    if (path !== "/") return false;
    // Run from the source tree, not a bundle: the assets are built with the compiler only.
    type = "text/plain; charset=utf-8";
    body = "The dashboard is built into job bundles (flowc compile); this endpoint runs from the source tree.\n";
  } else if (path === "/" || path === "/index.html") {
    type = "text/html; charset=utf-8";
    body = assets.html.replace('data-token="none"', `data-token="${tokenRequired ? "required" : "none"}"`);
  } else if (path === "/dashboard.js") {
    type = "text/javascript; charset=utf-8";
    body = assets.js;
  } else if (path === "/dashboard.css") {
    type = "text/css; charset=utf-8";
    body = assets.css;
  } else return false;
  res.writeHead(200, { ...HEADERS, "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(req.method === "HEAD" ? undefined : body);
  return true;
}
