// "Did you mean …?": the closest known name to a misspelt one, when it is close enough.

import { distance } from "fastest-levenshtein";

export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  // One- and two-letter names are too short for a typo to be told from another name.
  const limit = name.length <= 2 ? 0.5 : Math.max(1, Math.floor(name.length / 3));
  for (const c of candidates) {
    if (c === name) continue;
    const d = c.toLowerCase() === name.toLowerCase() ? 0.5 : distance(name, c);
    if (d < bestDistance && d <= limit) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/** A hint sentence, or undefined when nothing is close. */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  const c = closest(name, candidates);
  return c === undefined ? undefined : `did you mean \`${c}\`?`;
}

/** What other languages call their maths functions (lower case). */
const MATHS = new Set([
  "sqrt", "cbrt", "pow", "power", "exp", "expm1", "log", "ln", "log2", "log10", "log1p", "sin", "cos", "tan", "asin", "acos", "atan", "atan2",
  "sinh", "cosh", "tanh", "trunc", "truncate", "sign", "signum", "hypot", "mod", "fmod", "clamp", "random", "rand", "square", "cube",
]);

/** Other languages' names of the maths built-ins flowc has. */
const MATHS_ALIASES: Record<string, string> = {
  log: "`ln` (the natural logarithm) or `log10`",
  power: "`pow`",
  signum: "`sign`",
};

/**
 * The hint for an unknown function: the closest known name; another language's name of a
 * maths built-in (`log`, `signum`); for a maths function flowc does not have (`sin`,
 * `hypot`, …), the numeric built-ins it has and how to import one.
 */
export function unknownFunctionHint(name: string, candidates: Iterable<string>, numeric: readonly string[]): string | undefined {
  const alias = MATHS_ALIASES[name.toLowerCase()];
  if (alias !== undefined) return `the built-in is called ${alias}`;
  const near = didYouMean(name, candidates);
  if (near !== undefined || !MATHS.has(name.toLowerCase())) return near;
  const list = numeric.map((n) => `\`${n}\``);
  const listed = list.length > 1 ? `${list.slice(0, -1).join(", ")} and ${list[list.length - 1]}` : list.join("");
  return `there is no \`${name}\` built-in (the numeric built-ins are ${listed}); a TypeScript function can compute it: \`import { ${name} } from "./maths.ts"\``;
}
