// Versioned schema migrations, applied in order, each once. Append; never edit a shipped one.
export const migrations: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: "sessions and turns",
    sql: `
      CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        turn_count INTEGER NOT NULL DEFAULT 0
      );
      -- A session holds several threads (main loop, subagents, post-compaction history), each
      -- told apart by its first message; the stored prefix lets a turn keep only what is new.
      CREATE TABLE threads (
        session_id TEXT NOT NULL REFERENCES sessions(id),
        root_hash TEXT NOT NULL,
        history_len INTEGER NOT NULL,
        history_hash TEXT NOT NULL,
        PRIMARY KEY (session_id, root_hash)
      );
      CREATE TABLE turns (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        session_id TEXT NOT NULL REFERENCES sessions(id),
        request_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        provider TEXT NOT NULL,
        model TEXT,
        requested_model TEXT NOT NULL,
        stream INTEGER NOT NULL,
        status INTEGER NOT NULL,
        latency_ms REAL NOT NULL,
        first_byte_ms REAL,
        input_tokens INTEGER,
        output_tokens INTEGER,
        cache_read_input_tokens INTEGER,
        cache_creation_input_tokens INTEGER,
        stop_reason TEXT,
        -- messages this turn added to the thread (not the whole history again)
        new_messages TEXT NOT NULL,
        history_offset INTEGER NOT NULL,
        response TEXT,
        error TEXT
      );
      CREATE INDEX turns_session ON turns(session_id, id);
    `,
  },
];
