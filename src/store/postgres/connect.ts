import { SQL } from "bun";
import { migratePostgres, type PgMigrations } from "./migrate.ts";

/** Bounds for one replica's pool: replicas × max must stay under the server's max_connections. */
export interface PostgresOptions {
  maxConnections?: number;
  connectionTimeoutSeconds?: number;
}

/** Connects to LYNKR_DATABASE_URL and brings every area's schema up to date before lynkr serves. */
export async function openPostgres(url: string, areas: PgMigrations, options: PostgresOptions = {}): Promise<SQL> {
  const sql = new SQL(url, { max: options.maxConnections ?? 10, connectionTimeout: options.connectionTimeoutSeconds ?? 10 });
  try {
    await migratePostgres(sql, areas);
  } catch (error) {
    await sql.close();
    throw error;
  }
  return sql;
}
