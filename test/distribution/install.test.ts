import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { formatSums, sha256File } from "../../scripts/build.ts";
import { buildBinary } from "../helpers/binary.ts";
import { tempDir } from "../helpers/gateway.ts";
import { repoRoot } from "../helpers/lynkr-process.ts";
import { run, type RunResult } from "../helpers/run.ts";

// install.sh run by sh against a loopback server laid out like GitHub releases: the real binary
// as the latest release, small scripts as other versions, and one release whose checksum lies.

const installSh = join(repoRoot, "install.sh");
const hostOs = process.platform === "darwin" ? "darwin" : "linux";
const hostArch = process.arch === "arm64" ? "arm64" : "x64";
const hostAsset = `lynkr-${hostOs}-${hostArch}`;

/** A release asset that is a script printing its version: enough to tell versions apart. */
const fakeBinary = (version: string) => `#!/bin/sh\necho ${version}\n`;

let server: ReturnType<typeof Bun.serve>;
let base: string;
const requests: string[] = [];

function release(files: Record<string, string | Uint8Array>, sums: Record<string, string> = {}): Map<string, string | Uint8Array> {
  const dir = tempDir("lynkr-release-");
  const entries = Object.entries(files).map(([file, body]) => {
    writeFileSync(join(dir, file), body);
    return { file, sha256: sums[file] ?? sha256File(join(dir, file)) };
  });
  return new Map([...Object.entries(files), ["SHA256SUMS", formatSums(entries)]]);
}

beforeAll(async () => {
  const binary = readFileSync(await buildBinary());
  const releases = new Map<string, Map<string, string | Uint8Array>>([
    [pkg.version, release({ [hostAsset]: binary })],
    ["0.0.9", release({ [hostAsset]: fakeBinary("0.0.9"), "lynkr-darwin-arm64": fakeBinary("0.0.9 darwin-arm64") })],
    // Someone swapped the binary after the checksums were published.
    ["6.6.6", release({ [hostAsset]: fakeBinary("6.6.6 tampered") }, { [hostAsset]: "0".repeat(64) })],
  ]);
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const { pathname } = new URL(req.url);
      requests.push(pathname);
      // GitHub answers /latest/download/ with a redirect to the newest release's file.
      const latest = /^\/releases\/latest\/download\/([^/]+)$/.exec(pathname);
      if (latest) return Response.redirect(`/releases/download/v${pkg.version}/${latest[1]}`, 302);
      const pinned = /^\/releases\/download\/v([^/]+)\/([^/]+)$/.exec(pathname);
      const body = pinned && releases.get(pinned[1] as string)?.get(pinned[2] as string);
      return body ? new Response(body) : new Response("Not Found", { status: 404 });
    },
  });
  base = `http://127.0.0.1:${server.port}/releases`;
});

afterAll(async () => {
  await server.stop(true);
});

/** A PATH holding only these tools (plus what every install needs), to take curl or wget away. */
function toolPath(downloaders: ("curl" | "wget")[]): string {
  const dir = tempDir("lynkr-tools-");
  for (const tool of ["sh", "uname", "mktemp", "rm", "mkdir", "chmod", "cp", "mv", "cut", "awk", "sed", "sha256sum", ...downloaders]) {
    const found = Bun.which(tool);
    if (!found) throw new Error(`${tool} is not installed: install.sh's tests need it`);
    symlinkSync(found, join(dir, tool));
  }
  chmodSync(dir, 0o755);
  return dir;
}

function install(env: Record<string, string>, options: { asUser?: number; script?: string } = {}): Promise<RunResult> {
  const setpriv = Bun.which("setpriv");
  if (options.asUser !== undefined && !setpriv) throw new Error("setpriv (util-linux) is not installed");
  const runAs = options.asUser === undefined ? [] : [setpriv ?? "", `--reuid=${options.asUser}`, `--regid=${options.asUser}`, "--clear-groups"];
  return run([...runAs, "sh", options.script ?? installSh], { env: { PATH: toolPath(["curl"]), HOME: tempDir(), LYNKR_DOWNLOAD_BASE: base, ...env } });
}

async function versionOf(binary: string): Promise<string> {
  return (await run([binary, "--version"], { env: {} })).stdout.trim();
}

