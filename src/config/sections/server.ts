import { int, oneOf, text } from "../fields.ts";
import { providerNames } from "../provider-names.ts";

// The gateway itself: where it listens, how it logs, where it keeps its database.
export const serverEnv = {
  // 0 picks a free port (tests, side-by-side instances).
  PORT: int(8080, 0, 65535),
  HOST: text().optional().transform((v) => v ?? "127.0.0.1"),
  LOG_LEVEL: oneOf(["silent", "error", "warn", "info", "debug", "trace"], "info"),
  LOG_FORMAT: oneOf(["pretty", "json"], "pretty"),
  MODEL_PROVIDER: oneOf(providerNames, "anthropic"),
  /** Serves every request with this model, whatever the client asks for. */
  MODEL_DEFAULT: text().optional(),
  SESSION_DB_PATH: text().optional(),
  /** Sessions (their turns) and usage rows older than this are deleted; 0 keeps them for ever. */
  SESSION_RETENTION_DAYS: int(30, 0),
  XDG_DATA_HOME: text().optional(),
  HOME: text().optional(),
  /** Idle time on a stream before a `ping` event keeps proxies and the client from timing out. */
  STREAM_PING_INTERVAL_MS: int(10_000, 10),
  /** Largest request body accepted; Claude Code's own limit for images and PDFs is 32 MB. */
  MAX_REQUEST_BODY_BYTES: int(32 * 1024 * 1024, 1024),
  GRACEFUL_SHUTDOWN_TIMEOUT: int(30_000, 0),
  /**
   * Seconds a connection may send nothing while its request body is read (and while the short
   * routes answer); a half-open or stalled socket is closed then. Once a messages body is read,
   * its answer takes as long as it takes (Bun's idle timeout would cut a long stream).
   */
  REQUEST_READ_TIMEOUT_SECONDS: int(30, 1, 255),
};
