import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';

interface Started {
  child: ChildProcess;
  port: number;
  tokenPath: string;
  created: boolean;
  revision: number;
}

const childScript = new URL('./restart-child.ts', import.meta.url).pathname;

function start(dataDir: string): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', childScript, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child did not start: ${stderr}`)), 20_000);
    child.once('exit', (code) => reject(new Error(`child exited ${code}: ${stderr}`)));
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve({ child, ...(JSON.parse(line) as Omit<Started, 'child'>) });
    });
  });
}

function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('restart after an unclean kill (real SQLite file, child process)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'meshward-restart-'));
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged write and serves the same versions after SIGKILL', async () => {
    const first = await start(dataDir);
    children.push(first.child);
    expect(first.created).toBe(true);
    expect(statSync(first.tokenPath).mode & 0o777).toBe(0o600);
    const token = readFileSync(first.tokenPath, 'utf8').trim();
    const base = `http://127.0.0.1:${first.port}`;
    const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(base + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, etag: res.headers.get('etag'), version: res.headers.get('meshward-config-version'), body: (await res.json()) as Record<string, unknown> };
    };

    const acked: Record<string, string | null> = {};
    const model = { name: 'chat', versions: [{ name: 'v1', weight: 90, endpoints: [{ address: '10.0.0.1', port: 8000 }] }, { name: 'v2', weight: 10, endpoints: [{ address: '10.0.0.2', port: 8000 }] }] };
    let r = await call('POST', '/v1/models', model);
    expect(r.status).toBe(201);
    r = await call('PUT', '/v1/models/chat/weights', { v1: 50, v2: 50 }, { 'if-match': r.etag! });
    expect(r.status).toBe(200);
    acked['models/chat'] = r.etag;
    for (let i = 0; i < 20; i++) {
      r = await call('POST', '/v1/workloads', { name: `w${i}`, namespace: 'ai', serviceAccount: `sa${i}`, role: 'gateway' });
      expect(r.status).toBe(201);
      acked[`workloads/ai/w${i}`] = r.etag;
    }
    r = await call('POST', '/v1/rate-limits', { name: 'chat-rl', model: 'chat', bucket: { maxTokens: 10, fillIntervalMs: 1000 } });
    expect(r.status).toBe(201);
    acked['rate-limits/chat-rl'] = r.etag;
    r = await call('POST', '/v1/tokens', { name: 'ci', role: 'viewer' });
    expect(r.status).toBe(201);
    const viewerToken = r.body['token'] as string;
    const lastVersion = Number(r.version ?? (await call('GET', '/v1/mesh')).version);

    // The last write was acknowledged: kill without any chance to flush or close.
    await kill9(first.child);

    const second = await start(dataDir);
    children.push(second.child);
    expect(second.created).toBe(false); // the admin token file is not rewritten
    expect(second.revision).toBe(lastVersion);
    const base2 = `http://127.0.0.1:${second.port}`;
    const get = async (path: string, t = token) => {
      const res = await fetch(base2 + path, { headers: { authorization: `Bearer ${t}` } });
      return { status: res.status, etag: res.headers.get('etag'), version: res.headers.get('meshward-config-version'), body: (await res.json()) as Record<string, unknown> };
    };
    for (const [path, etag] of Object.entries(acked)) {
      const g = await get(`/v1/${path}`);
      expect(g.status, path).toBe(200);
      expect(g.etag, path).toBe(etag);
    }
    const chat = await get('/v1/models/chat');
    expect((chat.body['versions'] as { weight: number }[]).map((v) => v.weight)).toEqual([50, 50]);
    expect(Number(chat.version)).toBe(lastVersion);
    // the token created before the kill still works
    expect((await get('/v1/workloads?limit=100', viewerToken)).status).toBe(200);
    const audit = await get('/v1/audit?kind=workloads&limit=1000');
    expect((audit.body['items'] as unknown[]).length).toBe(20);
    // nothing changed by the restart itself
    expect((await get('/v1/mesh')).version).toBe(String(lastVersion));
    await kill9(second.child);
  }, 60_000);
});
