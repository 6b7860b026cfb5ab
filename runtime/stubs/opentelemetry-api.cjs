// What prom-client asks of @opentelemetry/api, and only for exemplars, which flowc does not
// use: the span of the active context (none). The admin chunk is built with this in the
// package's place (scripts/build.mjs): OpenTelemetry's API is 9 KB of minified code that
// every job bundle would carry for nothing.
"use strict";
module.exports = {
  trace: { getSpan: () => undefined },
  context: { active: () => undefined },
};
