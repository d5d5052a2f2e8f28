/**
 * Appends one JSON document per alert event to a file (JSON Lines), for log shippers that tail
 * files (Filebeat, Vector, Fluent Bit). The file is created 0600 and opened in append mode once;
 * each event is one write of one line, so a reader never sees half a line from this process.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { eventDocument, type AlertSink } from './alert-sink.js';

export function createJsonlFileSink(options: { path: string; name?: string }): AlertSink {
  let handle: Promise<FileHandle> | undefined;
  const fileHandle = (): Promise<FileHandle> => {
    handle ??= open(options.path, 'a', 0o600).catch((err: unknown) => {
      handle = undefined; // retry the open on the next event
      throw err;
    });
    return handle;
  };
  return {
    name: options.name ?? 'jsonl',
    async send(event) {
      const h = await fileHandle();
      await h.write(`${JSON.stringify({ ...eventDocument(event), source: 'meshward' })}\n`);
    },
    async close() {
      const h = handle;
      handle = undefined;
      if (h !== undefined) await (await h).close();
    },
  };
}
