// `npm run package:vscode` builds an installable .vsix of editors/vscode, offline: the
// extension bundled with vscode-languageclient, the grammar, the language configuration.

import { execa } from "execa";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers.js";

describe("the VS Code extension", () => {
  it("packages into a .vsix holding the manifest, grammar, configuration and the bundled client", async () => {
    const r = await execa("npm", ["run", "--silent", "package:vscode"], { cwd: ROOT, reject: false, env: { CI: "true" }, timeout: 120_000 });
    expect(r.exitCode, r.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(ROOT, "editors", "vscode", "package.json"), "utf8")) as { name: string; version: string; contributes: { languages: { id: string; extensions: string[] }[]; grammars: { scopeName: string }[] } };
    expect(manifest.contributes.languages[0]).toMatchObject({ id: "flow", extensions: [".flow"] });
    expect(manifest.contributes.grammars[0]!.scopeName).toBe("source.flow");
    const vsix = r.stdout.trim().split("\n").at(-1)!;
    expect(vsix).toBe(join(ROOT, "editors", "vscode", `${manifest.name}-${manifest.version}.vsix`));
    // A zip: its central directory names every file in plain text.
    const zip = readFileSync(vsix);
    expect(zip.subarray(0, 2).toString()).toBe("PK");
    for (const f of ["extension.vsixmanifest", "extension/package.json", "extension/syntaxes/flow.tmLanguage.json", "extension/syntaxes/flow-test.tmLanguage.json", "extension/language-configuration.json", "extension/out/extension.js", "extension/LICENSE.txt"]) {
      expect(zip.includes(Buffer.from(f)), f).toBe(true);
    }
    expect(zip.includes(Buffer.from("extension/src/"))).toBe(false);
    const bundle = readFileSync(join(ROOT, "editors", "vscode", "out", "extension.js"), "utf8");
    expect(bundle).toMatch(/require\("vscode"\)/);
    expect(bundle).toContain("flowc language server");
  });
});
