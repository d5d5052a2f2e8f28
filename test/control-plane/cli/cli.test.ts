import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../control-plane/src/cli/main.js';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { BootstrapSchema } from '../../../control-plane/src/gen/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { envoyRegistry } from '../../../control-plane/src/translate/index.js';
import { anyUnpack, type Any } from '@bufbuild/protobuf/wkt';
import { UpstreamTlsContextSchema } from '../../../control-plane/src/gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { SubjectAltNameMatcher_SanType, type CertificateValidationContext } from '../../../control-plane/src/gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { runIn, startCliHarness, type CliHarness } from './cli-harness.js';

let h: CliHarness;
beforeAll(async () => {
  h = await startCliHarness();
}, 30_000);
afterAll(() => h?.close());

const MESH_YAML = `# three resources, in the wrong order on purpose (apply sorts by dependency)
kind: DlpPolicy
name: global
scope: { kind: global }
config:
  detectors:
    email: redact
    credit_card: block
---
kind: Model
name: chat
modelNames: [gpt-4o-mini]
versions:
  - name: v1
    weight: 90
    endpoints: [{ address: 10.0.0.1, port: 8000 }]
  - name: v2
    weight: 10
    endpoints: [{ address: 10.0.0.2, port: 8000 }]
---
kind: FilterModule
name: default
source: { kind: local, path: /etc/meshward/meshward.wasm }
---
kind: Workload
name: edge
namespace: ai
serviceAccount: edge
role: gateway
labels: { app: edge }
`;

function write(name: string, text: string): string {
  writeFileSync(join(h.workDir, name), text);
  return name;
}

