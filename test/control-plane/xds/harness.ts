import {
  createSnapshot,
  createSnapshotCache,
  createXdsServer,
  type SnapshotCache,
  type XdsServer,
  type XdsServerOptions,
} from './support.js';
import type { ListenOptions } from '../../../control-plane/src/xds/xds-server.js';

/** Both transports the xDS server can listen on; protocol suites run over each. */
export const TRANSPORTS = ['h2', 'grpc-js'] as const;
import { meshResources, type MeshOptions } from './fixtures.js';

export interface Harness {
  readonly cache: SnapshotCache;
  readonly server: XdsServer;
  readonly address: string;
  /** Publishes meshResources(options) as `version` for `group`. */
  publish(group: string, version: string, options?: MeshOptions): void;
  close(): Promise<void>;
}

/** A plaintext xDS server on 127.0.0.1:0 with a fresh cache. */
export async function startHarness(options: Omit<XdsServerOptions, 'cache'> = {}, listen: ListenOptions = {}): Promise<Harness> {
  const cache = createSnapshotCache();
  const server = createXdsServer({ cache, ...options });
  const port = await server.listen(listen);
  return {
    cache,
    server,
    address: `127.0.0.1:${port}`,
    publish(group, version, meshOptions = {}) {
      cache.setSnapshot(group, createSnapshot({ version, resources: meshResources(meshOptions) }));
    },
    close: () => server.close(),
  };
}

/** Polls `fn` until it returns a truthy value (or throws after `timeoutMs`). */
export async function eventually<T>(fn: () => T | undefined | false, timeoutMs = 3000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
