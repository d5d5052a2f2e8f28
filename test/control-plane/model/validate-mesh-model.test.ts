/** validateMeshModel: every bad input names the resource, the field, a code and a reason. */
import { describe, expect, it } from 'vitest';
import { sampleModel, TD } from './fixtures.js';
import {
  ModelValidationError,
  formatValidationIssue,
  validateMeshModel,
  type MeshModel,
  type ValidationIssue,
} from '../../../control-plane/src/model/index.js';

type Mutate = (m: MeshModel) => unknown;
const issues = (mutate: Mutate): string[] => {
  const m = structuredClone(sampleModel()) as MeshModel;
  const out = mutate(m);
  return validateMeshModel((out ?? m) as MeshModel).map((i: ValidationIssue) => `${i.kind}|${i.name}|${i.field}|${i.code}`);
};
const w = (m: MeshModel) => m.workloads as unknown as Record<string, unknown>[];
const models = (m: MeshModel) => m.models as unknown as Record<string, any>[];
const authz = (m: MeshModel) => m.authorizationPolicies as unknown as Record<string, any>[];

describe('validateMeshModel', () => {
  it('accepts the sample model and an empty model', () => {
    expect(validateMeshModel(sampleModel())).toEqual([]);
    expect(validateMeshModel({ mesh: { trustDomain: 'x.y' }, workloads: [], models: [], authorizationPolicies: [], rateLimits: [], dlpPolicies: [], filterModules: [] })).toEqual([]);
  });

  it.each<[string, Mutate, string[]]>([
    ['not an object', () => 42, ['mesh||<root>|invalid'.replace('<root>', '')]],
    ['bad trust domain', (m) => ({ ...m, mesh: { trustDomain: 'Example.COM' } }), ['mesh|Example.COM|trustDomain|invalid']],
    ['missing trust domain', (m) => ({ ...m, mesh: {} }), ['mesh||trustDomain|required']],
    ['bad namespace mode', (m) => ({ ...m, mesh: { trustDomain: TD, namespaceMtlsModes: { legacy: 'LOOSE' } } }), [`mesh|${TD}|namespaceMtlsModes.legacy|invalid`]],
    ['workloads not an array (and the selector naming one is now dangling)', (m) => ({ ...m, workloads: {} }), [`mesh|${TD}|workloads|invalid`, 'authorizationPolicy|echo-callers|workloads[0]|unknown_reference']],
    ['duplicate workload', (m) => void w(m).push({ ...m.workloads[0]! }), ['workload|gw/edge|name|duplicate']],
    ['bad service account', (m) => void (w(m)[0]!['serviceAccount'] = 'Edge_SA'), ['workload|gw/edge|serviceAccount|invalid']],
    ['unknown role', (m) => void (w(m)[0]!['role'] = 'ingress'), ['workload|gw/edge|role|invalid']],
    ['sidecar without serves', (m) => void delete w(m)[2]!['serves'], ['workload|models/chat-v1|serves|required']],
    ['sidecar serving an unknown version', (m) => void (w(m)[2]!['serves'] = { model: 'chat', version: 'v9' }), ['workload|models/chat-v1|serves.version|unknown_reference']],
    ['gateway exposing an unknown model', (m) => void (w(m)[1]!['models'] = ['nope']), ['workload|legacy/legacy-edge|models[0]|unknown_reference']],
    ['proxyless client naming a model with hostname endpoints', (m) => void (w(m)[3]!['models'] = ['chat']), ['workload|apps/client|models[0]|conflict']],
    ['sidecar listening on its app port', (m) => void (w(m)[2]!['listener'] = { port: 8000 }), ['workload|models/chat-v1|listener.port|conflict']],
    ['port out of range', (m) => void (w(m)[0]!['listener'] = { port: 70000 }), ['workload|gw/edge|listener.port|out_of_range']],
    ['proxyless server without port', (m) => void (w(m)[4]!['listener'] = { address: '127.0.0.1' }), ['workload|models/echo-server|listener.port|required']],
    ['duplicate model', (m) => void models(m).push({ ...models(m)[1], modelNames: ['embed-2'] }), ['model|embed|name|duplicate']],
    ['weights not summing to 100', (m) => void (models(m)[0].versions[1].weight = 20), ['model|chat|versions|conflict']],
    ['missing weight among several versions', (m) => void delete models(m)[0].versions[1].weight, ['model|chat|versions[1].weight|required']],
    ['single version weight not 100', (m) => void (models(m)[1].versions[0].weight = 50), ['model|embed|versions[0].weight|conflict']],
    ['duplicate version', (m) => void (models(m)[2].versions[1].name = 'a'), ['model|grpc-echo|versions[1].name|duplicate']],
    ['no endpoints', (m) => void (models(m)[1].versions[0].endpoints = []), ['model|embed|versions[0].endpoints|required']],
    ['bad endpoint address', (m) => void (models(m)[1].versions[0].endpoints[0].address = 'not an address'), ['model|embed|versions[0].endpoints[0].address|invalid']],
    ['endpoint weight 0', (m) => void (models(m)[1].versions[0].endpoints[0].weight = 0), ['model|embed|versions[0].endpoints[0].weight|out_of_range']],
    ['bad identity', (m) => void (models(m)[0].versions[0].identities = ['spiffe://Bad/ns/x']), ['model|chat|versions[0].identities[0]|invalid']],
    ['model name claimed twice', (m) => void (models(m)[1].modelNames = ['chat']), ['model|embed|modelNames|conflict']],
    ['path prefix without slash', (m) => void (models(m)[0].pathPrefixes = ['v1/']), ['model|chat|pathPrefixes[0]|invalid']],
    ['retries out of range', (m) => void (models(m)[0].retries = { attempts: 11 }), ['model|chat|retries.attempts|out_of_range']],
    ['policy with no rules', (m) => void (authz(m)[0]!.rules = []), ['authorizationPolicy|apps-infer|rules|required']],
    ['unknown model in a policy', (m) => void (authz(m)[0]!.rules[0].models = ['nope']), ['authorizationPolicy|apps-infer|rules[0].models[0]|unknown_reference']],
    ['bad principal wildcard', (m) => void (authz(m)[0]!.rules[0].from = [`spiffe://${TD}/ns/*/sa/x`]), ['authorizationPolicy|apps-infer|rules[0].from[0]|invalid']],
    ['principal of another trust domain', (m) => void (authz(m)[0]!.rules[0].from = ['spiffe://other.td/ns/a/sa/b']), ['authorizationPolicy|apps-infer|rules[0].from[0]|conflict']],
    ['unknown operation set', (m) => void (authz(m)[0]!.rules[0].to = ['write']), ['authorizationPolicy|apps-infer|rules[0].to[0]|invalid']],
    ['bad path pattern', (m) => void (authz(m)[2]!.rules[0].operations = [{ paths: ['/v2/mod*els'] }]), ['authorizationPolicy|try-partners|rules[0].operations[0].paths[0]|invalid']],
    ['lower-case method', (m) => void (authz(m)[2]!.rules[0].operations = [{ methods: ['post'] }]), ['authorizationPolicy|try-partners|rules[0].operations[0].methods[0]|invalid']],
    ['header regex with lookahead', (m) => void (authz(m)[0]!.rules[1].headers = [{ name: 'x-a', op: 'regex', value: '(?=a)' }]), ['authorizationPolicy|apps-infer|rules[1].headers[0].value|invalid']],
    ['header value missing', (m) => void (authz(m)[0]!.rules[1].headers = [{ name: 'x-a', op: 'prefix' }]), ['authorizationPolicy|apps-infer|rules[1].headers[0].value|required']],
    ['bad time window', (m) => void (authz(m)[1]!.rules[0].when = [{ days: ['monday'], start: '9:00', end: '25:00', timeZone: 'Mars/Base' }]), [
      'authorizationPolicy|office-hours|rules[0].when[0].days[0]|invalid',
      'authorizationPolicy|office-hours|rules[0].when[0].start|invalid',
      'authorizationPolicy|office-hours|rules[0].when[0].end|invalid',
      'authorizationPolicy|office-hours|rules[0].when[0].timeZone|invalid',
    ]],
    ['unknown workload selector', (m) => void (authz(m)[3]!.workloads = ['models/nope']), ['authorizationPolicy|echo-callers|workloads[0]|unknown_reference']],
    ['duplicate policy', (m) => void authz(m).push({ ...authz(m)[0] }), ['authorizationPolicy|apps-infer|name|duplicate']],
    ['rate limit on unknown model', (m) => void ((m.rateLimits as any)[0].model = 'nope'), ['rateLimit|chat-limit|model|unknown_reference']],
    ['two rate limits for one model', (m) => void (m.rateLimits as any).push({ name: 'again', model: 'chat', bucket: { maxTokens: 1, fillIntervalMs: 1000 } }), ['rateLimit|again|model|conflict']],
    ['fill interval under 50 ms', (m) => void ((m.rateLimits as any)[0].bucket.fillIntervalMs = 10), ['rateLimit|chat-limit|bucket.fillIntervalMs|out_of_range']],
    ['caller not an exact identity', (m) => void ((m.rateLimits as any)[0].callers[0].principal = `spiffe://${TD}`), ['rateLimit|chat-limit|callers[0].principal|invalid']],
    ['rate limit with nothing to limit', (m) => void (m.rateLimits as any).splice(0, 1, { name: 'empty', model: 'chat' }), ['rateLimit|empty|bucket|required']],
    ['two global DLP policies', (m) => void (m.dlpPolicies as any).push({ name: 'again', scope: { kind: 'global' }, config: {} }), ['dlpPolicy|again|scope|conflict']],
    ['DLP config not an object', (m) => void ((m.dlpPolicies as any)[0].config = 'redact'), ['dlpPolicy|baseline|config|invalid']],
    ['DLP for unknown model', (m) => void ((m.dlpPolicies as any)[1].scope = { kind: 'model', model: 'nope' }), ['dlpPolicy|chat-strict|scope.model|unknown_reference']],
    ['DLP with no module', (m) => void (m.filterModules as any).splice(0), ['dlpPolicy|baseline|module|unknown_reference', 'dlpPolicy|chat-strict|module|unknown_reference']],
    ['remote module without sha256', (m) => void ((m.filterModules as any)[0] = { name: 'default', source: { kind: 'remote', url: 'https://x.example/m.wasm' } }), ['filterModule|default|sha256|required']],
    ['module URL with credentials', (m) => void ((m.filterModules as any)[0] = { name: 'default', source: { kind: 'remote', url: 'https://u:p@x.example/m.wasm' }, sha256: 'a'.repeat(64) }), ['filterModule|default|source.url|invalid']],
    ['relative module path', (m) => void ((m.filterModules as any)[0].source.path = 'meshward.wasm'), ['filterModule|default|source.path|invalid']],
  ])('%s', (_label, mutate, expected) => {
    expect(issues(mutate)).toEqual(expected);
  });

  it('reasons are readable and the error carries every issue', () => {
    const m = structuredClone(sampleModel()) as MeshModel;
    models(m)[0].versions[1].weight = 20;
    const found = validateMeshModel(m);
    expect(formatValidationIssue(found[0]!)).toBe('model "chat" versions: conflict: version weights sum to 110, must sum to 100');
    const e = new ModelValidationError(found);
    expect(e.code).toBe('MODEL_INVALID');
    expect(e.message).toContain('version weights sum to 110');
  });

  it('never throws on garbage shapes', () => {
    const garbage: unknown[] = [null, [], { mesh: null }, { mesh: { trustDomain: 1 }, models: [null, 1, { versions: 'x' }] }, { workloads: [{ labels: [] }], authorizationPolicies: [{ rules: [null, { when: [null] }] }] }];
    for (const g of garbage) expect(() => validateMeshModel(g as MeshModel)).not.toThrow();
  });
});
