import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CaError,
  createFileCaStore,
  createManualClock,
  createMeshCa,
  decryptPrivateKey,
  encryptPrivateKey,
  type MeshCa,
  type OperatorCaFiles,
} from '../../../control-plane/src/ca/index.js';
import { idOf, mutualHandshake, openssl, opensslVerify, splitCerts, TD, workloadPems } from './ca-test-kit.js';

const dirs: string[] = [];
const cas: MeshCa[] = [];
afterAll(() => {
  cas.forEach((c) => c.close());
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'mw-ca-'));
  dirs.push(d);
  return d;
};
const start = async (dir: string, extra: Record<string, unknown> = {}): Promise<MeshCa> => {
  const ca = await createMeshCa({ trustDomain: TD, store: createFileCaStore({ dir, ...extra }), clock: createManualClock(), ...extra });
  cas.push(ca);
  return ca;
};
const mode = (p: string): number => statSync(p).mode & 0o777;

describe('file CA store', () => {
  it('creates the CA on first start with 0600 files and reloads the same CA after a restart', async () => {
    const dir = tempDir();
    const first = await start(dir);
    const id = first.authority.active().id;
    const v1 = Number(first.bundle().version);
    const before = await workloadPems(first, idOf('a', 'one'));
    const firstBundle = first.bundle();
    first.close();
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(dir, 'ca-state.json'))).toBe(0o600);
    expect(mode(join(dir, 'keys', `${id}.key`))).toBe(0o600);
    expect(readFileSync(join(dir, 'keys', `${id}.key`), 'utf8')).toContain('-----BEGIN PRIVATE KEY-----');
    // the state file holds no key material
    expect(readFileSync(join(dir, 'ca-state.json'), 'utf8')).not.toContain('PRIVATE KEY');

    const second = await start(dir);
    expect(second.authority.active().id).toBe(id);
    expect(second.bundle().roots).toEqual(first.bundle().roots);
    // a restart publishes the same bundle: same version, same roots and CRLs (no spurious push)
    expect(Number(second.bundle().version)).toBe(v1);
    expect(second.bundle().crlsPem).toBe(firstBundle.crlsPem);
    // certificates from before the restart still validate against the reloaded bundle
    const after = await workloadPems(second, idOf('a', 'two'));
    expect(await mutualHandshake(before, after, { serverId: idOf('a', 'one'), clientId: idOf('a', 'two') })).toMatchObject({ ok: true });
  });

  it('narrows a widened key file back to 0600 when it is rewritten', async () => {
    const dir = tempDir();
    const store = createFileCaStore({ dir });
    await store.saveKey('abcdef0123456789', 'k');
    const { chmodSync } = await import('node:fs');
    chmodSync(join(dir, 'keys', 'abcdef0123456789.key'), 0o644);
    await store.saveKey('abcdef0123456789', 'k2');
    expect(mode(join(dir, 'keys', 'abcdef0123456789.key'))).toBe(0o600);
    await expect(store.saveKey('../escape', 'x')).rejects.toThrow(/not a hex key identifier/);
  });

  it('encrypts the CA key at rest with a passphrase (scrypt + AES-256-GCM) and round-trips it', async () => {
    const dir = tempDir();
    const first = await start(dir, { keyPassphrase: 'correct horse battery staple' });
    const id = first.authority.active().id;
    first.close();
    const keyFile = join(dir, 'keys', `${id}.key`);
    const stored = readFileSync(keyFile, 'utf8');
    expect(stored).not.toContain('PRIVATE KEY');
    expect(JSON.parse(stored)).toMatchObject({ format: 'meshward-encrypted-key/v1', kdf: 'scrypt', N: 32768, r: 8, p: 1 });
    expect(mode(keyFile)).toBe(0o600);

    const again = await start(dir, { keyPassphrase: 'correct horse battery staple' });
    expect(again.authority.active().id).toBe(id);
    await workloadPems(again, idOf('a', 'b')); // it can sign
    again.close();

    const saved = process.env.MESHWARD_CA_KEY_PASSPHRASE;
    delete process.env.MESHWARD_CA_KEY_PASSPHRASE;
    try {
      const locked = start(dir);
      await expect(locked).rejects.toBeInstanceOf(CaError);
      await expect(locked).rejects.toThrow(new RegExp(`${keyFile.replaceAll('/', '\\/')}: the CA key is encrypted; set MESHWARD_CA_KEY_PASSPHRASE`));
      await expect(start(dir, { keyPassphrase: 'wrong' })).rejects.toThrow(/wrong passphrase or the file was modified/);
      process.env.MESHWARD_CA_KEY_PASSPHRASE = 'correct horse battery staple';
      const fromEnv = await start(dir);
      expect(fromEnv.authority.active().id).toBe(id);
    } finally {
      if (saved === undefined) delete process.env.MESHWARD_CA_KEY_PASSPHRASE;
      else process.env.MESHWARD_CA_KEY_PASSPHRASE = saved;
    }
  });

  it('detects a tampered envelope', () => {
    const env = JSON.parse(encryptPrivateKey('-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n', 'pw'));
    expect(decryptPrivateKey(JSON.stringify(env), 'pw', 'f')).toContain('abc');
    const ct = Buffer.from(env.ciphertext, 'base64');
    ct[0] = ct[0]! ^ 1;
    env.ciphertext = ct.toString('base64');
    expect(() => decryptPrivateKey(JSON.stringify(env), 'pw', 'f')).toThrow(/f: cannot decrypt/);
  });

  it('refuses a state directory of another trust domain', async () => {
    const dir = tempDir();
    (await start(dir)).close();
    await expect(createMeshCa({ trustDomain: 'other.test', store: createFileCaStore({ dir }) })).rejects.toThrow(/belongs to trust domain 'mesh.test', not 'other.test'/);
  });
});

