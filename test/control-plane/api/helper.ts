import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { createApp, type AppOptions } from '../../../control-plane/src/api/app.js';
import { issueApiToken } from '../../../control-plane/src/api/api-token.js';
import { createStore, type Store } from '../../../control-plane/src/store/store.js';

/** A test app over an in-memory store, with one admin, one viewer and one proxy token. */
export interface TestApp {
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly admin: string;
  readonly viewer: string;
  /** A `proxy`-role token (what Envoys send to POST /v1/budget-leases). */
  readonly proxy: string;
  /** inject() with the admin token unless `token` says otherwise (null: no Authorization header). */
  call(opts: InjectOptions & { token?: string | null }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function buildTestApp(options: Partial<AppOptions> & { store?: Store } = {}): Promise<TestApp> {
  const store = options.store ?? createStore({ path: ':memory:' });
  const admin = issueApiToken(store, { name: 'test-admin', role: 'admin', actor: 'test' }).token;
  const viewer = issueApiToken(store, { name: 'test-viewer', role: 'viewer', actor: 'test' }).token;
  const proxy = issueApiToken(store, { name: 'test-proxy', role: 'proxy', actor: 'test' }).token;
  const app = await createApp({ ...options, store });
  await app.ready();
  return {
    app,
    store,
    admin,
    viewer,
    proxy,
    call({ token, headers, ...rest }) {
      const auth = token === null ? {} : { authorization: `Bearer ${token ?? admin}` };
      return app.inject({ ...rest, headers: { ...auth, ...(headers ?? {}) } } as InjectOptions);
    },
    async close() {
      await app.close();
      store.close();
    },
  };
}

/** A workload body that the model accepts with no other resources. */
export function gatewayWorkload(name = 'edge', namespace = 'ai'): Record<string, unknown> {
  return { name, namespace, serviceAccount: name, role: 'gateway' };
}

/** A two-version model (v1 90 / v2 10). */
export function chatModel(name = 'chat'): Record<string, unknown> {
  return {
    name,
    modelNames: [`${name}-model`],
    versions: [
      { name: 'v1', weight: 90, endpoints: [{ address: '10.0.0.1', port: 8000 }] },
      { name: 'v2', weight: 10, endpoints: [{ address: '10.0.0.2', port: 8000 }] },
    ],
  };
}
