// The admin endpoint's bearer token: where it comes from and how a presented one is
// compared. Shared by the job (`--admin-token`, `--admin-token-file`, FLOWC_ADMIN_TOKEN)
// and by `flowc savepoint` (`--token`, `--token-file`, FLOWC_ADMIN_TOKEN).
//
// Precedence: the flag or the file (giving both is a mistake), else the environment
// variable. A token is printable ASCII, at least one character, with no space at either
// end; anything else would make an endpoint that refuses every request, so it is a usage
// error (exit 2).

import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync, statSync } from "node:fs";

export const TOKEN_ENV = "FLOWC_ADMIN_TOKEN";

/** A token that cannot be used: a usage error (exit 2) with this message. */
export class TokenError extends Error {}

const PRINTABLE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

function checked(token: string, what: string): string {
  if (token === "") throw new TokenError(`${what} is empty; give a token (a random string, e.g. from \`openssl rand -hex 32\`)`);
  if (!PRINTABLE.test(token)) throw new TokenError(`${what} must be printable ASCII without spaces at either end (it goes into an HTTP header)`);
  return token;
}

/** The first line of a token file, trimmed. */
function readTokenFile(path: string, flag: string): string {
  let text: string;
  try {
    // Only a regular file (or a link to one): a FIFO or a device could block or never end.
    if (!statSync(path).isFile()) throw new TokenError(`cannot read ${flag} ${path}: it is not a file`);
    text = readFileSync(path, "utf8");
  } catch (e) {
    if (e instanceof TokenError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new TokenError(`cannot read ${flag} ${path}: ${code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (e as Error).message}`);
  }
  return checked(text.split(/\r?\n/, 1)[0]!.trim(), `the first line of ${flag} ${path}`);
}

/**
 * The token to use, or null for none. `flag` and `file` are the values of the two flags
 * (named by `flagName`, `fileFlagName`); `env` the environment variable's value, consulted
 * only when neither flag is given.
 */
export function resolveToken(o: { flag: string | undefined; flagName: string; file: string | undefined; fileFlagName: string; env: string | undefined }): string | null {
  if (o.flag !== undefined && o.file !== undefined) throw new TokenError(`give the token once: ${o.flagName} or ${o.fileFlagName}, not both`);
  if (o.flag !== undefined) return checked(o.flag, o.flagName);
  if (o.file !== undefined) return readTokenFile(o.file, o.fileFlagName);
  if (o.env !== undefined) {
    if (o.env === "") throw new TokenError(`${TOKEN_ENV} is set but empty; unset it, or set it to the token`);
    return checked(o.env, TOKEN_ENV);
  }
  return null;
}

const sha256 = (s: string): Buffer => createHash("sha256").update(s, "latin1").digest();

/**
 * Checks `Authorization` headers against a token in constant time: both sides are hashed
 * first, so neither the token's length nor where it differs shows in the time taken.
 */
export function tokenChecker(token: string): (authorization: string | undefined) => boolean {
  const expected = sha256(token);
  return (authorization) => {
    const m = /^bearer +(.+)$/i.exec(authorization ?? "");
    return timingSafeEqual(sha256(m ? m[1]! : ""), expected) && m !== null;
  };
}
