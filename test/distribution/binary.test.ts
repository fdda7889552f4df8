import { afterAll, expect, test } from "bun:test";
import { readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { readEnvFile } from "../../src/config/load.ts";
import { buildBinary, pathWithoutBun } from "../helpers/binary.ts";
import { tempDir } from "../helpers/gateway.ts";
import { spawnLynkr } from "../helpers/lynkr-process.ts";
import { refusedUrl } from "../helpers/ports.ts";
import { run } from "../helpers/run.ts";

// The standalone executable as users get it: built by the release script (one foreign target
// here, to prove cross-compiling; all four are `bun run build:all`), and the host binary run alone,
// with no terminal, no Bun and no sources: `lynkr init --provider ollama --yes`, then `lynkr start`.

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

test("the release build cross-compiles a darwin-arm64 Mach-O and writes a SHA256SUMS that sha256sum -c accepts", async () => {
  const outdir = tempDir("lynkr-release-build-");
  outdirs.push(outdir);
  const built = await run(["bun", "--no-env-file", "scripts/build.ts", "--targets", "darwin-arm64", "--outdir", outdir]);
  expect(built.stderr).toBe("");
  expect(built.code).toBe(0);
  expect(readdirSync(outdir).sort()).toEqual(["SHA256SUMS", "lynkr-darwin-arm64"]);
  const header = readFileSync(join(outdir, "lynkr-darwin-arm64")).subarray(0, 8);
  // MH_MAGIC_64 (little-endian), then CPU_TYPE_ARM64.
  expect(header.readUInt32LE(0)).toBe(0xfeedfacf);
  expect(header.readUInt32LE(4)).toBe(0x0100000c);

  const sha256sum = Bun.which("sha256sum");
  if (!sha256sum) throw new Error("sha256sum (coreutils) is not installed");
  const checked = await run([sha256sum, "--check", "--strict", "SHA256SUMS"], { cwd: outdir });
  expect(checked.stdout).toBe("lynkr-darwin-arm64: OK\n");
  expect(checked.code).toBe(0);

  const unknown = await run(["bun", "--no-env-file", "scripts/build.ts", "--targets", "windows-x64", "--outdir", outdir]);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toContain("expected some of: linux-x64, linux-arm64, darwin-x64, darwin-arm64");
});

test("the binary alone: --version, then init --provider ollama --yes with no terminal, then start reads the file", async () => {
  const binary = await buildBinary();
  const home = tempDir();
  const bare = { PATH: pathWithoutBun, HOME: home };
  const version = await run([binary, "--version"], { cwd: tempDir(), env: bare });
  expect(version.stdout.trim()).toBe(pkg.version);

  const port = new URL(refusedUrl()).port;
  const init = await run([binary, "init", "--provider", "ollama", "--yes", "--port", port, "--no-check"], { cwd: tempDir(), env: bare });
  expect(init.stderr).toBe("");
  expect(init.code).toBe(0);
  const file = join(home, ".lynkr", ".env");
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(readEnvFile(file)).toMatchObject({ MODEL_PROVIDER: "ollama", PORT: port });

  const lynkr = await spawnLynkr([binary], { ...bare, PORT: "" }, tempDir());
  try {
    expect(lynkr.url).toBe(`http://127.0.0.1:${port}`);
    expect((await fetch(`${lynkr.url}/health/live`)).status).toBe(200);
    expect(lynkr.output()).toContain(`configuration from ${file}`);
  } finally {
    expect(await lynkr.stop()).toBe(0);
  }
});
