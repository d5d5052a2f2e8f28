/**
 * `npm run demo`: meshward end to end on one machine, without Envoy or Docker.
 *
 * Starts the control plane (temporary data directory, ephemeral ports), two versions of the mock
 * model server, applies envoy/compose/meshward.yaml with the `meshward` CLI (endpoints pointed at the
 * local mocks), and plays a gateway: the real compiled filter in meshward's proxy-wasm host
 * (control-plane/src/wasm-host, which behaves like Envoy's; configured with the DLP policy read
 * back from the control plane), the version split by the
 * model's weights (as Envoy's weighted_clusters does), and caller authorization decided by the
 * control plane's RBAC model (POST /v1/explain). Prints one table per step; exits 0 when every step
 * showed what it should, 1 otherwise. Bounded: gives up after 60 s.
 *
 * `runDemo()` is the core (the test calls it); it cleans up everything it started.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { parseAllDocuments, stringify } from 'yaml';
import { runCli } from '../control-plane/src/cli/main.js';
import { formatTable } from '../control-plane/src/cli/table.js';
import { parseSettings } from '../control-plane/src/config/index.js';
import { createControlPlane, type ControlPlane } from '../control-plane/src/control-plane.js';
import { createMockModelServer, type MockModelServer } from '../control-plane/src/mock-model/mock-model-server.js';
import { createEnvoyHost, type EnvoyHost } from '../control-plane/src/wasm-host/index.js';
import { createMulberry32 } from './seeded-random.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLIENT = 'spiffe://meshward.local/ns/demo/sa/client';
const INTRUDER = 'spiffe://meshward.local/ns/demo/sa/intruder';

export interface DemoStep {
  readonly title: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
  /** Checks that failed (empty: the step showed what it should). */
  readonly failed: readonly string[];
}

export interface DemoReport {
  readonly steps: readonly DemoStep[];
  readonly ok: boolean;
  /** Everything printed, tables included. */
  readonly text: string;
}

export interface DemoOptions {
  /** Requests of the canary step. Defaults to 50. */
  readonly canaryRequests?: number;
  /** Seed of the weighted pick, so a run is repeatable. Defaults to 42. */
  readonly seed?: number;
  /** Called with each line as it is printed. */
  readonly print?: (text: string) => void;
}

interface GatewayResult {
  status: number;
  version: string;
  body: string;
  blockedBy?: 'filter' | 'rbac';
  modelSaw?: string;
}

const short = (s: string, n = 80) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const chat = (content: string, extra: Record<string, unknown> = {}) => JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], ...extra });

