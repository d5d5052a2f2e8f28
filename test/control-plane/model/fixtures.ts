/** A realistic mesh model used across model/ and translate/ tests (valid as is). */
import type { MeshModel } from '../../../control-plane/src/model/mesh-model.js';

export const TD = 'meshward.test';

export function sampleModel(): MeshModel {
  return {
    mesh: { trustDomain: TD, mtlsMode: 'STRICT', namespaceMtlsModes: { legacy: 'PERMISSIVE' } },
    workloads: [
      { name: 'edge', namespace: 'gw', serviceAccount: 'edge', role: 'gateway', labels: { app: 'edge' }, listener: { port: 8443 } },
      { name: 'legacy-edge', namespace: 'legacy', serviceAccount: 'edge', role: 'gateway', models: ['embed'], labels: { app: 'legacy' } },
      { name: 'chat-v1', namespace: 'models', serviceAccount: 'chat', role: 'sidecar', serves: { model: 'chat', version: 'v1', appPort: 8000 } },
      { name: 'client', namespace: 'apps', serviceAccount: 'client', role: 'proxyless', models: ['grpc-echo'] },
      {
        name: 'echo-server', namespace: 'models', serviceAccount: 'echo', role: 'proxyless',
        serves: { model: 'grpc-echo', version: 'a' }, listener: { address: '127.0.0.1', port: 50051 }, models: [],
      },
    ],
    models: [
      {
        name: 'chat',
        modelNames: ['gpt-4o-mini', 'chat'],
        pathPrefixes: ['/v1/'],
        dedicatedPathPrefixes: ['/v2/models/chat/'],
        versions: [
          { name: 'v1', weight: 90, endpoints: [{ address: '10.0.0.1', port: 15006, locality: { region: 'eu', zone: 'a' } }, { address: '10.0.0.2', port: 15006, weight: 3, locality: { region: 'eu', zone: 'b' } }], identities: [`spiffe://${TD}/ns/models/sa/chat`] },
          { name: 'v2', weight: 10, endpoints: [{ address: 'chat-v2.models.svc', port: 15006 }] },
        ],
        retries: { attempts: 3, perTryTimeoutMs: 20_000, retryOn: ['connect-failure', 'retriable-status-codes'], retriableStatusCodes: [503] },
        timeoutMs: 120_000,
        idleTimeoutMs: 60_000,
      },
      {
        name: 'embed',
        versions: [{ name: 'v1', endpoints: [{ address: '10.0.1.1', port: 8000 }], upstreamTls: 'DISABLE' }],
        protocol: 'http2',
      },
      {
        name: 'grpc-echo',
        protocol: 'grpc',
        versions: [
          { name: 'a', weight: 50, endpoints: [{ address: '127.0.0.1', port: 50051 }] },
          { name: 'b', weight: 50, endpoints: [{ address: '127.0.0.1', port: 50052, locality: { zone: 'z2' } }] },
        ],
      },
    ],
    authorizationPolicies: [
      {
        name: 'apps-infer',
        rules: [
          { from: [`spiffe://${TD}/ns/apps/*`], to: ['infer', 'read_models'], models: ['chat'] },
          { from: [`spiffe://${TD}/ns/ops/sa/admin`], to: ['admin'], headers: [{ name: 'x-ops-ticket', op: 'present' }] },
        ],
      },
      {
        name: 'office-hours',
        rules: [{ from: [`spiffe://${TD}/*`], to: ['infer'], when: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00', timeZone: 'Europe/Paris' }] }],
      },
      { name: 'try-partners', dryRun: true, rules: [{ from: ['*'], operations: [{ methods: ['POST'], paths: ['/v2/models/*/infer'] }] }] },
      { name: 'echo-callers', workloads: ['models/echo-server'], rules: [{ operations: [{ paths: ['/grpc.testing.TestService/*'] }] }] },
    ],
    rateLimits: [
      {
        name: 'chat-limit',
        model: 'chat',
        bucket: { maxTokens: 100, tokensPerFill: 10, fillIntervalMs: 1000 },
        callers: [{ principal: `spiffe://${TD}/ns/apps/sa/batch`, bucket: { maxTokens: 5, fillIntervalMs: 60_000 } }],
      },
    ],
    dlpPolicies: [
      { name: 'baseline', scope: { kind: 'global' }, config: { mode: 'enforce', detectors: { email: 'redact', credit_card: 'block' } } },
      { name: 'chat-strict', scope: { kind: 'model', model: 'chat' }, config: { mode: 'enforce', detectors: { aws_access_key: 'block' } }, failureMode: 'FAIL_OPEN' },
    ],
    filterModules: [{ name: 'default', source: { kind: 'local', path: '/etc/meshward/meshward.wasm' } }],
  };
}
