import { expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import pkg from "../../package.json" with { type: "json" };
import { assetName, releaseTargets } from "../../scripts/build.ts";
import { repoRoot } from "../helpers/lynkr-process.ts";

// The GitHub workflows cannot run here. What can be checked is checked: they parse, their jobs
// wire up, they call only real actions at released major versions, and every script, file and
// release asset they name exists.

const step = z.object({ name: z.string().optional(), uses: z.string().optional(), run: z.string().optional(), with: z.record(z.string(), z.unknown()).optional() });
const job = z.object({
  needs: z.union([z.string(), z.array(z.string())]).optional(),
  uses: z.string().optional(),
  "runs-on": z.string().optional(),
  steps: z.array(step).optional(),
});
const workflow = z.object({ name: z.string(), on: z.record(z.string(), z.unknown()), jobs: z.record(z.string(), job) });

function load(name: string) {
  return workflow.parse(Bun.YAML.parse(readFileSync(join(repoRoot, ".github/workflows", name), "utf8")));
}

/** Actions that exist, at major versions that are published. */
const knownActions = new Set(["actions/checkout@v4", "actions/setup-node@v4", "actions/upload-artifact@v4", "actions/download-artifact@v4", "softprops/action-gh-release@v2"]);

function checkWiring(name: string) {
  const wf = load(name);
  for (const [id, j] of Object.entries(wf.jobs)) {
    for (const need of [j.needs ?? []].flat()) expect(Object.keys(wf.jobs), `${name}: ${id} needs ${need}`).toContain(need);
    if (j.uses) expect(existsSync(join(repoRoot, j.uses)), `${name}: ${id} uses ${j.uses}`).toBe(true);
    else expect(j["runs-on"], `${name}: ${id} has no runs-on`).toBeString();
    for (const s of j.steps ?? []) {
      if (s.uses) expect(knownActions.has(s.uses), `${name}: unknown action ${s.uses}`).toBe(true);
      for (const [, script] of (s.run ?? "").matchAll(/bun run ([\w:-]+)/g)) expect(Object.keys(pkg.scripts), `${name}: bun run ${script}`).toContain(script as string);
      for (const [, file] of (s.run ?? "").matchAll(/(?:bash|cp) (\.ci\/run|install\.sh)/g)) expect(existsSync(join(repoRoot, file as string))).toBe(true);
    }
  }
  return wf;
}

test("ci.yml runs .ci/run on pushes and can be called by the release", () => {
  const wf = checkWiring("ci.yml");
  expect(Object.keys(wf.on).sort()).toEqual(["pull_request", "push", "workflow_call"]);
  expect(wf.jobs.test?.steps?.some((s) => s.run?.includes("bash .ci/run"))).toBe(true);
});

test("release.yml: on a version tag, tests, builds all targets, checks them, uploads every asset, regenerates the formula", () => {
  const wf = checkWiring("release.yml");
  expect(wf.on).toEqual({ push: { tags: ["v*.*.*"] } });
  expect(wf.jobs.test?.uses).toBe("./.github/workflows/ci.yml");
  const runs = Object.values(wf.jobs).flatMap((j) => j.steps ?? []).map((s) => s.run ?? "").join("\n");
  expect(runs).toContain("bun run build:all");
  expect(runs).toContain("bun run formula");
  expect(runs).toContain("shasum -a 256 -c SHA256SUMS");
  const upload = wf.jobs.publish?.steps?.find((s) => s.uses?.startsWith("softprops/action-gh-release"));
  const files = String(upload?.with?.files ?? "").trim().split("\n").map((f) => f.trim());
  expect(files.sort()).toEqual([...releaseTargets.map((t) => `dist/${assetName(t)}`), "dist/SHA256SUMS", "dist/install.sh"].sort());
  expect(wf.jobs.publish?.needs).toEqual(["build", "smoke-macos"]);
});
