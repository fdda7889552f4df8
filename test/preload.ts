import { afterAll } from "bun:test";
import { removeBuiltBinary } from "./helpers/binary.ts";
import { removeTempDirs } from "./helpers/temp-dirs.ts";

// Once, after every test file of the run (a hook in a preload file is global).
afterAll(() => {
  removeBuiltBinary();
  removeTempDirs();
});
