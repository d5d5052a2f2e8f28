import * as m0001 from './0001-initial.js';
import * as m0002 from './0002-ca-records.js';
import * as m0003 from './0003-closed-loop.js';
import * as m0004 from './0004-proxy-role.js';

/** One schema step. `version` is what `PRAGMA user_version` holds after it ran. */
export interface Migration {
  readonly version: number;
  readonly sql: string;
}

/** Every migration in order. Append new ones; never reorder or edit shipped ones. */
export const MIGRATIONS: readonly Migration[] = [m0001, m0002, m0003, m0004];
