import { expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { assetName, formatSums, releaseTargets } from "../../scripts/build.ts";
import { parseSums, renderFormula, repositoryFromPackage } from "../../scripts/formula.ts";
import { tempDir } from "../helpers/gateway.ts";
import { repoRoot } from "../helpers/lynkr-process.ts";
import { run } from "../helpers/run.ts";

// Formula/lynkr.rb: valid Ruby, generated (not hand-edited), and on each platform it picks that
// platform's binary with the checksum from SHA256SUMS (checked with a stand-in for Homebrew's DSL).

const committed = join(repoRoot, "Formula/lynkr.rb");
const dsl = join(import.meta.dir, "formula-dsl.rb");

function ruby(): string {
  const found = Bun.which("ruby");
  if (!found) throw new Error("ruby is not installed (.ci/run installs it from Debian)");
  return found;
}

test("ruby -c accepts the committed formula", async () => {
  const { stdout, code } = await run([ruby(), "-c", committed]);
  expect(stdout.trim()).toBe("Syntax OK");
  expect(code).toBe(0);
});

test("the committed formula is exactly what bun run formula renders from its checksums and version", () => {
  const text = readFileSync(committed, "utf8");
  const sums = new Map<string, string>();
  for (const match of text.matchAll(/url "[^"]*\/(lynkr-[a-z0-9-]+)"\n\s*sha256 "([0-9a-f]{64})"/g)) sums.set(match[1] as string, match[2] as string);
  expect([...sums.keys()].sort()).toEqual(releaseTargets.map(assetName).sort());
  const version = /version "([^"]+)"/.exec(text)?.[1] ?? "";
  expect(renderFormula({ version, repo: repositoryFromPackage(), sums })).toBe(text);
});

test("bun run formula: each OS/arch gets its own url and the sha256 from SHA256SUMS; install and test blocks work", async () => {
  const dir = tempDir();
  const sums = formatSums(releaseTargets.map((target, i) => ({ file: assetName(target), sha256: String(i + 1).repeat(64) })));
  writeFileSync(join(dir, "SHA256SUMS"), sums);
  const out = join(dir, "lynkr.rb");
  const generated = await run(["bun", "--no-env-file", "scripts/formula.ts", "--sums", join(dir, "SHA256SUMS"), "--version", "v1.2.3", "--repo", "acme/lynkr", "--out", out]);
  expect(generated.stderr).toBe("");
  expect(generated.code).toBe(0);
  expect((await run([ruby(), "-c", out])).code).toBe(0);

  const expected = parseSums(sums);
  for (const target of releaseTargets) {
    const [os, arch] = target.split("-") as [string, string];
    const stage = join(dir, `stage-${target}`);
    const bin = join(dir, `bin-${target}`);
    mkdirSync(stage);
    mkdirSync(bin);
    writeFileSync(join(stage, assetName(target)), "");
    writeFileSync(join(bin, "lynkr"), "#!/bin/sh\necho 1.2.3\n", { mode: 0o755 });
    const { stdout, stderr, code } = await run([ruby(), dsl, out, os, arch, stage, bin]);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      url: `https://github.com/acme/lynkr/releases/download/v1.2.3/${assetName(target)}`,
      sha256: expected.get(assetName(target)),
      version: "1.2.3",
      installed: { [assetName(target)]: "lynkr" },
      test: "passed",
    });
  }
});

test("the formula's test block fails on a binary that reports another version", async () => {
  const dir = tempDir();
  const bin = join(dir, "bin");
  mkdirSync(bin);
  writeFileSync(join(bin, "lynkr"), "#!/bin/sh\necho 0.0.0-other\n", { mode: 0o755 });
  writeFileSync(join(dir, "lynkr-linux-x64"), "");
  const { stdout } = await run([ruby(), dsl, committed, "linux", "x64", dir, bin]);
  expect(JSON.parse(stdout).test).toContain("does not match");
});

test("bun run formula refuses a SHA256SUMS that lacks a target, naming it", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "SHA256SUMS"), formatSums([{ file: "lynkr-linux-x64", sha256: "a".repeat(64) }]));
  const { code, stderr } = await run(["bun", "--no-env-file", "scripts/formula.ts", "--sums", join(dir, "SHA256SUMS"), "--out", join(dir, "f.rb")]);
  expect(code).toBe(1);
  expect(stderr).toContain("lynkr-linux-arm64, lynkr-darwin-x64, lynkr-darwin-arm64");
  expect(pkg.version).toMatch(/^\d+\.\d+\.\d+/);
});
