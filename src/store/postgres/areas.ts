import { promptCacheMigrations } from "../../cache/postgres-entries.ts";
import { coreMigrations } from "./core-schema.ts";
import type { PgMigrations } from "./migrate.ts";

// Every area's PostgreSQL migrations, by area name. An area's list lives beside the code that
// owns its tables; a new area adds one line here.
export const postgresAreas: PgMigrations = {
  core: coreMigrations,
  cache: promptCacheMigrations,
};