/** An operator PKI made with the openssl CLI, as an operator would. */
function operatorPki(dir: string, name = 'Acme'): OperatorCaFiles & { rootKey: string } {
  const p = (f: string): string => join(dir, f);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p('root.key'), '-out', p('root.pem'), '-days', '3650',
    '-subj', `/O=${name}/CN=${name} Root`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', p('int.key'), '-out', p('int.csr'), '-subj', `/O=${name}/CN=${name} Mesh Intermediate`], dir);
  writeFileSync(p('int.ext'), 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n');
  openssl(['x509', '-req', '-in', p('int.csr'), '-CA', p('root.pem'), '-CAkey', p('root.key'), '-CAcreateserial', '-out', p('int.pem'), '-days', '365', '-extfile', p('int.ext')], dir);
  return { certificateFile: p('int.pem'), privateKeyFile: p('int.key'), rootFile: p('root.pem'), rootKey: p('root.key') };
}

describe('bring your own CA (operator intermediate under their own root)', () => {
  it('issues under the operator intermediate; leaves carry leaf + intermediate; openssl and TLS accept them', async () => {
    const dir = tempDir();
    const files = operatorPki(dir);
    const ca = await start(tempDir(), { operatorCa: files });
    expect(ca.authority.active()).toMatchObject({ source: 'operator', subject: 'O=Acme, CN=Acme Mesh Intermediate' });
    expect(ca.bundle().roots).toHaveLength(1);
    expect(ca.bundle().rootsPem.trim()).toBe(readFileSync(files.rootFile, 'utf8').trim());
    const a = await workloadPems(ca, idOf('prod', 'a'));
    const b = await workloadPems(ca, idOf('prod', 'b'));
    const chain = splitCerts(a.chain);
    expect(chain).toHaveLength(2);
    expect(chain[1]!.trim()).toBe(readFileSync(files.certificateFile, 'utf8').trim());
    const v = opensslVerify({ bundle: a.trustedCa, chain: chain.slice(1).join(''), leaf: chain[0]! });
    expect(v.output).toContain(': OK');
    expect(opensslVerify({ bundle: a.trustedCa, leaf: chain[0]! }).ok).toBe(false); // the intermediate is needed
    expect(await mutualHandshake(a, b, { serverId: idOf('prod', 'a'), clientId: idOf('prod', 'b') })).toMatchObject({ ok: true });
    // Envoy checks the leaf against the published CRL only (only_verify_leaf_cert_crl), as
    // `openssl verify -crl_check` does: the operator's root needs no CRL from us.
    expect(opensslVerify({ bundle: a.trustedCa, chain: chain.slice(1).join(''), leaf: chain[0]!, crl: a.crl }).output).toContain(': OK');
    await ca.revokeCertificate(new (await import('node:crypto')).X509Certificate(chain[0]!).serialNumber);
    const after = await workloadPems(ca, idOf('prod', 'b'));
    expect(opensslVerify({ bundle: after.trustedCa, chain: chain.slice(1).join(''), leaf: chain[0]!, crl: after.crl }).output).toMatch(/certificate revoked/);
  });

  it('accepts an SEC1 key file and a passphrase-protected key file', async () => {
    const dir = tempDir();
    const files = operatorPki(dir);
    openssl(['ec', '-in', files.privateKeyFile, '-out', join(dir, 'sec1.key')], dir);
    expect(readFileSync(join(dir, 'sec1.key'), 'utf8')).toContain('BEGIN EC PRIVATE KEY');
    const ca1 = await start(tempDir(), { operatorCa: { ...files, privateKeyFile: join(dir, 'sec1.key') } });
    expect(ca1.authority.active().source).toBe('operator');
    openssl(['pkcs8', '-topk8', '-in', files.privateKeyFile, '-out', join(dir, 'enc.key'), '-passout', 'pass:s3cret'], dir);
    const ca2 = await start(tempDir(), { operatorCa: { ...files, privateKeyFile: join(dir, 'enc.key'), privateKeyPassphrase: 's3cret' } });
    expect(ca2.authority.active().id).toBe(ca1.authority.active().id);
  });

  it('rejects bad operator files with errors naming the file and the reason', async () => {
    const dir = tempDir();
    const files = operatorPki(dir);
    const other = operatorPki(tempDir(), 'Other');
    const attempt = (f: Partial<OperatorCaFiles>) => start(tempDir(), { operatorCa: { ...files, ...f } });
    await expect(attempt({ privateKeyFile: other.privateKeyFile })).rejects.toThrow(`${other.privateKeyFile}: does not match the public key of ${files.certificateFile}`);
    await expect(attempt({ rootFile: other.rootFile })).rejects.toThrow(`${files.certificateFile}: is not signed by ${other.rootFile} (chain does not validate)`);
    await expect(attempt({ certificateFile: join(dir, 'missing.pem') })).rejects.toThrow(`${join(dir, 'missing.pem')}: cannot read the CA certificate (ENOENT)`);
    writeFileSync(join(dir, 'garbage.pem'), 'hello');
    await expect(attempt({ certificateFile: join(dir, 'garbage.pem') })).rejects.toThrow(`${join(dir, 'garbage.pem')}: contains no PEM certificate`);
    await expect(attempt({ privateKeyFile: join(dir, 'garbage.pem') })).rejects.toThrow(`${join(dir, 'garbage.pem')}: not a readable PEM private key`);
    await expect(attempt({ rootFile: files.certificateFile })).rejects.toThrow(`${files.certificateFile}: is not a self-signed root certificate`);
    // a leaf (CA:FALSE) presented as the intermediate
    openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'leaf.key'), '-out', join(dir, 'leaf.csr'), '-subj', '/CN=leaf'], dir);
    writeFileSync(join(dir, 'leaf.ext'), 'basicConstraints=critical,CA:FALSE\n');
    openssl(['x509', '-req', '-in', join(dir, 'leaf.csr'), '-CA', files.rootFile, '-CAkey', files.rootKey, '-CAcreateserial', '-out', join(dir, 'leaf.pem'), '-days', '30', '-extfile', join(dir, 'leaf.ext')], dir);
    await expect(attempt({ certificateFile: join(dir, 'leaf.pem'), privateKeyFile: join(dir, 'leaf.key') })).rejects.toThrow(
      `${join(dir, 'leaf.pem')}: is not a CA certificate (basicConstraints CA:TRUE missing)`,
    );
    await expect(attempt({ privateKeyFile: join(dir, 'garbage.pem') })).rejects.toMatchObject({ code: 'CA_LOAD_FAILED' });
  });

  it('new operator files at a restart start a CA rotation to them', async () => {
    const stateDir = tempDir();
    const first = operatorPki(tempDir(), 'First');
    const ca1 = await start(stateDir, { operatorCa: first });
    const oldId = ca1.authority.active().id;
    ca1.close();
    const second = operatorPki(tempDir(), 'Second');
    const ca2 = await start(stateDir, { operatorCa: second });
    expect(ca2.rotationStatus()).toMatchObject({ phase: 'publish', fromId: oldId });
    expect(ca2.bundle().roots).toHaveLength(2);
    expect(readdirSync(join(stateDir, 'keys'))).toHaveLength(2);
  });
});