describe('meshward CLI', () => {
  it('prints help for every command (exit 0) and refuses unknown commands and flags (exit 2)', async () => {
    const top = await h.run(['--help']);
    expect(top.code).toBe(0);
    for (const c of COMMANDS) {
      expect(top.stdout).toContain(c.words.join(' '));
      const r = await h.run([...c.words, '--help']);
      expect(r.code, c.words.join(' ')).toBe(0);
      expect(r.stdout).toContain(`usage: meshward ${c.words.join(' ')}`);
    }
    expect((await h.run([])).code).toBe(2);
    const unknown = await h.run(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
    const badFlag = await h.run(['get', 'models', '--colour']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/--colour/);
    const group = await h.run(['envoy']);
    expect(group.code).toBe(2);
    expect(group.stderr).toMatch(/bootstrap/);
    expect((await h.run(['get', 'gizmos'])).stderr).toMatch(/unknown kind "gizmos" \(known: mesh, workloads/);
  });

  it('exits 4 with a clear message without a token, with a bad token, and when nothing listens', async () => {
    const none = await h.run(['get', 'models'], { noConnection: true, env: { MESHWARD_URL: h.url, MESHWARD_DATA_DIR: join(h.workDir, 'nowhere') } });
    expect(none.code).toBe(4);
    expect(none.stderr).toMatch(/no API token: .*admin-token/);
    const bad = await h.run(['get', 'models', '--token', 'mw_nope_nope']);
    expect(bad.code).toBe(4);
    expect(bad.stderr).toMatch(/refused the token from --token \(401\)/);
    const down = await h.run(['get', 'models', '--url', 'http://127.0.0.1:9']);
    expect(down.code).toBe(4);
    expect(down.stderr).toMatch(/cannot reach the control plane at http:\/\/127\.0\.0\.1:9/);
  });

  it('apply --dry-run of new resources that reference each other: shown, nothing written', async () => {
    const file = write('mesh.yaml', MESH_YAML);
    const revision = h.cp.store.revision;
    const dry = await h.run(['apply', '-f', file, '--dry-run']);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('models/chat would be created:\n+ modelNames:\n+   - gpt-4o-mini\n');
    expect(dry.stdout).toMatch(/^workloads\/ai\/edge created \(dry run\)$/m);
    // The policy names no module; the server alone cannot see the module this apply would create.
    expect(dry.stdout).toMatch(/^dlp-policies\/global: not checked by the server in a dry run/m);
    expect(dry.stdout).toContain('dry run: nothing was written');
    expect(h.cp.store.revision).toBe(revision);
    expect((await h.run(['get', 'models'])).stdout).toBe('no models\n');
  });

  it('apply creates in dependency order, then is idempotent (no write, no new config version)', async () => {
    const file = write('mesh.yaml', MESH_YAML);
    const first = await h.run(['apply', '-f', file]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout.trim().split('\n').map((l) => l.replace(/ \(config version \d+\)$/, ''))).toEqual([
      'workloads/ai/edge created',
      'models/chat created',
      'filter-modules/default created',
      'dlp-policies/global created',
    ]);
    const revision = h.cp.store.revision;
    const again = await h.run(['apply', '-f', file]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('workloads/ai/edge unchanged\nmodels/chat unchanged\nfilter-modules/default unchanged\ndlp-policies/global unchanged\n');
    expect(h.cp.store.revision).toBe(revision);
  });

  it('apply --dry-run shows a diff, is checked by the server, and writes nothing', async () => {
    const changed = write('changed.yaml', MESH_YAML.replace('weight: 90', 'weight: 50').replace('weight: 10', 'weight: 50'));
    const revision = h.cp.store.revision;
    const dry = await h.run(['apply', '-f', changed, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('models/chat would be configured:');
    expect(dry.stdout).toMatch(/^- +weight: 90$/m);
    expect(dry.stdout).toMatch(/^\+ +weight: 50$/m);
    expect(dry.stdout).toContain('models/chat configured (dry run)');
    expect(dry.stdout).toContain('dlp-policies/global unchanged');
    expect(dry.stdout).toContain('dry run: nothing was written');
    expect(h.cp.store.revision).toBe(revision);

    // The server's checks run in a dry run too: weights must sum to 100.
    const invalid = write('invalid.yaml', MESH_YAML.replace('weight: 90', 'weight: 95'));
    const refused = await h.run(['apply', '-f', invalid, '--dry-run']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^meshward: 4\d\d /);
    expect(h.cp.store.revision).toBe(revision);

    const applied = await h.run(['apply', '-f', changed]);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/^models\/chat configured \(config version \d+\)$/m);
    expect(h.cp.store.revision).toBeGreaterThan(revision);
  });

  it('apply refuses bad files naming the document and field (exit 2)', async () => {
    const cases: [string, RegExp][] = [
      ['kind: Model\nname: x\n---\nname: y\n', /#2: kind: required/],
      ['kind: Gizmo\nname: x\n', /#1: kind: unknown kind "Gizmo"/],
      ['kind: Workload\nname: w\n', /#1: namespace: required for Workload/],
      ['{"kind": "Model"', /not valid JSON/],
      ['kind: Model\nname: a\n---\nkind: model\nname: a\n', /models\/a appears twice/],
    ];
    for (const [text, err] of cases) {
      const r = await h.run(['apply', '-f', write('bad.yaml', text)]);
      expect(r.code, text).toBe(2);
      expect(r.stderr).toMatch(err);
    }
    const missing = await h.run(['apply', '-f', 'missing.yaml']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/-f missing\.yaml: cannot read \(ENOENT\)/);
  });

  it('get lists as a table and shows one resource as YAML or JSON that apply takes back unchanged', async () => {
    const list = await h.run(['get', 'models']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^NAME +MODEL NAMES +VERSIONS \(WEIGHT\) +VERSION$/m);
    expect(list.stdout).toMatch(/^chat +gpt-4o-mini +v1\(50\) v2\(50\) +\d+$/m);
    const wl = await h.run(['get', 'wl', '-n', 'ai']);
    expect(wl.stdout).toMatch(/^ai +edge +gateway +spiffe:\/\/meshward\.local\/ns\/ai\/sa\/edge/m);
    const one = await h.run(['get', 'dlp', 'global', '-o', 'json']);
    expect(JSON.parse(one.stdout)).toMatchObject({ kind: 'DlpPolicy', name: 'global', config: { detectors: { email: 'redact' } } });
    const yaml = await h.run(['get', 'models', 'chat']);
    expect(parse(yaml.stdout)).toMatchObject({ kind: 'Model', name: 'chat' });
    const back = await h.run(['apply', '-f', write('roundtrip.yaml', yaml.stdout)]);
    expect(back.stdout).toBe('models/chat unchanged\n');
    const nf = await h.run(['get', 'models', 'nope']);
    expect(nf.code).toBe(3);
    expect(nf.stderr).toMatch(/404/);
    expect((await h.run(['get', 'workloads', 'edge'])).code).toBe(2); // namespaced, no -n
  });

  it('the mesh singleton: get shows it, apply of the same is unchanged, a change is a PUT with If-Match', async () => {
    const got = await h.run(['get', 'mesh']);
    expect(got.code).toBe(0);
    const mesh = parse(got.stdout) as Record<string, unknown>;
    expect(mesh).toMatchObject({ kind: 'Mesh', trustDomain: 'meshward.local' });
    expect((await h.run(['apply', '-f', write('mesh-same.yaml', got.stdout)])).stdout).toBe('mesh unchanged\n');
    const changed = { kind: 'Mesh', trustDomain: 'meshward.local', mtlsMode: mesh['mtlsMode'] === 'PERMISSIVE' ? 'STRICT' : 'PERMISSIVE' };
    const r = await h.run(['apply', '-f', write('mesh-changed.json', JSON.stringify(changed))]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^mesh configured \(config version \d+\)$/m);
    expect(parse((await h.run(['get', 'mesh'])).stdout)).toMatchObject({ mtlsMode: changed.mtlsMode });
    expect((await h.run(['apply', '-f', write('mesh-back.yaml', got.stdout)])).code).toBe(0);
  });

  it('fleet prints a status line and table; audit prints who changed what', async () => {
    const fleet = await h.run(['fleet']);
    expect(fleet.code).toBe(0);
    expect(fleet.stdout).toMatch(/^config version \d+; 0 Envoy stream\(s\) connected, 0 in sync$/m);
    const audit = await h.run(['audit', '--tail', '3']);
    expect(audit.code).toBe(0);
    const lines = audit.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.at(-1)).toMatch(/bootstrap-admin +update mesh\/\S+ +v\d+→v\d+ +rev \d+/);
    expect(audit.stdout).toMatch(/bootstrap-admin +update mesh\/\S+/);
    expect((await h.run(['audit', '--tail', '0'])).code).toBe(2);
  });

  it('audit --follow prints entries written after it started, and stops on abort', async () => {
    const ac = new AbortController();
    const following = h.run(['audit', '--tail', '1', '--follow', '--interval', '50'], { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 150));
    const del = await h.run(['delete', 'dlp-policies', 'global']);
    expect(del.code).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    ac.abort();
    const r = await following;
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/delete dlp-policies\/global/);
  });

  it('delete: exit 3 when missing, 0 with --ignore-not-found, 2 for the mesh', async () => {
    const missing = await h.run(['delete', 'dlp-policies', 'global']);
    expect(missing.code).toBe(3);
    const ignored = await h.run(['delete', 'dlp-policies', 'global', '--ignore-not-found']);
    expect(ignored.code).toBe(0);
    expect(ignored.stdout).toBe('dlp-policies/global not found (ignored)\n');
    expect((await h.run(['delete', 'mesh', 'x'])).code).toBe(2);
  });

  it('envoy bootstrap prints a bootstrap with a fresh join token that decodes into the Bootstrap proto', async () => {
    const r = await h.run(['envoy', 'bootstrap', '--identity', 'spiffe://meshward.local/ns/ai/sa/edge', '--node-id', 'edge-1', '--xds-address', 'meshward-cp:18000']);
    expect(r.stderr).toMatch(/issued join token \w+ for spiffe:\/\/meshward\.local\/ns\/ai\/sa\/edge/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^# meshward Envoy bootstrap \(gateway\) for spiffe:\/\/meshward\.local\/ns\/ai\/sa\/edge/);
    const json = parse(r.stdout) as any;
    const b = fromJson(BootstrapSchema, json as JsonValue, { registry: envoyRegistry });
    expect(b.node!.id).toBe('edge-1');
    expect(json.node.metadata).toEqual({ role: 'gateway', 'meshward.workload': 'ai/edge', labels: { app: 'edge' } });
    const token = json.dynamic_resources.ads_config.grpc_services[0].initial_metadata[0].value as string;
    expect(token).toMatch(/^mwj_/);
    const xds = json.static_resources.clusters.find((c: any) => c.name === 'xds_cluster');
    expect(xds.type).toBe('STRICT_DNS');
    expect(xds.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address).toEqual({ address: 'meshward-cp', port_value: 18000 });
    // The control plane knows the token it just issued.
    const tokens = await fetch(`${h.url}/v1/workloads/ai/edge/join-tokens`, { headers: { authorization: `Bearer ${(await import('node:fs')).readFileSync(join(h.dataDir, 'admin-token'), 'utf8').trim()}` } });
    expect(((await tokens.json()) as any).items.length).toBeGreaterThanOrEqual(1);
  });

  it('envoy bootstrap --xds-ca-file puts TLS on xds_cluster and meshward_als, pinned to the control plane\'s name', async () => {
    const r = await h.run(['envoy', 'bootstrap', '-i', 'spiffe://meshward.local/ns/ai/sa/edge', '--xds-address', 'meshward-cp:18000', '--xds-ca-file', '/etc/meshward/ca-bundle.pem']);
    expect(r.code).toBe(0);
    const json = parse(r.stdout) as any;
    const b = fromJson(BootstrapSchema, json as JsonValue, { registry: envoyRegistry });
    for (const name of ['xds_cluster', 'meshward_als']) {
      const cluster = b.staticResources!.clusters.find((c) => c.name === name)!;
      expect(cluster.transportSocket?.name, name).toBe('envoy.transport_sockets.tls');
      const tls = anyUnpack(cluster.transportSocket!.configType.value as Any, UpstreamTlsContextSchema)!;
      expect(tls.sni).toBe('meshward-cp');
      expect(tls.commonTlsContext!.alpnProtocols).toEqual(['h2']);
      const vc = tls.commonTlsContext!.validationContextType;
      expect(vc.case).toBe('validationContext');
      const ctx = vc.value as CertificateValidationContext;
      expect(ctx.trustedCa?.specifier).toEqual({ case: 'filename', value: '/etc/meshward/ca-bundle.pem' });
      expect(ctx.matchTypedSubjectAltNames.map((m) => [m.sanType, m.matcher?.matchPattern])).toEqual([[SubjectAltNameMatcher_SanType.DNS, { case: 'exact', value: 'meshward-cp' }]]);
    }
    // An IP address is matched as an IP SAN, with no SNI.
    const ip = parse((await h.run(['envoy', 'bootstrap', '-i', 'spiffe://meshward.local/ns/ai/sa/edge', '--xds-address', '10.0.0.5:18000', '--xds-ca-file', '/etc/ca.pem'])).stdout) as any;
    const cfg = ip.static_resources.clusters.find((c: any) => c.name === 'xds_cluster').transport_socket.typed_config;
    expect(cfg.sni).toBeUndefined();
    expect(cfg.common_tls_context.validation_context.match_typed_subject_alt_names).toEqual([{ san_type: 'IP_ADDRESS', matcher: { exact: '10.0.0.5' } }]);
    // Without the flag there is no transport socket (plaintext, as the loopback default).
    const plain = parse((await h.run(['envoy', 'bootstrap', '-i', 'spiffe://meshward.local/ns/ai/sa/edge'])).stdout) as any;
    expect(plain.static_resources.clusters.every((c: any) => c.transport_socket === undefined)).toBe(true);
    const rel = await h.run(['envoy', 'bootstrap', '-i', 'spiffe://meshward.local/ns/ai/sa/edge', '--xds-ca-file', 'ca.pem']);
    expect(rel.code).toBe(2);
    expect(rel.stderr).toMatch(/--xds-ca-file: "ca.pem" must be an absolute path/);
  });

  it('envoy bootstrap for a sidecar uses the sidecar template; --admin-port and --ttl apply', async () => {
    const file = write('sidecar.yaml', 'kind: Workload\nname: chat-v1\nnamespace: models\nserviceAccount: chat\nrole: sidecar\nserves: { model: chat, version: v1 }\n');
    const applied = await h.run(['apply', '-f', file]);
    expect(applied.stderr).toBe('');
    const r = await h.run(['envoy', 'bootstrap', '-i', 'spiffe://meshward.local/ns/models/sa/chat', '--admin-port', '19902', '--ttl', '600']);
    expect(r.stderr).toMatch(/issued join token/);
    expect(r.code).toBe(0);
    const json = parse(r.stdout) as any;
    fromJson(BootstrapSchema, json as JsonValue, { registry: envoyRegistry });
    expect(json.node.metadata).toEqual({ role: 'sidecar', 'meshward.workload': 'models/chat-v1' });
    expect(json.node.id).toMatch(/^chat-v1-[0-9a-f]{6}$/);
    expect(json.node.cluster).toBe('meshward-sidecar');
    expect(json.admin.address.socket_address.port_value).toBe(19902);
    const expires = Date.parse(/expires (\S+)\)/.exec(r.stderr)![1]!);
    expect(expires - Date.now()).toBeLessThanOrEqual(600_000);
    expect(expires - Date.now()).toBeGreaterThan(500_000);
    expect((await h.run(['envoy', 'bootstrap', '-i', 'spiffe://meshward.local/ns/models/sa/chat', '--ttl', '0'])).code).toBe(2);
  });

  it('envoy bootstrap refuses a bad identity (2) and an unknown one (3)', async () => {
    const bad = await h.run(['envoy', 'bootstrap', '--identity', 'spiffe://x/y']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not a workload SPIFFE ID/);
    const unknown = await h.run(['envoy', 'bootstrap', '--identity', 'spiffe://meshward.local/ns/ai/sa/ghost']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(/no workload with identity .*ghost; register one first/);
    expect((await h.run(['envoy', 'bootstrap', '--identity', 'spiffe://meshward.local/ns/ai/sa/edge', '--role', 'ingress'])).code).toBe(2);
  });

  it('istio wasmplugin prints a WasmPlugin for a stored policy', async () => {
    write('p.yaml', 'kind: DlpPolicy\nname: strict\nscope: { kind: global }\nfailureMode: FAIL_OPEN\nconfig: { detectors: { email: block } }\n');
    expect((await h.run(['apply', '-f', 'p.yaml'])).code).toBe(0);
    const digest = 'a'.repeat(64);
    const r = await h.run(['istio', 'wasmplugin', '--policy', 'strict', '--module-url', 'oci://ghcr.io/acme/meshward-filter:0.1.0', '--sha256', digest, '-n', 'ai', '-l', 'app=chat', '--phase', 'authz']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const docs = parseAllDocuments(r.stdout);
    const wp = (Array.isArray(docs) ? docs[0]! : docs).toJS();
    expect(wp).toMatchObject({
      apiVersion: 'extensions.istio.io/v1alpha1',
      kind: 'WasmPlugin',
      metadata: { name: 'meshward-strict', namespace: 'ai' },
      spec: { url: 'oci://ghcr.io/acme/meshward-filter:0.1.0', sha256: digest, phase: 'AUTHZ', failStrategy: 'FAIL_OPEN', selector: { matchLabels: { app: 'chat' } }, pluginConfig: { detectors: { email: 'block' } } },
    });
    const bad = await h.run(['istio', 'wasmplugin', '--policy', 'strict', '--module-url', 'https://example.com/m.wasm']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/sha256.*required for https/);
    expect((await h.run(['istio', 'wasmplugin', '--policy', 'nope', '--module-url', 'oci://r/x:1'])).code).toBe(3);
    expect((await h.run(['istio', 'wasmplugin', '--module-url', 'oci://r/x:1'])).code).toBe(2);
    // The module is referenced by the policy: the control plane refuses, the CLI exits 1 with its reason.
    const referenced = await h.run(['delete', 'filter-modules', 'default']);
    expect(referenced.code).toBe(1);
    expect(referenced.stderr).toMatch(/^meshward: 409 /);
  });
});

describe('envoy/compose/meshward.yaml (what the compose tour and npm run demo apply)', () => {
  it('is accepted by the control plane, then unchanged on a second apply; explain allows the demo client only', async () => {
    const file = fileURLToPath(new URL('../../../envoy/compose/meshward.yaml', import.meta.url));
    await h.run(['delete', 'dlp-policies', 'strict', '--ignore-not-found']);
    await h.run(['delete', 'dlp-policies', 'global', '--ignore-not-found']);
    const r = await h.run(['apply', '-f', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((await h.run(['apply', '-f', file])).stdout).not.toMatch(/created|configured/);
    const token = readFileSync(join(h.dataDir, 'admin-token'), 'utf8').trim();
    const explain = async (caller: string) =>
      ((await (await fetch(`${h.url}/v1/explain`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ caller, model: 'gpt-4o-mini', operation: 'infer' }) })).json()) as { decision: string });
    expect((await explain('spiffe://meshward.local/ns/demo/sa/client')).decision).toBe('ALLOW');
    expect((await explain('spiffe://meshward.local/ns/demo/sa/intruder')).decision).toBe('DENY');
  });
});

describe('meshward scan (the real compiled filter, no control plane)', () => {
  const dir = () => h.workDir;
  it('redacts an email and shows what the model server receives', async () => {
    writeFileSync(join(dir(), 'policy.yaml'), 'kind: DlpPolicy\nname: global\nscope: { kind: global }\nconfig:\n  detectors: { email: redact, credit_card: block }\n');
    writeFileSync(join(dir(), 'prompt.json'), JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'mail jane.doe@corp.example now' }] }));
    const r = await runIn(['scan', 'prompt.json', '--policy', 'policy.yaml'], dir());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^verdict: redact$/m);
    expect(r.stdout).toMatch(/^email +redact +1$/m);
    expect(r.stdout).toContain('"content":"mail [EMAIL] now"');
    expect(r.stdout).not.toContain('jane.doe@corp.example');
  });

  it('blocks a card number: local reply, --fail-on exits 5, -o json has the findings', async () => {
    writeFileSync(join(dir(), 'card.json'), JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'pay with 4111 1111 1111 1111' }] }));
    const r = await runIn(['scan', 'card.json', '--policy', 'policy.yaml'], dir());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^verdict: block$/m);
    expect(r.stdout).toMatch(/blocked: the proxy answers 4\d\d itself/);
    const failed = await runIn(['scan', 'card.json', '--policy', 'policy.yaml', '--fail-on', 'redact'], dir());
    expect(failed.code).toBe(5);
    const json = JSON.parse((await runIn(['scan', 'card.json', '--policy', 'policy.yaml', '-o', 'json'], dir())).stdout);
    expect(json).toMatchObject({ verdict: 'block', findings: [{ detector: 'credit_card', action: 'block' }] });
  });

  it('scans a streamed response split across SSE events', async () => {
    const ev = (c: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: c } }] })}\n\n`;
    writeFileSync(join(dir(), 'reply.sse'), ev('key AKIAIOSFOD') + ev('NN7EXAMPLE done') + 'data: [DONE]\n\n');
    writeFileSync(join(dir(), 'secrets.json'), JSON.stringify({ detectors: { aws_access_key: 'redact' } }));
    const r = await runIn(['scan', 'reply.sse', '--policy', 'secrets.json', '--direction', 'response'], dir());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^verdict: redact$/m);
    expect(r.stdout).toMatch(/^aws_access_key +redact +1$/m);
    expect(r.stdout).not.toContain('AKIAIOSFODNN7EXAMPLE');
  });

  it('takes the DlpPolicy out of a multi-document resource file (--policy-name when several)', async () => {
    const file = fileURLToPath(new URL('../../../envoy/compose/meshward.yaml', import.meta.url));
    const r = await runIn(['scan', 'card.json', '--policy', file], dir());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^verdict: block$/m);
    writeFileSync(join(dir(), 'two.yaml'), 'kind: DlpPolicy\nname: a\nscope: { kind: global }\nconfig: { detectors: { email: block } }\n---\nkind: DlpPolicy\nname: b\nscope: { kind: model, model: chat }\nconfig: { detectors: { email: alert } }\n');
    const several = await runIn(['scan', 'prompt.json', '--policy', 'two.yaml'], dir());
    expect(several.code).toBe(2);
    expect(several.stderr).toMatch(/several DlpPolicies \(a, b\): pick one with --policy-name/);
    const b = await runIn(['scan', 'prompt.json', '--policy', 'two.yaml', '--policy-name', 'b'], dir());
    expect(b.stdout).toMatch(/^verdict: alert$/m);
    expect((await runIn(['scan', 'prompt.json', '--policy', 'two.yaml', '--policy-name', 'c'], dir())).stderr).toMatch(/no DlpPolicy "c" in two\.yaml \(it has a, b\)/);
    writeFileSync(join(dir(), 'models-only.yaml'), 'kind: Model\nname: m\n');
    expect((await runIn(['scan', 'prompt.json', '--policy', 'models-only.yaml'], dir())).stderr).toMatch(/no DlpPolicy in it \(kinds: Model\)/);
  });

  it('refuses a policy the filter refuses, naming the field (exit 2), and bad flags', async () => {
    writeFileSync(join(dir(), 'bad-policy.json'), JSON.stringify({ detectors: { email: 'shout' } }));
    const r = await runIn(['scan', 'prompt.json', '--policy', 'bad-policy.json'], dir());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the filter refused the policy: .*email/);
    expect((await runIn(['scan', 'prompt.json'], dir())).stderr).toMatch(/--policy: required/);
    expect((await runIn(['scan', 'prompt.json', '--policy', 'policy.yaml', '--direction', 'up'], dir())).code).toBe(2);
    expect((await runIn(['scan', 'nope.json', '--policy', 'policy.yaml'], dir())).stderr).toMatch(/payload nope\.json: cannot read \(ENOENT\)/);
  });
});
