import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createFileCaStore,
  createManualClock,
  createMeshCa,
  createSecretsProvider,
  type ManualClock,
  type MeshCa,
} from '../../../control-plane/src/ca/index.js';
import { idOf, mutualHandshake, newMeshCa, pemsFromSecrets, splitCerts, type WorkloadPems } from './ca-test-kit.js';

const A = idOf('prod', 'model-a');
const B = idOf('prod', 'gateway');
const MIN = 60_000;

const cas: MeshCa[] = [];
afterAll(() => cas.forEach((c) => c.close()));

/** Records every secrets-changed signal. */
function recorder(ca: MeshCa): { events: (readonly string[] | 'all')[]; clear(): void } {
  const events: (readonly string[] | 'all')[] = [];
  ca.onSecretsChanged((ids) => events.push(ids ?? 'all'));
  return { events, clear: () => (events.length = 0) };
}

const serialOf = (p: WorkloadPems): string => new X509Certificate(splitCerts(p.chain)[0]!).serialNumber.toLowerCase();
const issuerOf = (p: WorkloadPems): string => new X509Certificate(splitCerts(p.chain)[0]!).issuer;

describe('workload certificate renewal', () => {
  it('re-issues at 50% of the lifetime, signals the identity, and never lets the certificate expire', async () => {
    const clock = createManualClock(Date.now());
    const ttl = 10 * MIN;
    const ca = await newMeshCa({ clock, workloadCertTtlMs: ttl });
    cas.push(ca);
    const sds = createSecretsProvider(ca);
    const rec = recorder(ca);
    const first = pemsFromSecrets(await sds.secretsFor({ id: A, method: 'join-token' }));
    const b = pemsFromSecrets(await sds.secretsFor({ id: B, method: 'join-token' }));
    const firstSerial = serialOf(first);

    await clock.advance(ttl / 2 - 1000);
    expect(rec.events).toEqual([]);
    expect(serialOf(pemsFromSecrets(await sds.secretsFor({ id: A, method: 'join-token' })))).toBe(firstSerial);

    await clock.advance(2000);
    expect(rec.events).toEqual(expect.arrayContaining([[A], [B]]));
    const second = pemsFromSecrets(await sds.secretsFor({ id: A, method: 'join-token' }));
    expect(serialOf(second)).not.toBe(firstSerial);
    expect(second.key).not.toBe(first.key); // a new key pair, not just a new certificate
    expect((await ca.getCertificate(firstSerial))?.status).toBe('superseded');
    // Connections still using the previous certificate keep working with renewed peers.
    expect(await mutualHandshake(first, second, { serverId: A, clientId: A })).toMatchObject({ ok: true });
    expect(await mutualHandshake(b, second, { serverId: B, clientId: A })).toMatchObject({ ok: true });

    // Over several lifetimes, the current certificate is always valid.
    for (let i = 0; i < 8; i++) {
      await clock.advance(ttl / 4);
      const svid = await ca.currentCertificate(ca.parseIdentity(A));
      expect(svid.notAfterMs - clock.now()).toBeGreaterThanOrEqual(ttl / 2 - 2 * MIN);
    }
    const list = await ca.listCertificates({ spiffeId: A });
    expect(list.items.length).toBeGreaterThanOrEqual(5);
    expect(list.items.filter((r) => r.status === 'active')).toHaveLength(1);
  });

  it('honours a configurable renewal fraction', async () => {
    const clock = createManualClock(Date.now());
    const ca = await newMeshCa({ clock, workloadCertTtlMs: 100 * MIN, renewAtFraction: 0.8 });
    cas.push(ca);
    const rec = recorder(ca);
    await ca.currentCertificate(ca.parseIdentity(A));
    await clock.advance(79 * MIN);
    expect(rec.events).toEqual([]);
    await clock.advance(2 * MIN);
    expect(rec.events).toEqual([[A]]);
  });

  it('a revoked workload gets no renewal and no secrets until a new join token is issued', async () => {
    const clock = createManualClock(Date.now());
    const ca = await newMeshCa({ clock, workloadCertTtlMs: 10 * MIN });
    cas.push(ca);
    const sds = createSecretsProvider(ca);
    const { record: token } = await ca.issueJoinToken(A);
    const svid = await ca.currentCertificate(ca.parseIdentity(A));
    const rec = recorder(ca);
    await ca.revokeCertificate(svid.serialNumber, 'decommissioned');
    expect(rec.events).toEqual(expect.arrayContaining(['all', [A]]));
    expect((await ca.listJoinTokens({ spiffeId: A }))[0]?.revokedAt).toBeDefined();
    expect(token.revokedAt).toBeUndefined();
    await expect(ca.verifyPeerCertificate(new X509Certificate(svid.certificatePem).raw)).rejects.toThrow(/revoked/);
    rec.clear();
    await clock.advance(20 * MIN);
    expect(rec.events.filter((e) => e !== 'all')).toEqual([]); // no renewal pushed
    expect(ca.activeIdentities()).not.toContain(A);
    await expect(sds.secretsFor({ id: A, method: 'join-token' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await ca.issueJoinToken(A);
    const again = await ca.currentCertificate(ca.parseIdentity(A));
    expect(again.serialNumber).not.toBe(svid.serialNumber);
  });
});

describe('CA rotation', () => {
  async function setup(clock: ManualClock, store = undefined as Parameters<typeof createMeshCa>[0]['store'] | undefined) {
    const ca = await newMeshCa({ clock, propagationDelayMs: MIN, workloadCertTtlMs: 60 * MIN, ...(store ? { store } : {}) });
    cas.push(ca);
    return { ca, sds: createSecretsProvider(ca) };
  }

  it('publishes old+new roots, re-issues every workload from the new CA, then retires the old root; handshakes work throughout', async () => {
    const clock = createManualClock(Date.now());
    const { ca, sds } = await setup(clock);
    const get = async (id: string): Promise<WorkloadPems> => pemsFromSecrets(await sds.secretsFor({ id, method: 'mtls' }));
    const a0 = await get(A);
    const b0 = await get(B);
    const oldId = ca.authority.active().id;
    const rec = recorder(ca);

    // Phase 1: publish. Old CA still signs; the bundle holds both roots; everyone gets a new ROOTCA.
    const status = await ca.rotateCa();
    expect(status).toMatchObject({ phase: 'publish', fromId: oldId, pendingIdentities: 2 });
    expect(rec.events).toContain('all');
    expect(ca.bundle().roots).toHaveLength(2);
    const a1 = await get(A);
    const b1 = await get(B);
    expect(serialOf(a1)).toBe(serialOf(a0));
    expect(a1.trustedCa).not.toBe(a0.trustedCa);
    // old leaves, new bundles, and a peer that has not received the new bundle yet
    expect(await mutualHandshake(a1, b1, { serverId: A, clientId: B, useCrl: true })).toMatchObject({ ok: true });
    expect(await mutualHandshake(a1, b0, { serverId: A, clientId: B, useCrl: true })).toMatchObject({ ok: true });
    expect(await mutualHandshake(b0, a1, { serverId: B, clientId: A, useCrl: true })).toMatchObject({ ok: true });

    // Phase 2: after the propagation delay the new CA signs and every active workload is re-issued.
    rec.clear();
    await clock.advance(MIN);
    expect(ca.rotationStatus()).toMatchObject({ phase: 'retire', pendingIdentities: 0 });
    expect(ca.authority.active().id).not.toBe(oldId);
    expect(rec.events).toEqual(expect.arrayContaining([[A], [B]]));
    const a2 = await get(A);
    expect(issuerOf(a2)).not.toBe(issuerOf(a1));
    expect(ca.bundle().roots).toHaveLength(2);
    // overlap: new leaf <-> old leaf, both directions (B still holds its phase-1 material)
    expect(await mutualHandshake(a2, b1, { serverId: A, clientId: B, useCrl: true })).toMatchObject({ ok: true });
    expect(await mutualHandshake(b1, a2, { serverId: B, clientId: A, useCrl: true })).toMatchObject({ ok: true });
    const b2 = await get(B);
    expect(await mutualHandshake(a2, b2, { serverId: A, clientId: B, useCrl: true })).toMatchObject({ ok: true });
    // a workload that appears now is issued by the new CA
    const c = await get(idOf('prod', 'late'));
    expect(issuerOf(c)).toBe(issuerOf(a2));

    // Phase 3: the old root leaves the bundle once every active workload has a new certificate.
    rec.clear();
    await clock.advance(MIN);
    expect(ca.rotationStatus()).toBeUndefined();
    expect(rec.events).toContain('all');
    expect(ca.bundle().roots).toHaveLength(1);
    expect(ca.authorities().map((x) => x.id)).toEqual([ca.authority.active().id]);
    const a3 = await get(A);
    const b3 = await get(B);
    expect(await mutualHandshake(a3, b3, { serverId: A, clientId: B, useCrl: true })).toMatchObject({ ok: true });
    // an old-CA leaf is no longer trusted after retirement
    expect(await mutualHandshake(a3, b0, { serverId: A, clientId: B })).toMatchObject({ ok: false });
    await expect(ca.verifyPeerCertificate(new X509Certificate(splitCerts(a0.chain)[0]!).raw)).rejects.toThrow(/not issued by a CA in the current trust bundle/);
  });

  it('refuses a second rotation while one runs', async () => {
    const clock = createManualClock(Date.now());
    const { ca } = await setup(clock);
    await ca.rotateCa();
    await expect(ca.rotateCa()).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('resumes a rotation after a restart and deletes the retired key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mw-rot-'));
    try {
      const clock = createManualClock(Date.now());
      const first = await createMeshCa({ trustDomain: 'mesh.test', store: createFileCaStore({ dir }), clock, propagationDelayMs: MIN });
      await first.currentCertificate(first.parseIdentity(A));
      await first.rotateCa({ keyAlgorithm: 'ECDSA_P384' });
      first.close();
      expect(readdirSync(join(dir, 'keys'))).toHaveLength(2);
      const second = await createMeshCa({ trustDomain: 'mesh.test', store: createFileCaStore({ dir }), clock, propagationDelayMs: MIN });
      cas.push(second);
      expect(second.rotationStatus()?.phase).toBe('publish');
      await second.currentCertificate(second.parseIdentity(B));
      await clock.advance(MIN);
      expect(second.rotationStatus()?.phase).toBe('retire');
      expect((await second.currentCertificate(second.parseIdentity(B))).issuerKeyId).toBe(second.authority.active().id);
      expect(second.authority.active().keyAlgorithm).toBe('ECDSA_P384');
      await clock.advance(MIN);
      expect(second.rotationStatus()).toBeUndefined();
      expect(readdirSync(join(dir, 'keys'))).toEqual([`${second.authority.active().id}.key`]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