describe('restart and revocations', () => {
  it('a revocation survives a restart (the CRL is re-published, or re-signed when the register changed)', async () => {
    const dir = tempDir();
    const { createMemoryIssuedCertificateStore } = await import('../../../control-plane/src/ca/index.js');
    const certificates = createMemoryIssuedCertificateStore();
    const clock = createManualClock(Date.now());
    const first = await createMeshCa({ trustDomain: TD, store: createFileCaStore({ dir }), clock, certificates });
    const svid = await first.currentCertificate(first.parseIdentity(idOf('a', 'one')));
    await first.revokeCertificate(svid.serialNumber);
    const v = first.bundle().version;
    const crl = first.bundle().crlsPem;
    first.close();
    const second = await createMeshCa({ trustDomain: TD, store: createFileCaStore({ dir }), clock, certificates });
    cas.push(second);
    expect(second.bundle()).toMatchObject({ version: v, crlsPem: crl });
    expect(opensslVerify({ bundle: second.bundle().rootsPem, leaf: svid.certificatePem, crl: second.bundle().crlsPem }).output).toMatch(/revoked/);
    // a revocation the register holds but the stored CRL lacks (crash in between) is re-signed in
    const other = await second.currentCertificate(second.parseIdentity(idOf('a', 'two')));
    second.close();
    const rec = (await certificates.get(other.serialNumber))!;
    await certificates.update({ ...rec, status: 'revoked', revokedAt: new Date(clock.now()).toISOString() });
    const third = await createMeshCa({ trustDomain: TD, store: createFileCaStore({ dir }), clock, certificates });
    cas.push(third);
    expect(Number(third.bundle().version)).toBe(Number(v) + 1);
    expect(opensslVerify({ bundle: third.bundle().rootsPem, leaf: other.certificatePem, crl: third.bundle().crlsPem }).output).toMatch(/revoked/);
  });
});

