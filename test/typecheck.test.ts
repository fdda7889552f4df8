import { expect, test } from "bun:test";
import { repoRoot } from "./helpers/gateway.ts";

// `bun run typecheck` (tsc, strict) over src, test and bench: a type error fails CI like a failing test.
test("the whole project typechecks", async () => {
  const proc = Bun.spawn(["bun", "run", "typecheck"], { cwd: repoRoot, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(code, `${stdout}${stderr}`).toBe(0);
}, 120_000);
