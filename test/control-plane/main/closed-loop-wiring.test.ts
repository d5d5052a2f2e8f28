/**
 * The closed loop as createControlPlane starts it: Envoy's access log service on the xDS port
 * (one port, as the bootstraps' `meshward_als` cluster expects), who may stream to it
 * (`telemetry.alsAuthentication`), the alert sinks from the settings, and the loop's REST routes
 * and metrics on the control plane's API. All real, on 127.0.0.1, ephemeral ports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseSettings } from '../../../control-plane/src/config/index.js';
import { ControlPlaneError, createControlPlane, type ControlPlane } from '../../../control-plane/src/control-plane.js';
import type { Secret } from '../../../control-plane/src/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { TypeUrl } from '../../../control-plane/src/xds/type-urls.js';
import { SotwAdsClient } from '../../xds-clients/sotw-ads-client.js';
import { encodeBatch, httpEntry, openAlsStream, type AlsStreamOptions } from '../telemetry/envoy-als-client.js';

const TD = 'spiffe://meshward.local';
const UNAUTHENTICATED = 16;

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** One ALS stream: identifier + one batch, then half-close; resolves with the call's status. */
async function sendLogs(address: string, identity: string, n: number, options: AlsStreamOptions = {}): Promise<{ code: number; details: string }> {
  const s = openAlsStream(address, options);
  try {
    await s.write(encodeBatch(Array.from({ length: n }, () => httpEntry({ identity, model: 'chat', version: 'v1' })), 'edge-1'));
    return await Promise.race([s.end(), s.status]);
  } finally {
    s.close();
  }
}