export async function runDemo(options: DemoOptions = {}): Promise<DemoReport> {
  const out: string[] = [];
  const print = (t: string) => {
    out.push(t);
    options.print?.(t);
  };
  const steps: DemoStep[] = [];
  const addStep = (title: string, header: string[], rows: string[][], failed: string[]) => {
    steps.push({ title, header, rows, failed });
    print(`\n== ${title}\n${formatTable(header, rows)}${failed.length === 0 ? '' : `   FAILED: ${failed.join('; ')}\n`}`);
  };

  const dataDir = mkdtempSync(join(tmpdir(), 'meshward-demo-'));
  let cp: ControlPlane | undefined;
  const models: MockModelServer[] = [];
  let host: EnvoyHost | undefined;
  try {
    // 1. start everything
    cp = createControlPlane(
      parseSettings({ env: { MESHWARD_DATA_DIR: dataDir, MESHWARD_XDS_PORT: '0', MESHWARD_API_PORT: '0', MESHWARD_LOG_LEVEL: 'silent' } }),
      { logger: pino({ level: 'silent' }) },
    );
    const addresses = await cp.start();
    const v1 = createMockModelServer({ version: 'v1', chunkSize: 8 });
    const v2 = createMockModelServer({ version: 'v2', chunkSize: 8 });
    models.push(v1, v2);
    const [u1, u2] = [await v1.listen(), await v2.listen()];
    const mockUrl: Record<string, string> = { v1: u1.url, v2: u2.url };

    // 2. the resources, endpoints pointed at the local mocks, applied with the CLI
    const docs = parseAllDocuments(readFileSync(join(ROOT, 'envoy/compose/meshward.yaml'), 'utf8'));
    const resources = (Array.isArray(docs) ? docs : [docs]).map((d) => d.toJS() as Record<string, any>);
    for (const r of resources) {
      if (r['kind'] === 'Model') {
        for (const v of r['versions'] as { name: string; endpoints: { address: string; port: number }[] }[]) {
          const u = new URL(mockUrl[v.name]!);
          v.endpoints = [{ address: u.hostname, port: Number(u.port) }];
        }
      }
    }
    const file = join(dataDir, 'demo-resources.yaml');
    writeFileSync(file, resources.map((r) => stringify(r)).join('---\n'));
    let cliOut = '';
    const io = { stdout: { write: (t: string) => (cliOut += t) }, stderr: { write: (t: string) => (cliOut += t) }, env: { MESHWARD_URL: addresses.api, MESHWARD_DATA_DIR: dataDir }, cwd: ROOT };
    const applied = await runCli(['apply', '-f', file], io);
    const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    const api = async (method: string, path: string, body?: unknown): Promise<any> => {
      const r = await fetch(addresses.api + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return r.json();
    };
    const model = await api('GET', '/v1/models/chat');
    const policy = await api('GET', '/v1/dlp-policies/global');
    addStep(
      '0. the control plane, two mock models, and the resources (meshward apply -f envoy/compose/meshward.yaml)',
      ['WHAT', 'WHERE / RESULT'],
      [
        ['control plane REST API', addresses.api],
        ['control plane xDS (ADS)', addresses.xds],
        ['mock model v1 / v2', `${u1.url}  ${u2.url}`],
        ...cliOut.trim().split('\n').map((l) => ['meshward apply', l]),
        ['gateway (emulated Envoy)', 'meshward.wasm with DLP policy "global" from the control plane'],
      ],
      applied === 0 ? [] : [`meshward apply exited ${applied}`],
    );

    // The emulated gateway: filter from the control plane's policy, split by the model's weights.
    host = await createEnvoyHost({ wasm: new Uint8Array(readFileSync(join(ROOT, 'filter/build/meshward.wasm'))), pluginConfig: JSON.stringify(policy.config) });
    const weights = (model.versions as { name: string; weight: number }[]).map((v) => [v.name, v.weight] as const);
    const total = weights.reduce((n, [, w]) => n + w, 0);
    const random = createMulberry32(options.seed ?? 42);
    const pick = (): string => {
      let x = random() * total;
      for (const [name, w] of weights) {
        if (x < w) return name;
        x -= w;
      }
      return weights.at(-1)![0];
    };
    const gateway = async (body: string, opts: { caller?: string; mockReply?: string } = {}): Promise<GatewayResult> => {
      if (opts.caller !== undefined) {
        const decision = await api('POST', '/v1/explain', { caller: opts.caller, model: 'gpt-4o-mini', operation: 'infer' });
        if (decision.decision !== 'ALLOW') return { status: 403, version: '-', body: `RBAC: access denied (${decision.reason as string})`, blockedBy: 'rbac' };
      }
      const s = host!.newStream({ properties: opts.caller === undefined ? {} : { 'connection.uri_san_peer_certificate': opts.caller, 'connection.mtls': true } });
      s.requestHeaders([[':method', 'POST'], [':path', '/v1/chat/completions'], [':authority', 'gateway'], [':scheme', 'http'], ['content-type', 'application/json']], false);
      s.requestBody(body, true);
      if (s.localReply !== undefined) {
        const r = { status: s.localReply.status, version: '-', body: s.localReply.bodyText, blockedBy: 'filter' as const };
        s.complete();
        return r;
      }
      const version = pick();
      const res = await fetch(`${mockUrl[version]!}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(opts.mockReply === undefined ? {} : { 'x-mock-reply': opts.mockReply }) },
        body: s.upstream.bodyText,
      });
      const modelSaw = s.upstream.bodyText;
      s.responseHeaders([[':status', String(res.status)], ['content-type', res.headers.get('content-type') ?? 'application/json'], ['x-mock-model-version', res.headers.get('x-mock-model-version') ?? '']], false);
      // Forward the response as the model sends it: chunk by chunk (SSE arrives in pieces).
      const reader = res.body!.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        s.responseBody(value, false);
      }
      s.responseBody(new Uint8Array(0), true);
      const r = { status: Number(s.downstream.headers?.find(([k]) => k === ':status')?.[1] ?? res.status), version, body: s.downstream.bodyText, modelSaw };
      s.complete();
      return r;
    };
    /** An OpenAI-style error body as `<code>: <message>`. */
    const errorOf = (body: string): string => {
      try {
        const e = (JSON.parse(body) as { error: { code?: string; message?: string } }).error;
        return `${e.code ?? '?'}: ${e.message ?? ''}`;
      } catch {
        return body;
      }
    };
    const firstMessage = (requestBody: string): string => {
      try {
        return (JSON.parse(requestBody) as { messages: { content: string }[] }).messages[0]!.content;
      } catch {
        return requestBody;
      }
    };
    const contentOf = (text: string): string => {
      try {
        return (JSON.parse(text) as { choices: { message: { content: string } }[] }).choices[0]!.message.content;
      } catch {
        return text;
      }
    };

    // 1. canary split
    const n = options.canaryRequests ?? 50;
    const counts: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const r = await gateway(chat(`hello ${i}`));
      const answered = /^\[(v\d)\]/.exec(contentOf(r.body))?.[1] ?? '?';
      counts[answered] = (counts[answered] ?? 0) + 1;
    }
    addStep(
      `1. canary split: ${n} requests, model weights ${weights.map(([v, w]) => `${v} ${w}`).join(' / ')}`,
      ['VERSION', 'ANSWERED', 'SHARE'],
      Object.keys(counts).sort().map((v) => [v, String(counts[v]), `${Math.round((counts[v]! / n) * 100)}%`]),
      (counts['v1'] ?? 0) > (counts['v2'] ?? 0) && (counts['v2'] ?? 0) > 0 ? [] : ['both versions answer, v1 more often'],
    );

    // 2. a card number is blocked before any model sees it
    const before = (v1.requestCount['/v1/chat/completions'] ?? 0) + (v2.requestCount['/v1/chat/completions'] ?? 0);
    const card = await gateway(chat('charge my card 4111 1111 1111 1111 please'));
    const after = (v1.requestCount['/v1/chat/completions'] ?? 0) + (v2.requestCount['/v1/chat/completions'] ?? 0);
    addStep(
      '2. a prompt carrying a card number',
      ['STATUS', 'MODEL CALLED', 'CLIENT RECEIVED'],
      [[String(card.status), after === before ? 'no' : 'yes', short(errorOf(card.body), 100)]],
      card.blockedBy === 'filter' && card.status === 403 && after === before ? [] : ['blocked by the filter (403), no model called'],
    );

    // 3. an email is redacted before the model sees it
    const mail = await gateway(chat('write to jane.doe@corp.example about the invoice'));
    const mailReply = contentOf(mail.body);
    addStep(
      '3. a prompt carrying an email address (the mock model echoes what it received)',
      ['STATUS', 'VERSION', 'MODEL RECEIVED', 'CLIENT RECEIVED'],
      [[String(mail.status), mail.version, short(firstMessage(mail.modelSaw ?? ''), 50), short(mailReply, 60)]],
      mail.status === 200 && mailReply.includes('[EMAIL]') && !mailReply.includes('jane.doe') && !(mail.modelSaw ?? '').includes('jane.doe') ? [] : ['email redacted before the model'],
    );

    // 4. identity: the control plane's authorization decides who may call
    const allowed = await gateway(chat('hello from a trusted workload'), { caller: CLIENT });
    const denied = await gateway(chat('hello from somewhere else'), { caller: INTRUDER });
    addStep(
      '4. caller identity (SPIFFE ID from the mTLS peer certificate), decided by the control plane\'s authorization (POST /v1/explain)',
      ['CALLER', 'STATUS', 'RESULT'],
      [
        [CLIENT, String(allowed.status), short(contentOf(allowed.body), 60)],
        [INTRUDER, String(denied.status), short(denied.body, 60)],
      ],
      allowed.status === 200 && denied.status === 403 && denied.blockedBy === 'rbac' ? [] : ['client allowed (200), intruder denied (403)'],
    );

    // 5. a streamed reply with a secret split across SSE chunks
    const secret = 'AKIAIOSFODNN7EXAMPLE';
    const streamed = await gateway(chat('what is the deploy key?', { stream: true }), { caller: CLIENT, mockReply: `the deploy key is ${secret}, rotate it soon` });
    const received = streamed.body
      .split('\n\n')
      .filter((l) => l.startsWith('data: {'))
      .map((l) => (JSON.parse(l.slice(6)) as { choices: { delta?: { content?: string } }[] }).choices[0]?.delta?.content ?? '')
      .join('');
    addStep(
      '5. the model streams a secret split across 8-character SSE chunks',
      ['STATUS', 'MODEL SENT', 'CLIENT RECEIVED'],
      [[String(streamed.status), short(`the deploy key is ${secret}, rotate it soon`, 50), short(received, 60)]],
      streamed.status === 200 && !received.includes(secret) && received.includes('rotate it soon') ? [] : ['secret redacted in the stream, the rest delivered'],
    );

    const ok = steps.every((s) => s.failed.length === 0);
    print(ok ? '\nEvery step showed what it should.\n' : '\nSome steps did not show what they should (see FAILED above).\n');
    return { steps, ok, text: out.join('') };
  } finally {
    host?.shutdown();
    await Promise.all(models.map((m) => m.close()));
    await cp?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const timer = setTimeout(() => {
    process.stderr.write('demo: gave up after 60 s\n');
    process.exit(1);
  }, 60_000);
  timer.unref();
  try {
    const report = await runDemo({ print: (t) => process.stdout.write(t) });
    process.exitCode = report.ok ? 0 : 1;
  } catch (err) {
    process.stderr.write(`demo: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  }
}
