/**
 * The compose client's tour (scripts/compose-tour.ts) end to end without Docker: a real control
 * plane, the two mock model servers, the demo certificates, and an Envoy stand-in built from
 * envoy/compose/envoy.yaml (emulated-envoy.ts) in place of the envoy service.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSettings } from '../../control-plane/src/config/index.js';
import { createControlPlane, type ControlPlane } from '../../control-plane/src/control-plane.js';
import { createMockModelServer, type MockModelServer } from '../../control-plane/src/mock-model/mock-model-server.js';
import { CERT_FILES, createComposeCerts } from '../../scripts/compose-certs.js';
import { runComposeTour } from '../../scripts/compose-tour.js';
import { startEmulatedEnvoy, type EmulatedEnvoy } from './emulated-envoy.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;
let cp: ControlPlane;
let models: MockModelServer[];
let envoy: EmulatedEnvoy;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'meshward-compose-'));
  const certs = await createComposeCerts();
  for (const [k, f] of Object.entries(CERT_FILES)) writeFileSync(join(dir, f), certs[k as keyof typeof CERT_FILES]);
  cp = createControlPlane(parseSettings({ env: { MESHWARD_DATA_DIR: join(dir, 'data'), MESHWARD_XDS_PORT: '0', MESHWARD_API_PORT: '0', MESHWARD_LOG_LEVEL: 'silent' } }), { logger: pino({ level: 'silent' }) });
  await cp.start();
  models = [createMockModelServer({ version: 'v1', chunkSize: 8 }), createMockModelServer({ version: 'v2', chunkSize: 8 })];
  const [u1, u2] = [await models[0]!.listen(), await models[1]!.listen()];
  envoy = await startEmulatedEnvoy({
    envoyYaml: readFileSync(join(ROOT, 'envoy/compose/envoy.yaml'), 'utf8'),
    wasm: new Uint8Array(readFileSync(join(ROOT, 'filter/build/meshward.wasm'))),
    services: { 'model-v1': u1.url, 'model-v2': u2.url },
    certsDir: dir,
  });
}, 30_000);

afterAll(async () => {
  await envoy?.close();
  await Promise.all((models ?? []).map((m) => m.close()));
  await cp?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('compose tour (scripts/compose-tour.ts) against an Envoy stand-in', () => {
  it('every step shows what the README says', async () => {
    let text = '';
    const result = await runComposeTour(
      {
        MESHWARD_GATEWAY_URL: envoy.gatewayUrl,
        MESHWARD_MTLS_URL: envoy.mtlsUrl,
        MESHWARD_ENVOY_ADMIN_URL: envoy.adminUrl,
        MESHWARD_CERTS_DIR: dir,
        MESHWARD_URL: cp.addresses!.api,
        MESHWARD_DATA_DIR: join(dir, 'data'),
      },
      (t) => (text += t),
    );
    expect(result.failures).toEqual([]);
    expect(result.ok).toBe(true);
    expect(text).toMatch(/^v1 +\d+ +\d+%$/m);
    expect(text).toMatch(/^v2 +\d+ +\d+%$/m);
    expect(text).toMatch(/^403 +- +.*credit_card.* +ok$/m);
    expect(text).toContain('[EMAIL]');
    expect(text).not.toContain('jane.doe@corp.example');
    expect(text).toContain('[AWS_ACCESS_KEY]');
    expect(text).toMatch(/^spiffe:\/\/meshward\.local\/ns\/demo\/sa\/client +200 /m);
    expect(text).toMatch(/^spiffe:\/\/meshward\.local\/ns\/demo\/sa\/intruder +403 +RBAC: access denied/m);
    expect(text).toMatch(/^\(no client certificate\) +no connection /m);
    expect(text).toMatch(/explain spiffe:\/\/meshward\.local\/ns\/demo\/sa\/client +ALLOW/);
    expect(text).toMatch(/explain spiffe:\/\/meshward\.local\/ns\/demo\/sa\/intruder +DENY/);
  }, 60_000);
});
