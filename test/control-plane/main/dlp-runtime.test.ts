/**
 * The DLP runtime the control plane wires in: the compiled filter (filter/build/meshward.wasm,
 * found by walking up from the module, not from the working directory) run by meshward's own
 * proxy-wasm host (control-plane/src/wasm-host). Checked in-process, then through `main` as a user
 * starts it — from the sources under tsx and from the compiled dist/ tree — each time from a
 * working directory outside the repository: the dry run answers 200 with the filter's verdict
 * and a DLP policy the filter's schema refuses is refused naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findDlpRuntime } from '../../../control-plane/src/control-plane.js';
import { createDlpEngine } from '../../../control-plane/src/api/dlp-engine.js';
import { findRepoFile } from '../../../control-plane/src/api/dlp-config-check.js';
import { createEnvoyHost } from '../../../control-plane/src/wasm-host/index.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const WASM = join(ROOT, 'filter/build/meshward.wasm');
const DIST_MAIN = join(ROOT, 'dist/control-plane/src/main.js');
const CARD = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'card 4111 1111 1111 1111' }] });

/** Every source the dist/ DLP wiring is compiled from; dist/ is only meaningful when newer than all of them. */
function newestSourceMs(): number {
  const files = [
    'control-plane/src/main.ts',
    'control-plane/src/control-plane.ts',
    'control-plane/src/api/dlp-engine.ts',
    'control-plane/src/api/dlp-config-check.ts',
    'control-plane/src/api/routes/dlp-policies.ts',
    'control-plane/src/cli/proxy-wasm-host.ts',
    ...readdirSync(join(ROOT, 'control-plane/src/wasm-host')).map((f) => `control-plane/src/wasm-host/${f}`),
  ];
  return Math.max(...files.map((f) => statSync(join(ROOT, f)).mtimeMs));
}
const distFresh = existsSync(DIST_MAIN) && statSync(DIST_MAIN).mtimeMs >= newestSourceMs();

describe('DLP runtime wiring', () => {
  it('findDlpRuntime: the repository filter and the runtime proxy-wasm host (createEnvoyHost), independent of the working directory', async () => {
    const cwd = process.cwd();
    process.chdir(tmpdir());
    try {
      const runtime = await findDlpRuntime();
      expect(runtime.wasm).toBe(WASM);
      expect(runtime.createHost).toBe(createEnvoyHost);
      const r = await createDlpEngine(runtime).dryRun({ config: { detectors: { credit_card: { action: 'block' } } }, payload: CARD, contentType: 'application/json', path: '/v1/chat/completions', direction: 'request' });
      expect(r.verdict).toBe('block');
    } finally {
      process.chdir(cwd);
    }
    // the same walk finds the filter from the compiled tree's location
    expect(findRepoFile('filter/build/meshward.wasm', join(ROOT, 'dist/control-plane/src/api'))).toBe(WASM);
    expect(findRepoFile('filter/config.schema.json', join(ROOT, 'dist/control-plane/src/api'))).toBe(join(ROOT, 'filter/config.schema.json'));
  });
});

const variants: Array<[label: string, enabled: () => boolean, argv: () => string[]]> = [
  ['sources (tsx)', () => true, (): string[] => ['--import', import.meta.resolve('tsx'), join(ROOT, 'control-plane/src/main.ts')]],
  ['dist/ (npm run build:ts)', () => distFresh, (): string[] => [DIST_MAIN]],
];

describe.each(variants)('main from %s answers the DLP dry run', (label, enabled, argv) => {
  let dir: string;
  let child: ReturnType<typeof spawn> | undefined;
  let api = '';
  let token = '';
  let out = '';
  let err = '';

  beforeAll(async () => {
    if (!enabled()) return;
    dir = mkdtempSync(join(tmpdir(), 'mw-dlp-'));
    child = spawn(process.execPath, argv(), {
      cwd: dir,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', MESHWARD_DATA_DIR: join(dir, 'data'), MESHWARD_XDS_PORT: '0', MESHWARD_API_PORT: '0', MESHWARD_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    for (let i = 0; i < 600 && !out.includes('Stop with Ctrl-C.'); i++) await new Promise((r) => setTimeout(r, 50));
    api = /REST API\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1] ?? '';
    if (api === '') throw new Error(`${label}: main did not start; stdout:\n${out}\nstderr:\n${err}`);
    token = readFileSync(join(dir, 'data', 'admin-token'), 'utf8').trim();
  }, 60_000);

  afterAll(async () => {
    if (child !== undefined && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      child.kill('SIGKILL');
    }
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${api}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  it.skipIf(!enabled())(`dry-runs the real filter (200) and refuses a config the filter's schema refuses — ${label}${enabled() ? '' : ' (skipped: dist/ is missing or older than the sources; run npm run build:ts)'}`, async () => {
    const r = await post('/v1/dlp-policies/dry-run', { config: { detectors: { credit_card: { action: 'block' } } }, payload: CARD });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body['verdict']).toBe('block');
    expect(r.body['findings'].map((f: { detector: string }) => f.detector)).toContain('credit_card');
    const bad = await post('/v1/dlp-policies', { name: 'bad', scope: { kind: 'global' }, config: { detectors: { credit_card: { action: 'shred' } } } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body['errors'])).toContain('/config/detectors/credit_card/action');
    // nothing in the log says the runtime is missing
    expect(err).not.toMatch(/DLP dry run is unavailable/);
  }, 30_000);
});
