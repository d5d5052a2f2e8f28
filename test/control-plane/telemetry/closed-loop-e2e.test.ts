/**
 * The loop end to end, all real, on 127.0.0.1: the control plane (createControlPlane: SQLite store,
 * CA, controller, ADS, REST API, and the closed loop it starts, with the webhook sink from its
 * settings), an Envoy-like ADS client holding the gateway's routes, an Envoy-like ALS client
 * streaming access logs to the xDS port (as the bootstraps' `meshward_als` cluster does), and a
 * webhook receiver verifying HMAC signatures. Bad canary traffic must: move signals, fire an alert that
 * reaches the webhook, roll the canary back through the store, and the ADS client must receive
 * the restored weights.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseSettings } from '../../../control-plane/src/config/index.js';
import { createControlPlane, type ControlPlane } from '../../../control-plane/src/control-plane.js';
import type { RouteConfiguration } from '../../../control-plane/src/gen/envoy/config/route/v3/route_pb.js';
import { gatewayListenerName } from '../../../control-plane/src/translate/names.js';
import { TypeUrl } from '../../../control-plane/src/xds/type-urls.js';
import type { ClosedLoop } from '../../../control-plane/src/telemetry/closed-loop.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhook } from '../../../control-plane/src/alerts/webhook-sink.js';
import { SotwAdsClient } from '../../xds-clients/sotw-ads-client.js';
import { encodeBatch, encodeTcpBatch, httpEntry, openAlsStream, tlsFailureEntry } from './envoy-als-client.js';

const SECRET = 'e2e-webhook-secret-0123456789';
const TD = 'spiffe://meshward.local';
const good = `${TD}/ns/apps/sa/chatbot`;
const intruder = `${TD}/ns/apps/sa/intruder`;

interface Received {
  body: any;
  verified: boolean;
}

/** The model's traffic split in the gateway's routes (version-pinning routes, matched on the pin header, skipped). */
function weightsByCluster(rc: RouteConfiguration | undefined): Record<string, number> {
  for (const vh of rc?.virtualHosts ?? []) {
    for (const r of vh.routes) {
      if (r.action.case !== 'route') continue;
      const cs = r.action.value.clusterSpecifier;
      if (cs.case === 'weightedClusters') return Object.fromEntries(cs.value.clusters.map((c) => [c.name, c.weight ?? 0]));
      const pinned = r.match?.headers.some((h) => h.name === 'x-meshward-model-version') ?? false;
      if (cs.case === 'cluster' && cs.value.startsWith('model|chat|') && !pinned) return { [cs.value]: 100 };
    }
  }
  return {};
}

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('closed loop end to end', () => {
  let dir: string;
  let cp: ControlPlane;
  let loop: ClosedLoop;
  let hook: Server;
  let hookUrl: string;
  let alsAddress: string;
  const received: Received[] = [];
  let api: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: any; headers: Headers }>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mw-loop-'));
    hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const verified = verifyWebhook(SECRET, { signature: req.headers[SIGNATURE_HEADER] as string, timestamp: req.headers[TIMESTAMP_HEADER] as string }, raw);
        received.push({ body: JSON.parse(raw), verified });
        res.writeHead(verified ? 204 : 401).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/alerts`;

    const settings = parseSettings({
      env: {
        MESHWARD_DATA_DIR: join(dir, 'data'),
        MESHWARD_XDS_PORT: '0',
        MESHWARD_API_PORT: '0',
        MESHWARD_DEBOUNCE_QUIET: '10ms',
        MESHWARD_DEBOUNCE_MAX_DELAY: '50ms',
        MESHWARD_LOG_LEVEL: 'silent',
        MESHWARD_ALERTS_WEBHOOK_URL: hookUrl,
        MESHWARD_ALERTS_WEBHOOK_SECRET: SECRET,
      },
    });
    cp = createControlPlane(settings, {
      logger: pino({ level: 'silent' }),
      env: { MESHWARD_ALERTS_WEBHOOK_SECRET: SECRET },
      closedLoop: {
        signals: { bucketMs: 250, windowBuckets: 40 }, // a 10-s window: both batches stay in it even on a loaded machine
        dispatcher: { baseDelayMs: 20, jitter: false },
      },
    });
    await cp.start();
    loop = cp.closedLoop;
    // The access log service shares the xDS port.
    alsAddress = cp.addresses!.xds;
    const token = readFileSync(cp.adminToken!.path, 'utf8').trim();
    api = async (method, path, body) => {
      const res = await fetch(`${cp.addresses!.api}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text === '' ? undefined : JSON.parse(text), headers: res.headers };
    };
  });

  afterAll(async () => {
    await cp?.stop();
    await new Promise((r) => hook?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('telemetry → signals → alert to a webhook, and a bad canary rolled back to every Envoy', async () => {
    // The mesh: a gateway workload, a model with a stable and a canary version, a 3-step rollout.
    expect((await api('POST', '/v1/workloads', { name: 'edge', namespace: 'ai', serviceAccount: 'edge', role: 'gateway' })).status).toBe(201);
    const model = {
      name: 'chat',
      modelNames: ['chat-model'],
      versions: [
        { name: 'v1', weight: 100, endpoints: [{ address: '10.0.0.1', port: 8000 }] },
        { name: 'v2', weight: 0, endpoints: [{ address: '10.0.0.2', port: 8000 }] },
      ],
    };
    expect((await api('POST', '/v1/models', model)).status).toBe(201);
    const plan = { name: 'chat-v2', model: 'chat', steps: [{ weights: { v1: 90, v2: 10 } }, { weights: { v1: 50, v2: 50 } }, { weights: { v1: 0, v2: 100 } }] };
    expect((await api('POST', '/v1/rollouts', plan)).status).toBe(201);
    const joinToken = (await api('POST', '/v1/workloads/ai/edge/join-tokens', {})).body.token as string;

    // An Envoy holding the gateway's routes.
    const envoy = await SotwAdsClient.connect({
      address: cp.addresses!.xds,
      node: { id: 'edge-1', metadata: { role: 'gateway', 'meshward.workload': 'ai/edge' } },
      metadata: { authorization: `Bearer ${joinToken}` },
    });
    try {
      envoy.subscribe(TypeUrl.Listener, []);
      envoy.subscribe(TypeUrl.RouteConfiguration, [gatewayListenerName(8443)]);
      const rds0 = await envoy.responses.next((r) => r.typeUrl === TypeUrl.RouteConfiguration && weightsByCluster(r.resources.get(gatewayListenerName(8443)) as RouteConfiguration)['model|chat|v1'] === 100, 5000, 'RDS with the model');
      expect(rds0.verdict).toBe('ack');

      // An alert rule through the closed loop's API (the REST route is tested in the api suite):
      // more than 5 RBAC/mTLS denials of one caller within the window.
      loop.alerts.putRule({ name: 'caller-denials', signal: 'denials', dimension: 'identity', condition: { kind: 'threshold', op: '>', value: 5 }, severity: 'high' }, 'e2e');
      // The guard takes the rollout over: step 1 (90/10) goes out at the next evaluation.
      loop.guard.attach('chat-v2', { canary: 'v2', stable: 'v1', holdSeconds: 600, minRequests: 20 }, 'e2e');
      const rds1 = await envoy.responses.next((r) => r.typeUrl === TypeUrl.RouteConfiguration && weightsByCluster(r.resources.get(gatewayListenerName(8443)) as RouteConfiguration)['model|chat|v2'] === 10, 5000, 'RDS with the 90/10 step');
      expect(weightsByCluster(rds1.resources.get(gatewayListenerName(8443)) as RouteConfiguration)).toEqual({ 'model|chat|v1': 90, 'model|chat|v2': 10 });
      expect(cp.store.get('rollouts', 'chat-v2')!.spec).toMatchObject({ progress: { phase: 'Progressing', currentStep: 0 } });

      // Envoy's access logs: healthy stable traffic, a canary failing half its calls, an intruder
      // refused by RBAC and a client without a mesh certificate failing the TLS handshake.
      const als = openAlsStream(alsAddress);
      const stable = Array.from({ length: 60 }, () => httpEntry({ identity: good, model: 'chat', version: 'v1', code: 200, latencyMs: 40, summary: '{"outcome":"allow","request":{"outcome":"allow","findings":{}},"response":null}' }));
      const canary = Array.from({ length: 30 }, (_, i) => httpEntry({ identity: good, model: 'chat', version: 'v2', code: i % 2 === 0 ? 503 : 200, latencyMs: 45 }));
      const denied = Array.from({ length: 8 }, () => httpEntry({ identity: intruder, model: 'chat', code: 403, details: 'rbac_access_denied_matched_policy[none]' }));
      const redacted = httpEntry({ identity: good, model: 'chat', version: 'v1', summary: '{"outcome":"redact","request":{"outcome":"redact","findings":{"email":2}},"response":null}' });
      await als.write(encodeBatch([...stable.slice(0, 30), ...canary.slice(0, 15)], 'edge-1'));
      await als.write(encodeBatch([...stable.slice(30), ...canary.slice(15), ...denied, redacted]));
      await als.write(encodeTcpBatch([tlsFailureEntry()]));

      // Signals: the version series and the intruder's identity series.
      await until('the signals to show the canary', () => (loop.signals.snapshot({ dimension: 'version', key: 'chat|v2' })[0]?.values['requests'] ?? 0) >= 30);
      const v2 = loop.signals.snapshot({ dimension: 'version', key: 'chat|v2' })[0]!;
      expect(v2.values['error_ratio']).toBeCloseTo(0.5, 5);
      const who = loop.signals.snapshot({ dimension: 'identity', key: intruder })[0]!;
      expect(who.values['rbac_denials']).toBe(8);
      expect(loop.signals.snapshot({ dimension: 'identity', key: 'anonymous' })[0]!.values['mtls_failures']).toBe(1);
      expect(loop.signals.snapshot({ dimension: 'model', key: 'chat' })[0]!.values['dlp_findings:email']).toBe(2);

      // The canary breached its error bound: rolled back through the store, audited, pushed.
      const rds2 = await envoy.responses.next((r) => r.typeUrl === TypeUrl.RouteConfiguration && weightsByCluster(r.resources.get(gatewayListenerName(8443)) as RouteConfiguration)['model|chat|v2'] !== 10, 8000, 'RDS after the rollback');
      const restored = weightsByCluster(rds2.resources.get(gatewayListenerName(8443)) as RouteConfiguration);
      expect(restored['model|chat|v1']).toBe(100);
      expect(restored['model|chat|v2'] ?? 0).toBe(0);
      expect(rds2.verdict).toBe('ack');
      const rollout = cp.store.get('rollouts', 'chat-v2')!.spec as { progress: { phase: string; message: string } };
      expect(rollout.progress.phase).toBe('Aborted');
      expect(rollout.progress.message).toMatch(/rolled back automatically at step 1: canary error ratio 50\.0 %/);
      const audit = cp.store.audit.query({ actor: 'meshward-rollout-guard', kind: 'models' }).items;
      expect(audit[0]).toMatchObject({ action: 'update', name: 'chat', reason: expect.stringMatching(/rolled back automatically/) });
      expect((audit[0]!.after as { versions: { weight: number }[] }).versions.map((v) => v.weight)).toEqual([100, 0]);
      // The fleet view shows the Envoy ACKed the rollback's version.
      const acked = async (): Promise<string> => (await api('GET', '/v1/fleet')).body.items.find((n: { nodeId: string }) => n.nodeId === 'edge-1').types.RDS.ackedVersion;
      for (let i = 0; i < 100 && (await acked()) !== rds2.versionInfo; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await acked()).toBe(rds2.versionInfo);

      // Alerts delivered to the webhook, signed: the intruder's denials and the rollback.
      const firedAt = (rule: string) => received.find((r) => r.body.rule === rule && r.body.type === 'fired');
      await until('both alerts fired at the webhook', () => firedAt('caller-denials') !== undefined && firedAt('rollout-guard') !== undefined);
      expect(received.every((r) => r.verified)).toBe(true);
      const byRule = { 'caller-denials': firedAt('caller-denials')!.body, 'rollout-guard': firedAt('rollout-guard')!.body };
      expect(byRule['caller-denials']).toMatchObject({ type: 'fired', severity: 'high', dimension: 'identity', key: intruder, value: expect.any(Number) });
      expect(byRule['rollout-guard']).toMatchObject({ type: 'fired', severity: 'high', dimension: 'rollout', key: 'chat-v2', signal: 'error_ratio' });
      // Recorded and queryable.
      expect(loop.alerts.store.queryAlerts({ rule: 'caller-denials' }).items).toHaveLength(1);
      // and in /metrics of the loop's registry
      expect(await loop.registry.metrics()).toMatch(/meshward_alerts_fired_total\{rule="rollout-guard",severity="high"\} 1/);
      expect(await loop.registry.metrics()).toMatch(/meshward_alert_deliveries_total\{sink="webhook",result="delivered"\} [2-9]/);
      // …and through the control plane's REST API: alerts, signals and /metrics.
      expect((await api('GET', `/v1/alerts?rule=caller-denials`)).body.items).toMatchObject([{ rule: 'caller-denials', key: intruder }]);
      const metrics = await fetch(`${cp.addresses!.api}/metrics`, { headers: { authorization: `Bearer ${readFileSync(cp.adminToken!.path, 'utf8').trim()}` } }).then((r) => r.text());
      expect(metrics).toMatch(/meshward_telemetry_entries_total 10[0-9]/);
      expect(metrics).toMatch(/meshward_alerts_fired_total\{rule="caller-denials",severity="high"\} 1/);

      // The report over the period lists who called what and what happened.
      const report = loop.report(undefined, new Date(Date.now() + 60_000).toISOString());
      expect(report.totals).toMatchObject({ requests: 99, deniedRbac: 8, deniedMtls: 1, dlpRedacted: 1, errors: 15 });
      expect(report.calls.find((c) => c.identity === good)).toMatchObject({ model: 'chat', versions: ['v1', 'v2'], requests: 91 });
      expect(report.rollouts.some((e) => e.actor === 'meshward-rollout-guard')).toBe(true);
      await als.end();
      als.close();
    } finally {
      envoy.close();
    }
  });
});

