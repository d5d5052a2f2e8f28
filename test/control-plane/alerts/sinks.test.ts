/**
 * Alert sinks against real receivers on 127.0.0.1: an HTTP server verifying the HMAC signature, a
 * failing webhook showing retries then a counted drop, a TCP syslog receiver and a TLS one with a
 * self-signed certificate (CEF and JSON), and the JSON-lines file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { Registry } from 'prom-client';
import type { Alert } from '../../../control-plane/src/alerts/alert-store.js';
import type { AlertEvent } from '../../../control-plane/src/alerts/alert-sink.js';
import { createJsonlFileSink } from '../../../control-plane/src/alerts/jsonl-file-sink.js';
import { createSinkDispatcher } from '../../../control-plane/src/alerts/sink-dispatcher.js';
import { cefMessage, octetCountingFrame, syslogMessage } from '../../../control-plane/src/alerts/syslog-format.js';
import { createSyslogSink } from '../../../control-plane/src/alerts/syslog-sink.js';
import { createWebhookSink, SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER, verifyWebhook } from '../../../control-plane/src/alerts/webhook-sink.js';

const SECRET = 'sink-test-secret-0123456789abcdef';
const alert = (over: Partial<Alert> = {}): Alert => ({
  id: 7,
  rule: 'caller-denials',
  severity: 'high',
  dimension: 'identity',
  key: 'spiffe://meshward.local/ns/a/sa/x',
  signal: 'denials',
  state: 'firing',
  firedAt: '2026-01-05T12:00:00.000Z',
  resolvedAt: undefined,
  value: 12,
  score: undefined,
  threshold: 5,
  summary: 'denials of identity spiffe://meshward.local/ns/a/sa/x is 12 (> 5) | with = and \\ inside',
  labels: { identity: 'spiffe://meshward.local/ns/a/sa/x' },
  ...over,
});
const fired = (over: Partial<Alert> = {}): AlertEvent => ({ type: 'fired', alert: alert(over) });
const silentLog = { warn() {}, error() {} };

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    req.on('data', (c: Buffer) => (s += c.toString('utf8')));
    req.on('end', () => resolve(s));
  });
}
async function listen(server: Server | net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

/** A syslog receiver that parses RFC 6587 octet-counted frames. */
function syslogReceiver(secure?: { key: string; cert: string }): { server: net.Server; messages: string[] } {
  const messages: string[] = [];
  const onSocket = (sock: net.Socket): void => {
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const sp = buf.indexOf(0x20);
        if (sp < 0) return;
        const len = Number(buf.subarray(0, sp).toString('ascii'));
        if (buf.length < sp + 1 + len) return;
        messages.push(buf.subarray(sp + 1, sp + 1 + len).toString('utf8'));
        buf = buf.subarray(sp + 1 + len);
      }
    });
  };
  const server = secure === undefined ? net.createServer(onSocket) : tls.createServer({ key: secure.key, cert: secure.cert }, onSocket);
  return { server, messages };
}

