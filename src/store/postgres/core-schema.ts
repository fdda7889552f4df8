import type { PgMigration } from "./migrate.ts";

// The `core` area: sessions, threads, turns, usage rows and running totals, as src/store/migrations.ts
// keeps them in SQLite, in PostgreSQL's types. Timestamps are milliseconds (BIGINT) as in SQLite.
// `write_id` makes a write retried after a lost connection land once: the retry finds its row.
export const coreMigrations: readonly PgMigration[] = [
  {
    version: 1,
    name: "sessions, turns, usage and totals",
    sql: `
      CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        turn_count INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX sessions_updated ON sessions(updated_at);
      CREATE TABLE threads (
        session_id TEXT NOT NULL REFERENCES sessions(id),
        root_hash TEXT NOT NULL,
        history_len INTEGER NOT NULL,
        history_hash TEXT NOT NULL,
        PRIMARY KEY (session_id, root_hash)
      );
      CREATE TABLE turns (
        id BIGSERIAL PRIMARY KEY,
        write_id UUID NOT NULL UNIQUE,
        session_id TEXT NOT NULL REFERENCES sessions(id),
        request_id TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT,
        requested_model TEXT NOT NULL,
        stream BOOLEAN NOT NULL,
        status INTEGER NOT NULL,
        latency_ms DOUBLE PRECISION NOT NULL,
        first_byte_ms DOUBLE PRECISION,
        input_tokens INTEGER,
        output_tokens INTEGER,
        cache_read_input_tokens INTEGER,
        cache_creation_input_tokens INTEGER,
        stop_reason TEXT,
        new_messages TEXT NOT NULL,
        history_offset INTEGER NOT NULL,
        response TEXT,
        error TEXT,
        route TEXT,
        fallbacks INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX turns_session ON turns(session_id, id);
      CREATE INDEX turns_created ON turns(created_at);
      CREATE TABLE usage (
        id BIGSERIAL PRIMARY KEY,
        write_id UUID NOT NULL UNIQUE,
        request_id TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        day TEXT NOT NULL,
        session_id TEXT NOT NULL,
        client TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT,
        input_tokens BIGINT NOT NULL,
        output_tokens BIGINT NOT NULL,
        cache_read_input_tokens BIGINT NOT NULL,
        cache_creation_input_tokens BIGINT NOT NULL,
        estimated BOOLEAN NOT NULL,
        cost_usd DOUBLE PRECISION,
        cached BOOLEAN NOT NULL,
        saved_usd DOUBLE PRECISION
      );
      CREATE INDEX usage_day ON usage(day);
      CREATE INDEX usage_session ON usage(session_id);
      CREATE INDEX usage_created ON usage(created_at);
      CREATE TABLE usage_totals (
        scope TEXT NOT NULL,
        subject TEXT NOT NULL,
        period TEXT NOT NULL,
        requests BIGINT NOT NULL,
        input_tokens BIGINT NOT NULL,
        output_tokens BIGINT NOT NULL,
        cost_usd DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (scope, subject, period)
      );
    `,
  },
];
