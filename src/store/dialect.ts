// Which SQL dialect a Kysely instance (or one of its transactions) speaks, for
// the few places where SQLite and PostgreSQL need different SQL.
import { type Kysely, PostgresAdapter } from 'kysely';

export type DialectName = 'sqlite' | 'postgres';

export function dialectOf(db: Kysely<any>): DialectName {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}
