import { expect, test } from "bun:test";
import { homedir } from "node:os";
import { join } from "node:path";
import { userEnvFile } from "../../src/config/load.ts";
import { envSchema } from "../../src/config/schema.ts";
import { routingFilePath } from "../../src/config/routing-file.ts";
import { databasePath } from "../../src/store/db.ts";
import { tempDir } from "../helpers/gateway.ts";

// The .env file, the routing file and the database share one folder, wherever HOME points.

test("with HOME set or not, every user file lives in the same ~/.lynkr", () => {
  const home = tempDir();
  const withHome = envSchema.parse({ HOME: home });
  expect([userEnvFile({ HOME: home }), routingFilePath(withHome).path, databasePath(withHome)]).toEqual(
    ["/.env", "/config.json", "/lynkr.db"].map((file) => join(home, ".lynkr", file)),
  );
  const withoutHome = envSchema.parse({});
  expect([userEnvFile({}), routingFilePath(withoutHome).path, databasePath(withoutHome)]).toEqual(
    ["/.env", "/config.json", "/lynkr.db"].map((file) => join(homedir(), ".lynkr", file)),
  );
});
