/**
 * `main` as a user runs it: a child process that prints the banner, answers on the addresses it
 * printed, and exits 0 on SIGTERM / SIGINT; a bad setting exits 2 naming it. Runs the built
 * dist/control-plane/src/main.js when it is newer than the sources, else the sources through tsx.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../../..');
const DIST_MAIN = join(ROOT, 'dist/control-plane/src/main.js');
const SRC_MAIN = join(ROOT, 'control-plane/src/main.ts');

function mainCommand(): string[] {
  const sources = [SRC_MAIN, join(ROOT, 'control-plane/src/control-plane.ts'), join(ROOT, 'control-plane/src/config/parse-settings.ts')];
  const fresh = existsSync(DIST_MAIN) && sources.every((s) => statSync(s).mtimeMs <= statSync(DIST_MAIN).mtimeMs);
  return fresh ? [DIST_MAIN] : ['--import', 'tsx', SRC_MAIN];
}

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(env: Record<string, string>, args: string[] = []): Run {
  const child = spawn(process.execPath, [...mainCommand(), ...args], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function waitFor(pred: () => boolean, ms: number, what: string, r: Run): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stdout:\n${r.stdout()}\nstderr:\n${r.stderr()}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

describe('main (spawned process)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mw-main-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['SIGTERM', 'SIGINT'] as const)('prints what is listening and the next command, then exits 0 on %s', async (signal) => {
    const dataDir = join(dir, `data-${signal}`);
    const r = run({ MESHWARD_DATA_DIR: dataDir, MESHWARD_XDS_PORT: '0', MESHWARD_API_PORT: '0', MESHWARD_LOG_LEVEL: 'info' });
    try {
      await waitFor(() => r.stdout().includes('Stop with Ctrl-C.'), 30_000, 'the banner', r);
      const out = r.stdout();
      const xds = /xDS \(ADS, gRPC\)\s+(127\.0\.0\.1:\d+)/.exec(out)?.[1];
      const api = /REST API\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      expect(xds).toBeDefined();
      expect(api).toBeDefined();
      expect(out).toContain(`admin token      ${join(dataDir, 'admin-token')}  (created now; keep it secret)`);
      expect(out).toContain(`curl -s -H "Authorization: Bearer $(cat ${join(dataDir, 'admin-token')})" ${api}/v1/workloads`);
      // the printed command works
      const token = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
      const res = await fetch(`${api}/v1/workloads`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      // structured JSON logs on stderr
      const lines = r.stderr().trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
      expect(lines.map((l) => l.msg)).toContain('control plane started');

      r.child.kill(signal);
      const { code } = await r.exit;
      expect(code).toBe(0);
      expect(r.stdout()).toContain('meshward control plane stopped');
      expect(r.stderr()).toContain('"msg":"shutting down"');
      // the ports are free again
      await expect(fetch(`${api}/healthz`)).rejects.toThrow();
    } finally {
      r.child.kill('SIGKILL');
    }
  }, 60_000);

  it.each([
    [{ MESHWARD_XDS_PORT: 'abc' }, [], 'xds.port (env MESHWARD_XDS_PORT): must be an integer between 0 and 65535'],
    [{ MESHWARD_TRUST_DOMAIN: 'spiffe://Mesh' }, [], 'trustDomain (env MESHWARD_TRUST_DOMAIN): must be a lower-case DNS-like name'],
    [{}, ['--config', 'does-not-exist.yaml'], 'config (--config): cannot read'],
  ])('exits 2 on a bad setting %j %j, naming it', async (env, args, message) => {
    const r = run({ MESHWARD_DATA_DIR: join(dir, 'bad'), ...env }, args);
    const { code } = await r.exit;
    expect(code).toBe(2);
    expect(r.stderr()).toContain(message);
    expect(r.stdout()).toBe('');
    expect(existsSync(join(dir, 'bad'))).toBe(false);
  }, 30_000);
});
