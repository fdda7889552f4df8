import { expect, test } from "bun:test";
import { run } from "./helpers/run.ts";

// `bun run typecheck` (tsc, strict) over src, test and bench: a type error fails CI like a failing test.
test("the whole project typechecks", async () => {
  const { code, stdout, stderr } = await run(["bun", "run", "typecheck"]);
  expect(code, `${stdout}${stderr}`).toBe(0);
}, 120_000);