async function until(fn: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('webhook sink', () => {
  it('signs with HMAC-SHA256 over "<timestamp>.<body>"; the receiver verifies it', async () => {
    const got: { ok: boolean; headers: IncomingMessage['headers']; body: any }[] = [];
    const server = createServer(async (req, res) => {
      const raw = await body(req);
      const ok = verifyWebhook(SECRET, { signature: req.headers[SIGNATURE_HEADER] as string, timestamp: req.headers[TIMESTAMP_HEADER] as string }, raw);
      got.push({ ok, headers: req.headers, body: JSON.parse(raw) });
      res.writeHead(ok ? 200 : 401).end();
    });
    const port = await listen(server);
    try {
      const sink = createWebhookSink({ url: `http://127.0.0.1:${port}/hook`, secret: SECRET });
      await sink.send(fired());
      expect(got).toHaveLength(1);
      expect(got[0]!.ok).toBe(true);
      expect(got[0]!.headers['x-meshward-event']).toBe('fired');
      expect(got[0]!.headers['idempotency-key']).toBe('alert-7-fired');
      expect(got[0]!.body).toMatchObject({ type: 'fired', id: 7, rule: 'caller-denials', severity: 'high', value: 12, threshold: 5 });
      // a tampered body or a wrong key does not verify; an old timestamp neither
      const ts = got[0]!.headers[TIMESTAMP_HEADER] as string;
      const raw = JSON.stringify(got[0]!.body);
      expect(verifyWebhook(SECRET, { signature: signWebhook(SECRET, ts, raw), timestamp: ts }, `${raw} `)).toBe(false);
      expect(verifyWebhook('another-secret-0123456789', { signature: signWebhook(SECRET, ts, raw), timestamp: ts }, raw)).toBe(false);
      expect(verifyWebhook(SECRET, { signature: signWebhook(SECRET, '1000', raw), timestamp: '1000' }, raw)).toBe(false);
      // a sink with the wrong secret is refused by the receiver: a permanent failure (401)
      await expect(createWebhookSink({ url: `http://127.0.0.1:${port}/hook`, secret: 'wrong-secret-0123456789' }).send(fired())).rejects.toThrow(/answered 401/);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('a failing webhook: retries with exponential backoff, then drops — counted and logged, never silently', async () => {
    const attempts: number[] = [];
    const server = createServer(async (req, res) => {
      await body(req);
      attempts.push(Date.now());
      res.writeHead(503).end();
    });
    const port = await listen(server);
    const registry = new Registry();
    const logged: { obj: any; msg: string }[] = [];
    const delays: number[] = [];
    try {
      const d = createSinkDispatcher({
        sinks: [createWebhookSink({ url: `http://127.0.0.1:${port}/`, secret: SECRET })],
        maxAttempts: 4,
        baseDelayMs: 30,
        jitter: false,
        registry,
        sleep: (ms) => (delays.push(ms), new Promise((r) => setTimeout(r, ms))),
        log: { warn: () => {}, error: (obj, msg) => logged.push({ obj, msg }) },
      });
      const t = Date.now();
      d.dispatch(fired());
      expect(Date.now() - t).toBeLessThan(20); // dispatch never waits for the sink
      await d.flush();
      expect(attempts).toHaveLength(4);
      expect(delays).toEqual([30, 60, 120]);
      expect(attempts[3]! - attempts[0]!).toBeGreaterThanOrEqual(200);
      expect(d.stats()['webhook']).toEqual({ delivered: 0, retries: 3, dropped: 1, queued: 0 });
      expect(logged).toHaveLength(1);
      expect(logged[0]!.obj).toMatchObject({ sink: 'webhook', alertId: 7, rule: 'caller-denials', reason: expect.stringMatching(/4 attempts failed, last: .* answered 503/) });
      const metrics = await registry.metrics();
      expect(metrics).toMatch(/meshward_alert_deliveries_total\{sink="webhook",result="dropped"\} 1/);
      expect(metrics).toMatch(/meshward_alert_delivery_retries_total\{sink="webhook"\} 3/);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('recovers when the receiver comes back within the retries; a 4xx is not retried', async () => {
    let n = 0;
    const server = createServer(async (req, res) => {
      await body(req);
      n++;
      res.writeHead(req.url === '/bad' ? 400 : n < 3 ? 500 : 204).end();
    });
    const port = await listen(server);
    try {
      const d = createSinkDispatcher({ sinks: [createWebhookSink({ url: `http://127.0.0.1:${port}/`, secret: SECRET })], baseDelayMs: 5, jitter: false, log: silentLog });
      d.dispatch(fired());
      await d.flush();
      expect(d.stats()['webhook']).toMatchObject({ delivered: 1, retries: 2, dropped: 0 });
      n = 0;
      const bad = createSinkDispatcher({ sinks: [createWebhookSink({ url: `http://127.0.0.1:${port}/bad`, secret: SECRET, name: 'bad' })], baseDelayMs: 5, log: silentLog });
      bad.dispatch(fired());
      await bad.flush();
      expect(n).toBe(1);
      expect(bad.stats()['bad']).toMatchObject({ delivered: 0, retries: 0, dropped: 1 });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('a dead sink does not delay another; a full queue drops and counts', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = { name: 'slow', send: () => gate };
    const fastGot: number[] = [];
    const fast = { name: 'fast', send: async (e: AlertEvent) => void fastGot.push(e.alert.id) };
    const d = createSinkDispatcher({ sinks: [slow, fast], queueCapacity: 2, log: silentLog });
    for (let i = 1; i <= 4; i++) d.dispatch(fired({ id: i }));
    await until(() => fastGot.length === 2);
    expect(fastGot).toEqual([1, 2]);
    expect(d.stats()['slow']).toMatchObject({ dropped: 2, queued: 2 });
    release();
    await d.flush();
    expect(d.stats()['slow']).toMatchObject({ delivered: 2, dropped: 2 });
    expect(() => createSinkDispatcher({ sinks: [fast, fast] })).toThrow(/two sinks are named fast/);
  });

  it('rejects a bad URL or a short secret', () => {
    expect(() => createWebhookSink({ url: 'ftp://x', secret: SECRET })).toThrow(/url: must be http/);
    expect(() => createWebhookSink({ url: 'not a url', secret: SECRET })).toThrow(/url: not a URL/);
    expect(() => createWebhookSink({ url: 'http://127.0.0.1/', secret: 'short' })).toThrow(/secret/);
  });
});

describe('syslog sink (RFC 5424)', () => {
  let dir: string;
  let key: string;
  let cert: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mw-syslog-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'k.pem', '-out', 'c.pem', '-days', '1', '-subj', '/CN=syslog.test', '-addext', 'subjectAltName=DNS:syslog.test,IP:127.0.0.1'], { cwd: dir, stdio: 'pipe' });
    key = readFileSync(join(dir, 'k.pem'), 'utf8');
    cert = readFileSync(join(dir, 'c.pem'), 'utf8');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('formats header, structured data and CEF with the escapes', () => {
    const m = syslogMessage(fired(), { format: 'cef', hostname: 'cp-1', procId: '42' }, new Date('2026-01-05T12:00:01.000Z'));
    expect(m).toMatch(/^<107>1 2026-01-05T12:00:01\.000Z cp-1 meshward 42 alert-fired \[meshward@32473 alertId="7" rule="caller-denials" severity="high" event="fired"\] CEF:0\|meshward\|meshward-control-plane\|1\|caller-denials\|caller-denials fired\|8\|/);
    expect(cefMessage(fired())).toContain('msg=denials of identity spiffe://meshward.local/ns/a/sa/x is 12 (> 5) | with \\= and \\\\ inside');
    expect(cefMessage(fired())).toContain('suser=spiffe://meshward.local/ns/a/sa/x');
    expect(cefMessage(fired({ rule: 'a|b' }))).toContain('|a\\|b|');
    // resolved events are notice (5); facility 13 → 13*8+5
    expect(syslogMessage({ type: 'resolved', alert: alert({ state: 'resolved', resolvedAt: '2026-01-05T12:01:00.000Z' }) }, { format: 'json', hostname: 'h' })).toMatch(/^<109>1 /);
    expect(syslogMessage(fired({ rule: 'x"]\\' }), { format: 'json', hostname: 'h' })).toContain('rule="x\\"\\]\\\\"');
    expect(octetCountingFrame('héllo').toString('utf8')).toBe('6 héllo');
  });

  it('delivers over TCP in CEF, octet-counted', async () => {
    const rx = syslogReceiver();
    const port = await listen(rx.server);
    const sink = createSyslogSink({ host: '127.0.0.1', port, transport: 'tcp', format: 'cef', hostname: 'cp-1' });
    try {
      await sink.send(fired());
      await sink.send({ type: 'resolved', alert: alert({ state: 'resolved', resolvedAt: '2026-01-05T12:02:00.000Z' }) });
      await until(() => rx.messages.length === 2);
      expect(rx.messages[0]).toMatch(/^<107>1 \S+ cp-1 meshward \d+ alert-fired \[meshward@32473 .*\] CEF:0\|meshward\|/);
      expect(rx.messages[1]).toMatch(/alert-resolved .* CEF:0\|.*\|caller-denials resolved\|8\|.*act=resolved/);
    } finally {
      await sink.close!();
      await new Promise((r) => rx.server.close(r));
    }
  });

  it('delivers over TLS (self-signed receiver certificate trusted via `ca`) in JSON; refuses an untrusted one', async () => {
    const rx = syslogReceiver({ key, cert });
    const port = await listen(rx.server);
    const sink = createSyslogSink({ host: '127.0.0.1', port, transport: 'tls', format: 'json', ca: cert, servername: 'syslog.test', hostname: 'cp-1' });
    const untrusted = createSyslogSink({ host: '127.0.0.1', port, transport: 'tls', format: 'json', servername: 'syslog.test', name: 'untrusted' });
    try {
      await sink.send(fired());
      await until(() => rx.messages.length === 1);
      const m = rx.messages[0]!;
      const json = JSON.parse(m.slice(m.indexOf('] ') + 2));
      expect(json).toMatchObject({ type: 'fired', id: 7, rule: 'caller-denials', severity: 'high', key: 'spiffe://meshward.local/ns/a/sa/x' });
      await expect(untrusted.send(fired())).rejects.toThrow(/self.signed|certificate/i);
    } finally {
      await sink.close!();
      await untrusted.close!();
      await new Promise((r) => rx.server.close(r));
    }
  });

  it('reconnects after the receiver drops the connection (the dispatcher retries)', async () => {
    const rx = syslogReceiver();
    const sockets: net.Socket[] = [];
    rx.server.on('connection', (s) => sockets.push(s));
    const port = await listen(rx.server);
    const sink = createSyslogSink({ host: '127.0.0.1', port, transport: 'tcp', format: 'json' });
    const d = createSinkDispatcher({ sinks: [sink], baseDelayMs: 10, jitter: false, log: silentLog });
    try {
      d.dispatch(fired({ id: 1 }));
      await d.flush();
      await until(() => rx.messages.length === 1);
      for (const s of sockets) s.destroy();
      await new Promise((r) => setTimeout(r, 50));
      d.dispatch(fired({ id: 2 }));
      d.dispatch(fired({ id: 3 }));
      await d.flush();
      await until(() => rx.messages.length >= 3);
      expect(rx.messages.map((m) => JSON.parse(m.slice(m.indexOf('] ') + 2)).id)).toEqual([1, 2, 3]);
      expect(sockets.length).toBe(2);
    } finally {
      await d.close();
      await new Promise((r) => rx.server.close(r));
    }
  });

  it('a receiver that is down: retries, then a counted drop', async () => {
    const probe = net.createServer();
    const port = await listen(probe);
    await new Promise((r) => probe.close(r));
    const d = createSinkDispatcher({ sinks: [createSyslogSink({ host: '127.0.0.1', port, transport: 'tcp', format: 'cef' })], maxAttempts: 3, baseDelayMs: 5, jitter: false, log: silentLog });
    d.dispatch(fired());
    await d.flush();
    expect(d.stats()['syslog-tcp']).toMatchObject({ delivered: 0, retries: 2, dropped: 1 });
  });
});

describe('JSON-lines file sink', () => {
  it('appends one JSON document per event to a 0600 file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mw-jsonl-'));
    const path = join(dir, 'alerts.jsonl');
    try {
      const sink = createJsonlFileSink({ path });
      await sink.send(fired({ id: 1 }));
      await sink.send({ type: 'resolved', alert: alert({ id: 1, state: 'resolved', resolvedAt: '2026-01-05T12:05:00.000Z' }) });
      await sink.close!();
      const lines = readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
      expect(lines).toMatchObject([
        { type: 'fired', id: 1, source: 'meshward' },
        { type: 'resolved', id: 1, resolvedAt: '2026-01-05T12:05:00.000Z' },
      ]);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const bad = createSinkDispatcher({ sinks: [createJsonlFileSink({ path: join(dir, 'missing', 'x.jsonl') })], maxAttempts: 2, baseDelayMs: 1, log: silentLog });
      bad.dispatch(fired());
      await bad.flush();
      expect(bad.stats()['jsonl']).toMatchObject({ dropped: 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