test("install.sh is POSIX sh and shellcheck-clean", async () => {
  const shellcheck = Bun.which("shellcheck");
  if (!shellcheck) throw new Error("shellcheck is not installed (.ci/run installs it from Debian)");
  const { stdout, code } = await run([shellcheck, "--shell=sh", "--severity=style", installSh]);
  expect(stdout).toBe("");
  expect(code).toBe(0);
  expect(readFileSync(installSh, "utf8").startsWith("#!/bin/sh\n")).toBe(true);
});

test("its default download base is this project's GitHub releases", () => {
  const repo = /github\.com\/([^/]+\/[^/.]+)/.exec(pkg.repository.url)?.[1];
  expect(readFileSync(installSh, "utf8")).toContain(`LYNKR_DOWNLOAD_BASE=\${LYNKR_DOWNLOAD_BASE:-https://github.com/${repo}/releases}`);
});

test("latest: follows the redirect, verifies the checksum, installs a binary that runs", async () => {
  const dir = join(tempDir(), "bin");
  requests.length = 0;
  const { code, stdout, stderr } = await install({ LYNKR_INSTALL_DIR: dir });
  expect(stderr).toBe("");
  expect(code).toBe(0);
  expect(requests).toEqual([
    `/releases/latest/download/${hostAsset}`,
    `/releases/download/v${pkg.version}/${hostAsset}`,
    "/releases/latest/download/SHA256SUMS",
    `/releases/download/v${pkg.version}/SHA256SUMS`,
  ]);
  expect(await versionOf(join(dir, "lynkr"))).toBe(pkg.version);
  expect(stdout).toContain(`installed lynkr ${pkg.version} to ${dir}/lynkr`);
  expect(stdout).toContain(`${dir} is not on your PATH`);
  expect(readdirSync(dir)).toEqual(["lynkr"]);
});

test("curl downloads over https only: a base of another scheme (here file://) installs nothing", async () => {
  const mirror = tempDir("lynkr-file-mirror-");
  const files = release({ [hostAsset]: fakeBinary("0.0.7 from file") });
  mkdirSync(join(mirror, "download", "v0.0.7"), { recursive: true });
  for (const [file, body] of files) writeFileSync(join(mirror, "download", "v0.0.7", file), body);
  const dir = join(tempDir(), "bin");
  const { code, stderr } = await install({ LYNKR_INSTALL_DIR: dir, LYNKR_VERSION: "0.0.7", LYNKR_DOWNLOAD_BASE: `file://${mirror}` });
  expect(code).not.toBe(0);
  expect(stderr).toContain("download of file://");
  expect(existsSync(join(dir, "lynkr"))).toBe(false);
});

test("a pinned version (v-prefixed, with wget only) replaces what is installed", async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "lynkr"), fakeBinary("0.0.1"), { mode: 0o755 });
  requests.length = 0;
  const { code, stdout, stderr } = await install({ LYNKR_INSTALL_DIR: dir, LYNKR_VERSION: "v0.0.9", PATH: toolPath(["wget"]) });
  expect(stderr).toBe("");
  expect(code).toBe(0);
  expect(requests).toEqual([`/releases/download/v0.0.9/${hostAsset}`, "/releases/download/v0.0.9/SHA256SUMS"]);
  expect(await versionOf(join(dir, "lynkr"))).toBe("0.0.9");
  expect(stdout).toContain("installed lynkr 0.0.9");
  expect(readdirSync(dir)).toEqual(["lynkr"]);
});

test("a checksum mismatch is refused: the download is deleted and the installed binary is untouched", async () => {
  const dir = tempDir();
  const tmp = tempDir();
  writeFileSync(join(dir, "lynkr"), fakeBinary("0.0.1"), { mode: 0o755 });
  const { code, stdout, stderr } = await install({ LYNKR_INSTALL_DIR: dir, LYNKR_VERSION: "6.6.6", TMPDIR: tmp });
  expect(code).toBe(1);
  expect(stderr).toContain(`checksum mismatch for ${hostAsset}`);
  expect(stderr).toContain("nothing was installed");
  expect(stdout).not.toContain("installed lynkr");
  expect(readdirSync(dir)).toEqual(["lynkr"]);
  expect(await versionOf(join(dir, "lynkr"))).toBe("0.0.1");
  expect(readdirSync(tmp)).toEqual([]);

  const fresh = tempDir();
  expect((await install({ LYNKR_INSTALL_DIR: fresh, LYNKR_VERSION: "6.6.6" })).code).toBe(1);
  expect(readdirSync(fresh)).toEqual([]);
});

