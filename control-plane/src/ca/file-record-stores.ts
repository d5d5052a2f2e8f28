/**
 * File-based IssuedCertificateStore and JoinTokenStore: the in-memory stores, made durable by an
 * append-only JSON-lines log each (see append-log.ts). Suitable for a single control plane
 * process; the REST API layer provides SQLite ones. Join tokens are stored as hashes only.
 */
import { join } from 'node:path';
import { openAppendLog } from './append-log.js';
import { createMemoryIssuedCertificateStore, type IssuedCertificateRecord, type IssuedCertificateStore } from './issued-certificate-store.js';
import { createMemoryJoinTokenStore, type JoinTokenRecord, type JoinTokenStore } from './join-token-store.js';

/** Compacts the log when it holds this many more lines than live records. */
const COMPACT_SLACK = 10_000;

export interface FileRecordStore {
  /** Flushes and closes the log. */
  close(): Promise<void>;
}

/** `<dir>/issued-certificates.jsonl` */
export async function createFileIssuedCertificateStore(dir: string): Promise<IssuedCertificateStore & FileRecordStore> {
  const log = await openAppendLog<IssuedCertificateRecord>(join(dir, 'issued-certificates.jsonl'), (r) => r.serialNumber);
  const mem = createMemoryIssuedCertificateStore();
  for (const r of log.initial) await mem.add(r);
  let live = log.initial.length;
  let lines = live;
  const maybeCompact = async (force = false): Promise<void> => {
    if (!force && lines - live < COMPACT_SLACK) return;
    const all: IssuedCertificateRecord[] = [];
    let page = await mem.list({ limit: 1000 });
    all.push(...page.items);
    while (page.nextCursor !== undefined) {
      page = await mem.list({ limit: 1000, cursor: page.nextCursor });
      all.push(...page.items);
    }
    await log.rewrite(all);
    lines = all.length;
  };
  return {
    ...mem,
    async add(r) {
      await mem.add(r);
      live++;
      lines++;
      await log.append([r]);
    },
    async update(r) {
      await mem.update(r);
      lines++;
      await log.append([r]);
      await maybeCompact();
    },
    async pruneExpired(before) {
      const n = await mem.pruneExpired(before);
      live -= n;
      if (n > 0) await maybeCompact(true);
      return n;
    },
    close: () => log.close(),
  };
}

/** `<dir>/join-tokens.jsonl` */
export async function createFileJoinTokenStore(dir: string): Promise<JoinTokenStore & FileRecordStore> {
  const log = await openAppendLog<JoinTokenRecord>(join(dir, 'join-tokens.jsonl'), (r) => r.tokenId);
  const mem = createMemoryJoinTokenStore();
  for (const r of log.initial) await mem.add(r);
  let lines = log.initial.length;
  const compact = async (force = false): Promise<void> => {
    const all = await mem.list();
    if (!force && lines - all.length < COMPACT_SLACK) return;
    await log.rewrite(all);
    lines = all.length;
  };
  return {
    ...mem,
    async add(r) {
      await mem.add(r);
      lines++;
      await log.append([r]);
    },
    async update(r) {
      await mem.update(r);
      lines++;
      await log.append([r]);
      await compact();
    },
    async pruneExpired(before) {
      const n = await mem.pruneExpired(before);
      if (n > 0) await compact(true);
      return n;
    },
    close: () => log.close(),
  };
}