describe('file-based certificate register and join token store', () => {
  it('keep issued certificates, revocations and join token hashes across restarts (0600, hash only)', async () => {
    const { createFileIssuedCertificateStore, createFileJoinTokenStore } = await import('../../../control-plane/src/ca/index.js');
    const dir = tempDir();
    const clock = createManualClock(Date.now());
    const open = async () => {
      const certificates = await createFileIssuedCertificateStore(dir);
      const joinTokenStore = await createFileJoinTokenStore(dir);
      const ca = await createMeshCa({ trustDomain: TD, store: createFileCaStore({ dir }), clock, certificates, joinTokenStore });
      cas.push(ca);
      return { ca, certificates, joinTokenStore };
    };
    const s1 = await open();
    const { token, record } = await s1.ca.issueJoinToken(idOf('a', 'one'));
    const revokedToken = await s1.ca.issueJoinToken(idOf('a', 'two'));
    await s1.ca.revokeJoinToken(revokedToken.record.tokenId);
    const a = await s1.ca.currentCertificate(s1.ca.parseIdentity(idOf('a', 'one')));
    const b = await s1.ca.currentCertificate(s1.ca.parseIdentity(idOf('a', 'two')));
    await s1.ca.revokeCertificate(b.serialNumber, 'test');
    s1.ca.close();
    await s1.certificates.close();
    await s1.joinTokenStore.close();
    expect(mode(join(dir, 'issued-certificates.jsonl'))).toBe(0o600);
    expect(mode(join(dir, 'join-tokens.jsonl'))).toBe(0o600);
    const onDisk = readFileSync(join(dir, 'join-tokens.jsonl'), 'utf8');
    expect(onDisk).toContain(record.tokenHash);
    expect(onDisk).not.toContain(token.slice(4));

    const s2 = await open();
    expect((await s2.ca.joinTokens.verify(token)).spiffeId).toBe(idOf('a', 'one'));
    await expect(s2.ca.joinTokens.verify(revokedToken.token)).rejects.toThrow(/was revoked/);
    expect(await s2.ca.getCertificate(a.serialNumber)).toMatchObject({ status: 'active', spiffeId: idOf('a', 'one') });
    expect(await s2.ca.getCertificate(b.serialNumber)).toMatchObject({ status: 'revoked', revocationReason: 'test' });
    // the certificate issued before the restart still authenticates; the revoked one does not
    expect((await s2.ca.verifyPeerCertificate(new (await import('node:crypto')).X509Certificate(a.certificatePem).raw)).identity.spiffeId).toBe(idOf('a', 'one'));
    await expect(s2.ca.verifyPeerCertificate(new (await import('node:crypto')).X509Certificate(b.certificatePem).raw)).rejects.toThrow(/revoked/);
    expect(opensslVerify({ bundle: s2.ca.bundle().rootsPem, leaf: b.certificatePem, crl: s2.ca.bundle().crlsPem }).output).toMatch(/revoked/);
    s2.ca.close();
    await s2.certificates.close();
    await s2.joinTokenStore.close();
  });

  it('ignores a torn last line after a crash and refuses corruption elsewhere', async () => {
    const { createFileJoinTokenStore } = await import('../../../control-plane/src/ca/index.js');
    const dir = tempDir();
    const rec = { tokenId: 'aaaaaaaaaaaaaaaa', tokenHash: 'a'.repeat(64), spiffeId: idOf('a', 'b'), createdAt: 'x', expiresAt: 'y' };
    writeFileSync(join(dir, 'join-tokens.jsonl'), JSON.stringify(rec) + '\n{"tokenId":"bbb');
    const s = await createFileJoinTokenStore(dir);
    expect((await s.list()).map((r) => r.tokenId)).toEqual(['aaaaaaaaaaaaaaaa']);
    await s.close();
    writeFileSync(join(dir, 'join-tokens.jsonl'), '{oops\n' + JSON.stringify(rec) + '\n');
    await expect(createFileJoinTokenStore(dir)).rejects.toThrow(/join-tokens.jsonl:1: not a JSON record/);
  });
});
