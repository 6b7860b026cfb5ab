// scan: one pass over the .flow text before Ohm parses it, for two reasons.
//
// 1. Size. Ohm memoizes every rule it applies at every position, so each character of a
//    comment or a string literal costs hundreds of bytes while it parses (5 MB of comments
//    took 3 GB). The scan hands Ohm a text in which every run of whitespace and comments is
//    one space and every string literal's body is taken out (`"…"` becomes `""`), plus a
//    map from offsets in that text back to the original. Whitespace and comments are all
//    `space` to the grammar and a string's body is matched by the string rule alone, so the
//    parse is the same; spans, error positions and string values are read through the map
//    from the original text. A byte order mark at the start is taken out the same way.
// 2. Depth. Ohm, the semantic actions and every later stage recurse once per level of
//    nesting. The scan measures brackets and chains of operators and keywords, so that a
//    program nested too deeply gets FLOW1004 before anything recurses into it
//    (docs/language.md, "Limits").
// 3. Declarations. It notes where each top-level declaration starts, so that the parser can
//    take them one at a time (parse.ts, byDeclaration).

/** The deepest nesting of brackets — `(`, `[`, `{` — a program may have. */
export const MAX_BRACKETS = 1000;

/**
 * The deepest nesting of expressions and statements (every operator, call, `if` and
 * `else if` branch, lambda, list, record and block is one level); checked on the syntax tree.
 * The tightest stage is not the compiler but the job: node compiles the generated code on
 * the job's own stack of about 1 MB, which holds some 1300 nested calls or right-nested
 * sums (`f(f(…))`, `1 + (1 + …)`); 800 leaves room for other versions of node.
 */
export const MAX_NESTING = 800;

/**
 * How many levels records, lists, maps and optionals may nest inside each other in a type.
 * TypeScript stops comparing types 100 levels deep, and the generated code compares a
 * record type's description (in the job's manifest) at about four levels per record:
 * records 24 deep already failed to type-check.
 */
export const MAX_TYPE_NESTING = 16;

/**
 * The scan's estimate of how deep the parser would recurse, in units of about one operator:
 * a bracket counts BRACKET_WEIGHT (Ohm descends the whole precedence ladder for each), an
 * operator or keyword 1, and a comma or the start of a new statement ends a chain. It is an
 * upper bound of the nesting for any program, so it stops texts the parser cannot take; for
 * real programs it stays far below this cap, since MAX_NESTING stops them first.
 */
export const MAX_CHAIN = 20_000;
const BRACKET_WEIGHT = 8;

export interface TooDeep {
  /** Offset in the original text of the bracket or token that goes past the limit. */
  start: number;
  end: number;
  kind: "brackets" | "chain";
}

export interface Scan {
  /** The text Ohm parses. */
  text: string;
  /** An offset in `text` → the offset in the original text. */
  toOriginal(offset: number): number;
  /** The first place the nesting goes past a limit, or null. */
  tooDeep: TooDeep | null;
  /** Offsets (in `text`) of the declarations at the top level, after the `job` line. */
  declStarts: number[];
}

const BOM = 0xfeff;

/** Reserved words that start a statement or a declaration (a new chain when they follow an operand). */
const STARTERS = new Set(["job", "checkpoint", "restart", "type", "fn", "import", "source", "let", "sink", "join", "process", "state", "timer", "for", "emit", "clear", "delete", "if", "not"]);
/** Reserved words between two parts of one construct: neither end nor start an operand. */
const INFIX = new Set(["as", "on", "within", "select", "ttl", "at", "then", "else", "in", "from", "and", "or"]);
/** Words that nest what follows them. */
const NESTING_WORDS = new Set(["if", "not", "and", "or"]);
const TOP_LEVEL = new Set(["checkpoint", "restart", "state", "type", "fn", "import", "source", "let", "sink"]);
/** Two-character operators, so that `=>` counts once. */
const OPERATORS2 = new Set(["|>", "->", "=>", "==", "!=", "<=", ">=", "??", "?.", "+=", "-=", "&&", "||"]);
/** Tokens that separate rather than nest. */
const SEPARATORS = new Set([",", ":", ";", "|>", "->", "="]);

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57);
}

/** Code units of the code point at i (Ohm's `any` takes a whole code point). */
function codePointLength(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
    const d = text.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return 2;
  }
  return 1;
}

/**
 * Scans `text`. Comments and string literals are recognised exactly as the grammar's
 * `comment` and `string` rules do. At an unterminated one the scan stops and leaves the rest
 * as it is: the parse fails there, as it always has, and never looks further.
 */