test("the asset follows OS and arch (overridable): darwin arm64", async () => {
  const dir = tempDir();
  requests.length = 0;
  const { code } = await install({ LYNKR_INSTALL_DIR: dir, LYNKR_VERSION: "0.0.9", LYNKR_OS: "Darwin", LYNKR_ARCH: "aarch64" });
  expect(code).toBe(0);
  expect(requests[0]).toBe("/releases/download/v0.0.9/lynkr-darwin-arm64");
  expect(await versionOf(join(dir, "lynkr"))).toBe("0.0.9 darwin-arm64");
});

test("unsupported platforms stop before any download, saying what exists", async () => {
  const dir = tempDir();
  requests.length = 0;
  const arch = await install({ LYNKR_INSTALL_DIR: dir, LYNKR_ARCH: "riscv64" });
  expect(arch.code).toBe(1);
  expect(arch.stderr).toContain("unsupported architecture: riscv64 (prebuilt binaries exist for x64 and arm64");
  const os = await install({ LYNKR_INSTALL_DIR: dir, LYNKR_OS: "FreeBSD" });
  expect(os.code).toBe(1);
  expect(os.stderr).toContain("unsupported operating system: FreeBSD");
  const windows = await install({ LYNKR_INSTALL_DIR: dir, LYNKR_OS: "MINGW64_NT-10.0" });
  expect(windows.stderr).toContain("WSL");
  const alpine = await install({ LYNKR_INSTALL_DIR: dir, LYNKR_OS: "Linux", LYNKR_LIBC: "musl" });
  expect(alpine.code).toBe(1);
  expect(alpine.stderr).toContain("musl libc (e.g. Alpine) is not supported");
  expect(requests).toEqual([]);
  expect(readdirSync(dir)).toEqual([]);
});

test("no curl and no wget: a clear message", async () => {
  const { code, stderr } = await install({ LYNKR_INSTALL_DIR: tempDir(), PATH: toolPath([]) });
  expect(code).toBe(1);
  expect(stderr).toContain("neither curl nor wget was found");
});

test("a version that was never released: the failing URL and a hint", async () => {
  const { code, stderr } = await install({ LYNKR_INSTALL_DIR: tempDir(), LYNKR_VERSION: "9.9.9" });
  expect(code).toBe(1);
  expect(stderr).toContain(`download of ${base}/download/v9.9.9/${hostAsset} failed (is 9.9.9 a released version?)`);
});

/** Running as an ordinary user: as root every folder is writable. */
const nobody = 65534;
function ownedBy(uid: number): string {
  const dir = tempDir();
  chmodSync(dir, 0o755);
  chownSync(dir, uid, uid);
  return dir;
}

test("no write permission: refused with what to do; without LYNKR_INSTALL_DIR, ~/.local/bin", async () => {
  if (process.getuid?.() !== 0) throw new Error("these cases switch to an unprivileged user with setpriv: run the suite as root (as CI does)");
  const rootOwned = tempDir();
  chmodSync(rootOwned, 0o755);
  const tmp = ownedBy(nobody);
  const script = join(ownedBy(nobody), "install.sh");
  copyFileSync(installSh, script);
  const denied = await install({ LYNKR_INSTALL_DIR: rootOwned, TMPDIR: tmp, HOME: ownedBy(nobody) }, { asUser: nobody, script });
  expect(denied.code).toBe(1);
  expect(denied.stderr).toContain(`no permission to write to ${rootOwned}: set LYNKR_INSTALL_DIR`);
  expect(readdirSync(rootOwned)).toEqual([]);

  const home = ownedBy(nobody);
  const installed = await install({ LYNKR_VERSION: "0.0.9", TMPDIR: tmp, HOME: home }, { asUser: nobody, script });
  expect(installed.stderr).toBe("");
  expect(installed.code).toBe(0);
  expect(existsSync(join(home, ".local", "bin", "lynkr"))).toBe(true);
  expect(installed.stdout).toContain(`to ${home}/.local/bin/lynkr`);
});
