import type Database from 'better-sqlite3';
import { MIGRATIONS, type Migration } from './migrations/index.js';
import { StoreError } from './store-error.js';

/**
 * Brings the database schema up to the newest migration. Each migration runs in its own transaction
 * together with the `user_version` bump, so a crash mid-way leaves the previous version intact.
 * A database newer than this code (user_version beyond the last migration) is refused rather than
 * guessed at. Returns the schema version after migrating.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.length === 0 ? 0 : migrations[migrations.length - 1]!.version;
  if (current > latest) {
    throw new StoreError(
      'UNAVAILABLE',
      `database schema version ${current} is newer than this control plane supports (${latest}); upgrade meshward`,
    );
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return Math.max(current, latest);
}
