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
  {
    version: 2,
    name: "usage, cost and budget totals",
    sql: `
      -- One row per answered request: tokens, what they cost, and who asked.
      CREATE TABLE usage (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        request_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        day TEXT NOT NULL,
        session_id TEXT NOT NULL,
        client TEXT NOT NULL,
        provider TEXT NOT NULL,
        model TEXT,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cache_read_input_tokens INTEGER NOT NULL,
        cache_creation_input_tokens INTEGER NOT NULL,
        -- 1 when the upstream reported no usage and the counts are a local estimate
        estimated INTEGER NOT NULL,
        -- NULL when the model has no price
        cost_usd REAL,
        -- answered from the prompt cache: nothing spent, saved_usd not spent
        cached INTEGER NOT NULL,
        saved_usd REAL
      );
      CREATE INDEX usage_day ON usage(day);
      CREATE INDEX usage_session ON usage(session_id);
      -- Running totals that budgets read with one primary-key lookup.
      -- scope: 'session' (period ''), 'client' (period = UTC day), 'day' (subject '').
      CREATE TABLE usage_totals (
        scope TEXT NOT NULL,
        subject TEXT NOT NULL,
        period TEXT NOT NULL,
        requests INTEGER NOT NULL,
        input_tokens INTEGER NOT NULL,
        output_tokens INTEGER NOT NULL,
        cost_usd REAL NOT NULL,
        PRIMARY KEY (scope, subject, period)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: "prompt cache",
    sql: `
      CREATE TABLE prompt_cache (
        key TEXT PRIMARY KEY,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        -- JSON: the Message, and the stream's events as sent when the answer was streamed
        entry TEXT NOT NULL
      );
      CREATE INDEX prompt_cache_expiry ON prompt_cache(expires_at);
    `,
  },
  {
    version: 4,
    name: "long-term memory",
    sql: `
      -- What users told Claude Code about a project, kept across sessions (src/memory/).
      -- scope: 'project:<dir>', 'client:<name>' (no project stated) or 'global'.
      CREATE TABLE memories (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        scope TEXT NOT NULL,
        text TEXT NOT NULL,
        -- space-separated keywords (for near-duplicate and contradiction checks)
        keywords TEXT NOT NULL,
        -- 'user' (stated by the user), 'assistant' (a decision the user did not reject), 'manual'
        source TEXT NOT NULL,
        -- surprise score when first stored, 0..1
        importance REAL NOT NULL,
        -- times stated again (near-duplicates merged into this one)
        mentions INTEGER NOT NULL DEFAULT 1,
        -- sessions it was injected into
        uses INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        last_used_at INTEGER
      );
      CREATE INDEX memories_scope ON memories(scope, updated_at);
      -- rowid = memories.id; kept in step by the memory store.
      CREATE VIRTUAL TABLE memories_fts USING fts5(text, tokenize = 'porter unicode61');
      -- The block each session got at its first request, repeated byte for byte on every later one.
      -- Keyed by client too: naming another client's session id must not bring its memories.
      CREATE TABLE memory_sessions (
        client TEXT NOT NULL,
        session_id TEXT NOT NULL,
        scope TEXT NOT NULL,
        block TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (client, session_id)
      ) WITHOUT ROWID;
      CREATE INDEX memory_sessions_age ON memory_sessions(created_at);
    `,
  },
  {
    version: 5,
    name: "turn routes",
    sql: `
      -- How each turn was routed (rule, and every fallback on the way), for lynkr sessions and the status line.
      ALTER TABLE turns ADD COLUMN route TEXT;
      ALTER TABLE turns ADD COLUMN fallbacks INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 6,
    name: "memory blocks by conversation",
    sql: `
      -- The conversation (hash of its first message) a session block was made for: a run that
      -- continues it under another session id gets the same block, not a new one mid-conversation.
      ALTER TABLE memory_sessions ADD COLUMN conversation TEXT;
      CREATE INDEX memory_sessions_conversation ON memory_sessions(client, conversation, created_at);
    `,
  },
  {
    version: 7,
    name: "retention",
    sql: `
      -- SESSION_RETENTION_DAYS prunes sessions by their last turn.
      CREATE INDEX sessions_updated ON sessions(updated_at);
    `,
  },
];