export function scan(text: string): Scan {
  // Pieces of the text Ohm sees, and for each replaced region: where it starts in the new
  // text (c), its length there (r), where it starts in the original (o) and its length (l).
  const parts: string[] = [];
  const cs: number[] = [];
  const rs: number[] = [];
  const os: number[] = [];
  const ls: number[] = [];
  let copiedTo = 0;
  let outLength = 0;
  const replace = (start: number, end: number, by: string): void => {
    parts.push(text.slice(copiedTo, start));
    outLength += start - copiedTo;
    cs.push(outLength);
    rs.push(by.length);
    os.push(start);
    ls.push(end - start);
    parts.push(by);
    outLength += by.length;
    copiedTo = end;
  };

  // Nesting: one frame per open bracket, each with the length of its current chain.
  const chains: number[] = [0];
  let estimate = 0;
  let tooDeep: TooDeep | null = null;
  let lastWasOperand = false;
  const declStarts: number[] = [];
  let sawJob = false;
  /** Whether the token before was `.` or `?.`: a keyword after it is a field name. */
  let afterDot = false;
  const addChain = (start: number, end: number): void => {
    chains[chains.length - 1]!++;
    estimate++;
    if (estimate > MAX_CHAIN && !tooDeep) tooDeep = { start, end, kind: "chain" };
  };
  const resetChain = (): void => {
    estimate -= chains[chains.length - 1]!;
    chains[chains.length - 1] = 0;
  };
  /** An operand (a name, a literal) or a statement starts here. */
  const operandStart = (): void => {
    if (lastWasOperand) resetChain();
  };

  let i = 0;
  const n = text.length;
  if (n > 0 && text.charCodeAt(0) === BOM) {
    replace(0, 1, "");
    i = 1;
  }
  while (i < n) {
    const c = text.charCodeAt(i);
    // whitespace and comments: a run of them becomes one space
    if (c <= 32 || (c === 47 && (text.charCodeAt(i + 1) === 47 || text.charCodeAt(i + 1) === 42))) {
      let j = i;
      let comment = false;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d <= 32) j++;
        else if (d === 47 && text.charCodeAt(j + 1) === 47) {
          const eol = text.indexOf("\n", j + 2);
          j = eol < 0 ? n : eol;
          comment = true;
        } else if (d === 47 && text.charCodeAt(j + 1) === 42) {
          const close = text.indexOf("*/", j + 2);
          if (close < 0) break;
          j = close + 2;
          comment = true;
        } else break;
      }
      if (j > i) {
        if (comment || j - i > 1) replace(i, j, " ");
        i = j;
        continue;
      }
      // An unterminated block comment: the parser reports it, and nothing after it matters.
      break;
    }
    const wasAfterDot = afterDot;
    afterDot = false;
    // strings
    if (c === 34) {
      let j = i + 1;
      let closed = false;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 34) {
          closed = true;
          break;
        }
        if (d === 10) break;
        j += d === 92 && j + 1 < n ? 1 + codePointLength(text, j + 1) : codePointLength(text, j);
      }
      // Unterminated: the parse fails here, and nothing after it matters.
      if (!closed) break;
      operandStart();
      lastWasOperand = true;
      if (j > i + 1) replace(i, j + 1, '""');
      i = j + 1;
      continue;
    }
    // names and keywords
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentPart(text.charCodeAt(j))) j++;
      const word = text.slice(i, j);
      if (INFIX.has(word)) {
        if (NESTING_WORDS.has(word)) addChain(i, j);
        lastWasOperand = false;
      } else if (STARTERS.has(word)) {
        operandStart();
        if (NESTING_WORDS.has(word)) addChain(i, j);
        if (chains.length === 1 && TOP_LEVEL.has(word) && sawJob && !wasAfterDot) declStarts.push(outLength + (i - copiedTo));
        if (word === "job") sawJob = true;
        lastWasOperand = false;
      } else {
        operandStart();
        lastWasOperand = true;
      }
      i = j;
      continue;
    }
    // numbers (with `_`, a fraction, an exponent, a unit)
    if (c >= 48 && c <= 57) {
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (isIdentPart(d) || (d === 46 && j + 1 < n && text.charCodeAt(j + 1) >= 48 && text.charCodeAt(j + 1) <= 57)) j++;
        else if ((d === 43 || d === 45) && (text.charCodeAt(j - 1) | 32) === 101) j++;
        else break;
      }
      operandStart();
      lastWasOperand = true;
      i = j;
      continue;
    }
    // brackets
    if (c === 40 || c === 91 || c === 123) {
      // `f(…)` and `a[…]` are one more level of the expression they follow.
      if (lastWasOperand && c !== 123) addChain(i, i + 1);
      chains.push(0);
      estimate += BRACKET_WEIGHT;
      if (!tooDeep && chains.length - 1 > MAX_BRACKETS) tooDeep = { start: i, end: i + 1, kind: "brackets" };
      else if (!tooDeep && estimate > MAX_CHAIN) tooDeep = { start: i, end: i + 1, kind: "chain" };
      lastWasOperand = false;
      i++;
      continue;
    }
    if (c === 41 || c === 93 || c === 125) {
      if (chains.length > 1) estimate -= BRACKET_WEIGHT + chains.pop()!;
      lastWasOperand = true;
      i++;
      continue;
    }
    // operators and anything else
    const two = text.slice(i, i + 2);
    const len = OPERATORS2.has(two) ? 2 : codePointLength(text, i);
    const op = text.slice(i, i + len);
    if (op === ",") resetChain();
    else if (!SEPARATORS.has(op)) addChain(i, i + len);
    lastWasOperand = false;
    afterDot = op === "." || op === "?.";
    i += len;
    continue;
  }

  if (cs.length === 0) return { text, toOriginal: (p) => p, tooDeep, declStarts };
  parts.push(text.slice(copiedTo));
  const out = parts.join("");
  const toOriginal = (p: number): number => {
    // The last replaced region that starts at or before p.
    let lo = 0;
    let hi = cs.length - 1;
    if (cs[0]! > p) return p;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (cs[mid]! <= p) lo = mid;
      else hi = mid - 1;
    }
    const c = cs[lo]!;
    const r = rs[lo]!;
    const o = os[lo]!;
    const l = ls[lo]!;
    if (p >= c + r) return o + l + (p - c - r);
    // Inside a replacement (the closing quote of `""`): count from its end.
    return p === c ? o : o + l - (r - (p - c));
  };
  return { text: out, toOriginal, tooDeep, declStarts };
}
