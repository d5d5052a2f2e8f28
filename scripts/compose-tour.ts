/**
 * The docker compose demo's client (`client` service): a scripted tour through the real Envoy
 * gateway and the control plane, printing one table per step. Exits 0 when every step showed what
 * it should, 1 otherwise (the failing check is named).
 *
 * Environment (set by docker-compose.yml): MESHWARD_GATEWAY_URL, MESHWARD_MTLS_URL,
 * MESHWARD_CERTS_DIR, MESHWARD_URL, MESHWARD_DATA_DIR (admin token), MESHWARD_ENVOY_ADMIN_URL.
 */
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../control-plane/src/cli/main.js';
import { formatTable } from '../control-plane/src/cli/table.js';
import { CERT_FILES, CLIENT_IDENTITY, INTRUDER_IDENTITY } from './compose-certs.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface TourResult {
  readonly ok: boolean;
  /** Names of the checks that failed. */
  readonly failures: readonly string[];
}

/**
 * Runs the tour against the gateway and control plane named by `environment` (the variables
 * above, defaults for a local run), printing through `write`.
 */
export async function runComposeTour(environment: Readonly<Record<string, string | undefined>>, write: (text: string) => void): Promise<TourResult> {
  const env = (k: string, d: string) => environment[k] ?? d;
  const GATEWAY = env('MESHWARD_GATEWAY_URL', 'http://127.0.0.1:10000');
  const MTLS = env('MESHWARD_MTLS_URL', 'https://127.0.0.1:10443');
  const CERTS = env('MESHWARD_CERTS_DIR', '/certs');
  const ADMIN = env('MESHWARD_ENVOY_ADMIN_URL', 'http://127.0.0.1:9901');

  const failures: string[] = [];
  function check(ok: boolean, what: string): string {
    if (!ok) failures.push(what);
    return ok ? 'ok' : 'FAILED';
  }
  function step(title: string, header: string[], rows: string[][]): void {
    write(`\n== ${title}\n${formatTable(header, rows)}`);
  }
  const chat = (content: string, extra: Record<string, unknown> = {}) => JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }], ...extra });

  async function post(body: string, headers: Record<string, string> = {}): Promise<{ status: number; version: string; text: string }> {
    const res = await fetch(`${GATEWAY}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    return { status: res.status, version: res.headers.get('x-mock-model-version') ?? '-', text: await res.text() };
  }

  function mtlsCall(identity: 'client' | 'intruder' | 'none'): Promise<{ status: string; text: string }> {
    const read = (f: string) => readFileSync(join(CERTS, f));
    const url = new URL(`${MTLS}/v1/chat/completions`);
    return new Promise((resolve) => {
      const req = httpsRequest(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          servername: 'envoy',
          ca: read(CERT_FILES.ca),
          ...(identity === 'client' ? { cert: read(CERT_FILES.clientCert), key: read(CERT_FILES.clientKey) } : {}),
          ...(identity === 'intruder' ? { cert: read(CERT_FILES.intruderCert), key: read(CERT_FILES.intruderKey) } : {}),
          headers: { 'content-type': 'application/json' },
          timeout: 10_000,
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString('utf8')));
          res.on('end', () => resolve({ status: String(res.statusCode), text }));
        },
      );
      req.on('error', (err) => resolve({ status: 'no connection', text: (err as NodeJS.ErrnoException).code ?? err.message }));
      req.end(chat('hello over mTLS'));
    });
  }

  async function waitForGateway(): Promise<void> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        const r = await fetch(`${ADMIN}/ready`);
        if (r.ok) return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`Envoy at ${ADMIN} not ready after 120s`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  const short = (s: string, n = 90) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
  /** An OpenAI-style error body as `<code>: <message>`. */
  const errorOf = (text: string): string => {
    try {
      const e = (JSON.parse(text) as { error: { code?: string; message?: string } }).error;
      return `${e.code ?? '?'}: ${e.message ?? ''}`;
    } catch {
      return text;
    }
  };
  const contentOf = (text: string): string => {
    try {
      return (JSON.parse(text) as { choices?: { message?: { content?: string } }[] }).choices?.[0]?.message?.content ?? text;
    } catch {
      return text;
    }
  };

  await waitForGateway();

  // 1. canary split
  const counts: Record<string, number> = {};
  const N = 50;
  for (let i = 0; i < N; i++) {
    const r = await post(chat(`request ${i}`));
    counts[r.version] = (counts[r.version] ?? 0) + 1;
  }
  step('1. canary split: 50 requests through the gateway (weights v1 80 / v2 20)', ['VERSION', 'ANSWERED', 'SHARE'], Object.entries(counts).sort().map(([v, n]) => [v, String(n), `${Math.round((n / N) * 100)}%`]));
  check((counts['v1'] ?? 0) > 0 && (counts['v2'] ?? 0) > 0 && (counts['v1'] ?? 0) > (counts['v2'] ?? 0), 'canary: both versions answered, v1 more');

  // 2. blocked card number
  const card = await post(chat('charge my card 4111 1111 1111 1111 please'));
  step('2. a prompt carrying a card number', ['STATUS', 'MODEL VERSION', 'BODY', 'CHECK'], [[String(card.status), card.version, short(errorOf(card.text)), check(card.status === 403 && card.version === '-', 'card: blocked by the proxy (403), no model answered')]]);

  // 3. redacted email
  const mail = await post(chat('write to jane.doe@corp.example about the invoice'));
  const mailContent = contentOf(mail.text);
  step('3. a prompt carrying an email address (the mock echoes what it received)', ['STATUS', 'MODEL VERSION', 'MODEL SAW', 'CHECK'], [[String(mail.status), mail.version, short(mailContent), check(mail.status === 200 && !mailContent.includes('jane.doe@corp.example') && mailContent.includes('[EMAIL]'), 'email: redacted before the model')]]);

  // 4. streamed reply with a secret split across SSE chunks
  const stream = await post(chat('tell me the key', { stream: true }), { 'x-mock-reply': 'the key is AKIAIOSFODNN7EXAMPLE, keep it safe' });
  const streamed = stream.text
    .split('\n\n')
    .filter((l) => l.startsWith('data: {'))
    .map((l) => ((JSON.parse(l.slice(6)) as { choices: { delta?: { content?: string } }[] }).choices[0]?.delta?.content ?? ''))
    .join('');
  step('4. the model streams a secret split across chunks', ['STATUS', 'CLIENT RECEIVED', 'CHECK'], [[String(stream.status), short(streamed), check(stream.status === 200 && !streamed.includes('AKIAIOSFODNN7EXAMPLE'), 'stream: AWS key redacted in the response stream')]]);

  // 5. mTLS
  const allowed = await mtlsCall('client');
  const denied = await mtlsCall('intruder');
  const anonymous = await mtlsCall('none');
  step('5. the mTLS listener (RBAC on the caller\'s SPIFFE ID)', ['CALLER', 'STATUS', 'BODY', 'CHECK'], [
    [CLIENT_IDENTITY, allowed.status, short(contentOf(allowed.text), 50), check(allowed.status === '200', 'mTLS: allowed identity gets 200')],
    [INTRUDER_IDENTITY, denied.status, short(denied.text, 50), check(denied.status === '403', 'mTLS: other identity gets 403')],
    ['(no client certificate)', anonymous.status, short(anonymous.text, 50), check(anonymous.status !== '200', 'mTLS: no certificate, no call')],
  ]);

  // 6. the control plane: the same intent as resources, explain, fleet
  let out = '';
  const io = { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (out += t) }, env: environment, cwd: ROOT };
  const applied = await runCli(['apply', '-f', 'envoy/compose/meshward.yaml'], io);
  const applyOut = out;
  out = '';
  const token = readFileSync(join(env('MESHWARD_DATA_DIR', '/data'), 'admin-token'), 'utf8').trim();
  const explain = async (caller: string) => {
    const r = await fetch(`${env('MESHWARD_URL', 'http://127.0.0.1:8080')}/v1/explain`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ caller, model: 'gpt-4o-mini', operation: 'infer' }),
    });
    return (await r.json()) as { decision?: string; reason?: string };
  };
  const e1 = await explain(CLIENT_IDENTITY);
  const e2 = await explain(INTRUDER_IDENTITY);
  step('6. the control plane: resources applied (meshward apply) and its authorization view (POST /v1/explain)', ['WHAT', 'RESULT', 'CHECK'], [
    ['meshward apply -f envoy/compose/meshward.yaml', short(applyOut.trim().replace(/\n/g, '; '), 70), check(applied === 0, 'apply: exit 0')],
    [`explain ${CLIENT_IDENTITY}`, `${e1.decision ?? '?'}: ${short(e1.reason ?? '', 50)}`, check(e1.decision === 'ALLOW', 'explain: client allowed')],
    [`explain ${INTRUDER_IDENTITY}`, `${e2.decision ?? '?'}: ${short(e2.reason ?? '', 50)}`, check(e2.decision === 'DENY', 'explain: intruder denied')],
  ]);

  write(failures.length === 0 ? '\nall steps showed what they should.\n' : `\nFAILED: ${failures.join('; ')}\n`);
  return { ok: failures.length === 0, failures };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await runComposeTour(process.env, (t) => process.stdout.write(t)).then(
    (r) => (r.ok ? 0 : 1),
    (err: unknown) => {
      process.stderr.write(`compose tour: ${(err as Error).message}\n`);
      return 1;
    },
  );
}
