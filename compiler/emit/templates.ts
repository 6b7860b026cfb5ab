// The handlebars templates of generated code (templates/*.hbs): one environment, its helpers
// registered once and each template compiled once per process. Templates see only a neutral
// model (counts and names from the job graph), in strict mode with known helpers only.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { HelperDelegate } from "handlebars";
import { TEMPLATES_DIR } from "../paths.js";

const HELPERS: Record<string, HelperDelegate> = {
  /** Text for a comment in generated code: on one line, and unable to end the comment early. */
  comment: (s: unknown) => String(s).replace(/[\r\n\u2028\u2029]+/g, " ").replace(/\*\//g, "* /"),
};

type Template = (model: object) => string;

let templates: Promise<(name: string) => Template> | null = null;

async function environment(): Promise<(name: string) => Template> {
  const Handlebars = (await import("handlebars")).default;
  const hb = Handlebars.create();
  for (const [name, helper] of Object.entries(HELPERS)) hb.registerHelper(name, helper);
  const knownHelpers = Object.fromEntries(Object.keys(HELPERS).map((name) => [name, true]));
  const compiled = new Map<string, Template>();
  return (name) => {
    let t = compiled.get(name);
    if (!t) {
      t = hb.compile(readFileSync(join(TEMPLATES_DIR, name), "utf8"), { strict: true, noEscape: true, knownHelpers, knownHelpersOnly: true });
      compiled.set(name, t);
    }
    return t;
  };
}

/** Renders `templates/<name>` with `model`. */
export async function render(name: string, model: object): Promise<string> {
  templates ??= environment();
  return (await templates)(name)(model);
}
