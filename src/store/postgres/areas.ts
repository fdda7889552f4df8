import { coreMigrations } from "./core-schema.ts";
import { memoryMigrations } from "./memory-migrations.ts";
import type { PgMigrations } from "./migrate.ts";

// Every area's PostgreSQL migrations, by area name. An area's list lives beside the code that
// owns its tables, in store/ (which imports nothing of the request path's layers); a new area
// adds one line here. Append to a list; never edit a shipped migration.
export const postgresAreas: PgMigrations = {
  core: coreMigrations,
  // The prompt cache's durable tier (src/cache/postgres-entries.ts). The entry is TEXT, not
  // JSONB: JSONB reorders members, and a JSON hit must be the bytes first sent.
  cache: [
    {
      version: 1,
      name: "prompt cache",
      sql: `
        CREATE TABLE prompt_cache (
          key TEXT PRIMARY KEY,
          fingerprint BIGINT NOT NULL,
          created_at BIGINT NOT NULL,
          expires_at BIGINT NOT NULL,
          -- JSON: the Message, and the stream's events as sent when the answer was streamed
          entry TEXT NOT NULL
        );
        CREATE INDEX prompt_cache_fingerprint ON prompt_cache (fingerprint);
        CREATE INDEX prompt_cache_created ON prompt_cache (created_at);
      `,
    },
  ],
  memory: memoryMigrations,
};
