/**
 * A tiny durable record log behind the file-based stores: one JSON object per line, appended and
 * fsync'd before the write resolves; concurrent writes are coalesced into one append + fsync.
 * On open the log is replayed (last record per key wins; a torn last line from a crash is
 * ignored) and rewritten compacted (atomically, via a temporary file and rename). File mode 0600.
 */
import { chmod, mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface AppendLog<T> {
  /** Records as of open, in first-seen order. */
  readonly initial: readonly T[];
  /** Appends records; resolves once they are on disk. */
  append(records: readonly T[]): Promise<void>;
  /** Rewrites the log holding exactly `records` (compaction). */
  rewrite(records: readonly T[]): Promise<void>;
  close(): Promise<void>;
}

export async function openAppendLog<T>(path: string, keyOf: (record: T) => string): Promise<AppendLog<T>> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const byKey = new Map<string, T>();
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const r = JSON.parse(line) as T;
      byKey.set(keyOf(r), r);
    } catch (err) {
      // Only the last line may be torn (a crash mid-append); anything else is corruption.
      if (i < lines.length - 1 && lines.slice(i + 1).some((l) => l.trim() !== '')) {
        throw new Error(`${path}:${i + 1}: not a JSON record (${(err as Error).message})`);
      }
    }
  });
  const initial = [...byKey.values()];

  const writeAll = async (records: readonly T[]): Promise<void> => {
    const tmp = `${path}.${process.pid}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(records.map((r) => JSON.stringify(r) + '\n').join(''), 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await chmod(tmp, 0o600);
    await rename(tmp, path);
  };
  await writeAll(initial);

  let handle: FileHandle = await open(path, 'a', 0o600);
  let pending: { lines: string; waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> } | undefined;
  let flushing: Promise<void> = Promise.resolve();

  const flush = async (): Promise<void> => {
    const batch = pending;
    pending = undefined;
    if (!batch) return;
    try {
      await handle.write(batch.lines);
      await handle.datasync();
      batch.waiters.forEach((w) => w.resolve());
    } catch (err) {
      batch.waiters.forEach((w) => w.reject(err));
    }
  };

  return {
    initial,
    append(records) {
      return new Promise<void>((resolve, reject) => {
        const lines = records.map((r) => JSON.stringify(r) + '\n').join('');
        if (pending) {
          pending.lines += lines;
          pending.waiters.push({ resolve, reject });
          return;
        }
        pending = { lines, waiters: [{ resolve, reject }] };
        flushing = flushing.then(flush);
      });
    },
    async rewrite(records) {
      await flushing;
      await handle.close();
      await writeAll(records);
      handle = await open(path, 'a', 0o600);
    },
    async close() {
      await flushing;
      await handle.close();
    },
  };
}
