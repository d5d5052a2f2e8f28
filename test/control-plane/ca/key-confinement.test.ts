import { createPrivateKey } from 'node:crypto';
import { toBinary } from '@bufbuild/protobuf';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SecretSchema } from '../../../control-plane/src/gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import {
  createManualClock,
  createMemoryCaStore,
  createMeshCa,
  createSecretsProvider,
} from '../../../control-plane/src/ca/index.js';
import { idOf, TD } from './ca-test-kit.js';

describe('the CA key never leaves the control plane', () => {
  it('appears in no secret, bundle, API output, log line or metric — across issuance, revocation and rotation', async () => {
    const store = createMemoryCaStore();
    const logs: string[] = [];
    const registry = new Registry();
    const clock = createManualClock(Date.now());
    const ca = await createMeshCa({ trustDomain: TD, store, clock, registry, propagationDelayMs: 1000, log: (l, m) => logs.push(`${l} ${m}`) });
    const sds = createSecretsProvider(ca);
    const outputs: Uint8Array[] = [];
    const collect = async (): Promise<void> => {
      for (const id of [idOf('a', 'one'), idOf('b', 'two')]) {
        for (const s of await sds.secretsFor({ id, method: 'join-token' })) outputs.push(toBinary(SecretSchema, s));
      }
      const api = {
        bundle: ca.bundle(),
        authorities: ca.authorities(),
        certs: await ca.listCertificates({ limit: 1000 }),
        tokens: await ca.listJoinTokens(),
        rotation: ca.rotationStatus() ?? null,
      };
      outputs.push(Buffer.from(JSON.stringify(api)));
      outputs.push(Buffer.from(await registry.metrics()));
    };
    await ca.issueJoinToken(idOf('a', 'one'));
    await collect();
    const first = await ca.currentCertificate(ca.parseIdentity(idOf('a', 'one')));
    await ca.revokeCertificate(first.serialNumber);
    await ca.issueJoinToken(idOf('a', 'one'));
    await collect();
    const serving = await ca.servingCertificate({ ipAddresses: ['127.0.0.1'] });
    outputs.push(Buffer.from(JSON.stringify(serving.current())));
    await ca.rotateCa();
    await collect();
    await clock.advance(1000);
    await collect();
    await clock.advance(1000);
    await collect();
    outputs.push(Buffer.from(logs.join('\n')));
    expect(logs.length).toBeGreaterThan(3);

    // every CA key that ever existed (old and new)
    const caKeys: string[] = [];
    for (const a of ca.authorities()) caKeys.push(await store.loadKey(a.id));
    expect(caKeys.length).toBeGreaterThan(0);
    const forms = caKeys.flatMap((pem) => {
      const k = createPrivateKey(pem);
      const der = k.export({ type: 'pkcs8', format: 'der' });
      const jwk = k.export({ format: 'jwk' });
      return [pem.split('\n')[1]!, der.toString('base64').slice(20, 80), Buffer.from(jwk.d!, 'base64url').toString('hex'), jwk.d!];
    });
    const all = Buffer.concat(outputs);
    for (const f of forms) expect(all.includes(Buffer.from(f))).toBe(false);
    // nor the raw private scalar, in binary
    for (const pem of caKeys) expect(all.includes(Buffer.from(createPrivateKey(pem).export({ format: 'jwk' }).d!, 'base64url'))).toBe(false);
    ca.close();
  });
});

describe('issuance metrics', () => {
  it('counts issued, rotated, failed and reports seconds to the soonest expiry', async () => {
    const registry = new Registry();
    const clock = createManualClock(Date.now());
    const ca = await createMeshCa({ trustDomain: TD, store: createMemoryCaStore(), clock, registry, workloadCertTtlMs: 600_000 });
    const value = async (name: string, labels: Record<string, string> = {}): Promise<number | undefined> => {
      const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
      const v = m?.values.find((x) => Object.entries(labels).every(([k, l]) => (x.labels as Record<string, unknown>)[k] === l));
      return v?.value;
    };
    expect(await value('meshward_ca_soonest_certificate_expiry_seconds')).toBeNaN();
    await ca.currentCertificate(ca.parseIdentity(idOf('a', 'one')));
    await clock.advance(60_000);
    await ca.currentCertificate(ca.parseIdentity(idOf('a', 'two')));
    expect(await value('meshward_ca_certificates_issued_total', { kind: 'initial' })).toBe(2);
    // the soonest is the first one: 600 s lifetime, issued 60 s ago
    const soonest = (await value('meshward_ca_soonest_certificate_expiry_seconds'))!;
    expect(soonest).toBeGreaterThan(539); // notAfter has second precision
    expect(soonest).toBeLessThanOrEqual(540);
    await clock.advance(300_000); // first renews at 300 s of its life
    expect(await value('meshward_ca_certificates_issued_total', { kind: 'renewal' })).toBe(2);
    expect(await value('meshward_ca_certificates_rotated_total')).toBe(2);
    expect(await value('meshward_ca_active_identities')).toBe(2);
    await ca.revokeCertificate((await ca.currentCertificate(ca.parseIdentity(idOf('a', 'two')))).serialNumber);
    expect(await value('meshward_ca_certificates_revoked_total')).toBe(1);
    ca.close();
    // a failing issuance is counted
    const reg2 = new Registry();
    const broken = await createMeshCa({
      trustDomain: TD,
      store: createMemoryCaStore(),
      clock,
      registry: reg2,
      certificates: {
        ...(await import('../../../control-plane/src/ca/index.js')).createMemoryIssuedCertificateStore(),
        add: async () => {
          throw new Error('disk full');
        },
      },
    });
    await expect(broken.currentCertificate(broken.parseIdentity(idOf('a', 'x')))).rejects.toThrow(/disk full/);
    const failed = (await reg2.getMetricsAsJSON()).find((m) => m.name === 'meshward_ca_issuance_failures_total');
    expect(failed?.values[0]?.value).toBe(1);
    broken.close();
  });
});