function apiClient(cp: ControlPlane) {
  const token = readFileSync(cp.adminToken!.path, 'utf8').trim();
  return async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any; text: string }> => {
    const res = await fetch(`${cp.addresses!.api}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed, text };
  };
}

const baseEnv = (dir: string): Record<string, string> => ({
  MESHWARD_DATA_DIR: join(dir, 'data'),
  MESHWARD_XDS_PORT: '0',
  MESHWARD_API_PORT: '0',
  MESHWARD_DEBOUNCE_QUIET: '5ms',
  MESHWARD_DEBOUNCE_MAX_DELAY: '20ms',
  MESHWARD_LOG_LEVEL: 'silent',
});

describe('closed loop in the control plane: plaintext xDS port, telemetry.alsAuthentication fleet (default), JSON-lines sink', () => {
  let dir: string;
  let cp: ControlPlane;
  let api: ReturnType<typeof apiClient>;
  let alertsFile: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mw-loop-wiring-'));
    alertsFile = join(dir, 'alerts.jsonl');
    cp = createControlPlane(parseSettings({ env: { ...baseEnv(dir), MESHWARD_ALERTS_FILE: alertsFile } }), {
      logger: pino({ level: 'silent' }),
      closedLoop: { signals: { bucketMs: 200, windowBuckets: 10 }, dispatcher: { baseDelayMs: 20, jitter: false } },
    });
    await cp.start();
    api = apiClient(cp);
  });
  afterAll(async () => {
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('admits an ALS stream on the xDS port with a join token, or from the address of an Envoy with an ADS stream; refuses it otherwise', async () => {
    expect(cp.closedLoop.als.stats().streams).toBe(0);
    expect((await api('POST', '/v1/workloads', { name: 'edge', namespace: 'ai', serviceAccount: 'edge', role: 'gateway' })).status).toBe(201);
    const joinToken = (await api('POST', '/v1/workloads/ai/edge/join-tokens', {})).body.token as string;
    const xds = cp.addresses!.xds;

    // No credential and no ADS stream from 127.0.0.1 yet: refused before any entry is read.
    const stranger = await sendLogs(xds, `${TD}/ns/ai/sa/stranger`, 3);
    expect(stranger.code).toBe(UNAUTHENTICATED);
    expect(stranger.details).toMatch(/access log stream refused: no credential, and no Envoy at 127\.0\.0\.1 holds an authenticated ADS stream/);
    // A credential that fails is refused, not waved through.
    const forged = await sendLogs(xds, `${TD}/ns/ai/sa/stranger`, 3, { metadata: { authorization: 'Bearer mwj_not-a-real-token' } });
    expect(forged.code).toBe(UNAUTHENTICATED);
    // A valid join token admits it.
    expect(await sendLogs(xds, `${TD}/ns/ai/sa/caller-a`, 4, { metadata: { authorization: `Bearer ${joinToken}` } })).toEqual({ code: 0, details: '' });

    // Once the Envoy's ADS stream is up, its access log stream needs nothing more (the generated listeners send none).
    const envoy = await SotwAdsClient.connect({ address: xds, node: { id: 'edge-1', metadata: { role: 'gateway', 'meshward.workload': 'ai/edge' } }, metadata: { authorization: `Bearer ${joinToken}` } });
    try {
      envoy.subscribe(TypeUrl.Listener, []);
      await envoy.responses.next((r) => r.typeUrl === TypeUrl.Listener, 5000, 'LDS');
      expect(await sendLogs(xds, `${TD}/ns/ai/sa/caller-b`, 5)).toEqual({ code: 0, details: '' });
    } finally {
      envoy.close();
    }
    // Once it is gone, its address vouches for nothing.
    await until('the ADS stream to end', () => cp.xds.fleet.size === 0);
    expect((await sendLogs(xds, `${TD}/ns/ai/sa/caller-b`, 1)).code).toBe(UNAUTHENTICATED);
    await cp.closedLoop.als.drained();

    // The entries are in the signals, through the control plane's REST API.
    const signals = await until('the signals of both callers', async () => {
      const r = await api('GET', '/v1/signals?dimension=identity');
      const items = r.body.items as Array<{ key: string; values: Record<string, number> }>;
      return items.some((i) => i.key.endsWith('caller-b') && i.values['requests'] === 5) ? items : undefined;
    });
    expect(signals.find((i) => i.key === `${TD}/ns/ai/sa/caller-a`)!.values['requests']).toBe(4);
    expect(signals.find((i) => i.key === `${TD}/ns/ai/sa/caller-b`)!.values['requests']).toBe(5);
    expect(signals.some((i) => i.key.endsWith('stranger'))).toBe(false);
    const metrics = (await api('GET', '/metrics')).text;
    expect(metrics).toMatch(/meshward_telemetry_refused_streams_total 3\b/);
    expect(metrics).toMatch(/meshward_telemetry_entries_total 9\b/);
  });

  it('fires a rule created through the API, lists the alert and writes it to the JSON-lines file from alerts.file', async () => {
    const rule = { name: 'busy-caller', signal: 'requests', dimension: 'identity', match: `${TD}/ns/ai/sa/busy`, condition: { kind: 'threshold', op: '>', value: 5 }, severity: 'medium' };
    expect((await api('POST', '/v1/alert-rules', rule)).status).toBe(201);
    const joinToken = (await api('POST', '/v1/workloads/ai/edge/join-tokens', {})).body.token as string;
    expect(await sendLogs(cp.addresses!.xds, `${TD}/ns/ai/sa/busy`, 12, { metadata: { 'x-meshward-join-token': joinToken } })).toMatchObject({ code: 0 });

    const alert = await until('the alert in /v1/alerts', async () => (await api('GET', '/v1/alerts?rule=busy-caller')).body.items[0] as { id: number; state: string; key: string } | undefined);
    expect(alert).toMatchObject({ state: 'firing', key: `${TD}/ns/ai/sa/busy`, severity: 'medium' });
    const line = await until('the alert in the JSON-lines file', () => {
      if (!existsSync(alertsFile)) return undefined;
      return readFileSync(alertsFile, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { rule: string; type: string; id?: number; alertId?: number })
        .find((e) => e.rule === 'busy-caller' && e.type === 'fired');
    });
    expect(line).toMatchObject({ rule: 'busy-caller', type: 'fired', key: `${TD}/ns/ai/sa/busy` });
    expect(await cp.closedLoop.registry.metrics()).toMatch(/meshward_alert_deliveries_total\{sink="file",result="delivered"\} 1/);
    // The report route is registered too.
    const report = await api('GET', '/v1/reports');
    expect(report.status).toBe(200);
    expect(report.body.totals.requests).toBeGreaterThanOrEqual(21);
  });
});

describe.each(['h2', 'grpc-js'])('closed loop in the control plane: TLS xDS port (transport %s), telemetry.alsAuthentication credential', (transport) => {
  let dir: string;
  let cp: ControlPlane;
  let api: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mw-loop-tls-'));
    cp = createControlPlane(parseSettings({ env: { ...baseEnv(dir), MESHWARD_XDS_TLS: 'tls', MESHWARD_XDS_TRANSPORT: transport, MESHWARD_ALS_AUTHENTICATION: 'credential' } }), {
      logger: pino({ level: 'silent' }),
      closedLoop: { signals: { bucketMs: 200, windowBuckets: 10 } },
    });
    await cp.start();
    api = apiClient(cp);
  });
  afterAll(async () => {
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shares the TLS port: a mesh client certificate or a join token admits the stream; a connected Envoy address alone does not', async () => {
    const ca = readFileSync(cp.addresses!.caBundle, 'utf8');
    const xds = cp.addresses!.xds;
    expect((await api('POST', '/v1/workloads', { name: 'edge', namespace: 'ai', serviceAccount: 'edge', role: 'gateway' })).status).toBe(201);
    const joinToken = (await api('POST', '/v1/workloads/ai/edge/join-tokens', {})).body.token as string;
    const envoy = await SotwAdsClient.connect({
      address: xds,
      tls: { ca, servername: 'localhost' },
      node: { id: 'edge-1', metadata: { role: 'gateway', 'meshward.workload': 'ai/edge' } },
      metadata: { authorization: `Bearer ${joinToken}` },
    });
    try {
      // The workload's certificate, as SDS gives it to Envoy.
      envoy.subscribe(TypeUrl.Secret, ['default']);
      const sds = await envoy.responses.next((r) => r.typeUrl === TypeUrl.Secret, 5000, 'SDS');
      const secret = sds.resources.get('default') as Secret;
      if (secret.type.case !== 'tlsCertificate') throw new Error('no tls_certificate');
      const pem = (d: typeof secret.type.value.certificateChain): string => (d?.specifier.case === 'inlineBytes' ? Buffer.from(d.specifier.value).toString('utf8') : '');
      const cert = pem(secret.type.value.certificateChain);
      const key = pem(secret.type.value.privateKey);

      const noCredential = await sendLogs(xds, `${TD}/ns/ai/sa/x`, 2, { tls: { ca, servername: 'localhost' } });
      expect(noCredential.code).toBe(UNAUTHENTICATED);
      expect(noCredential.details).toMatch(/access log stream refused: no credential/);
      expect(await sendLogs(xds, `${TD}/ns/ai/sa/by-token`, 2, { tls: { ca, servername: 'localhost' }, metadata: { authorization: `Bearer ${joinToken}` } })).toEqual({ code: 0, details: '' });
      expect(await sendLogs(xds, `${TD}/ns/ai/sa/by-cert`, 3, { tls: { ca, servername: 'localhost', cert, key } })).toEqual({ code: 0, details: '' });
    } finally {
      envoy.close();
    }
    await cp.closedLoop.als.drained();
    const keys = (await until('the signals', async () => {
      const items = (await api('GET', '/v1/signals?dimension=identity')).body.items as Array<{ key: string; values: Record<string, number> }>;
      return items.length >= 2 && items.every((i) => (i.values['requests'] ?? 0) > 0) ? items : undefined;
    })).map((i) => i.key);
    expect(keys.sort()).toEqual([`${TD}/ns/ai/sa/by-cert`, `${TD}/ns/ai/sa/by-token`]);
    expect(cp.closedLoop.als.refusedStreams).toBe(1);
  });
});

describe('closed loop in the control plane: sink settings it cannot use', () => {
  it.each([
    ['an unreadable syslog CA file', { MESHWARD_ALERTS_SYSLOG_HOST: '127.0.0.1', MESHWARD_ALERTS_SYSLOG_CA_FILE: '/nonexistent/siem-ca.pem' }, {}, 'alerts.syslog.caFile', /alerts\.syslog\.caFile cannot read \/nonexistent\/siem-ca\.pem/],
    [
      'a webhook key missing from the process environment',
      { MESHWARD_ALERTS_WEBHOOK_URL: 'http://127.0.0.1:9/hook', MESHWARD_ALERTS_WEBHOOK_SECRET: 'x'.repeat(20) },
      { env: {} },
      'alerts.webhook.secretEnv',
      /alerts\.webhook\.secretEnv environment variable MESHWARD_ALERTS_WEBHOOK_SECRET is not set/,
    ],
  ] as const)('refuses to start with %s, naming the setting', async (_what, env, options, setting, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'mw-loop-bad-'));
    const cp = createControlPlane(parseSettings({ env: { ...baseEnv(dir), ...env } }), { logger: pino({ level: 'silent' }), ...options });
    try {
      const err = await cp.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ControlPlaneError);
      expect((err as ControlPlaneError).setting).toBe(setting);
      expect((err as Error).message).toMatch(message);
      expect(cp.addresses).toBeUndefined();
    } finally {
      await cp.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
