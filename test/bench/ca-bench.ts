/**
 * CA benchmark: workload certificate (X.509-SVID) issuance rate for ECDSA P-256, and the time a CA
 * rotation takes to re-issue 10,000 live workload certificates from the new CA.
 *
 * Every issuance is the real thing: a fresh key pair (OpenSSL, libuv thread pool), an SVID signed
 * by the CA, the PEM chain and PKCS#8 key, and a record in the issued-certificate register.
 * Comparison in the same run: the same certificate made with @peculiar/x509's high-level
 * generator (what a straightforward implementation would do), and issuance one at a time.
 *
 * Bounded: ~5,000 + 1,000 + 500 issuances, then 10,000 + 10,000 for the rotation. Last line: one
 * JSON object, units in the keys. Run: `npm run bench:ca`.
 */
import { createHash, generateKeyPair, webcrypto } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { promisify } from 'node:util';
import { createManualClock, createMemoryCaStore, createMeshCa, workloadIdentity } from '../../control-plane/src/ca/index.js';
import { x509 } from '../../control-plane/src/ca/x509-runtime.js';

const TD = 'bench.mesh';
const TARGET_CERTS_PER_S = 1000;
const CONCURRENCY = 64;

/** Process CPU time (all threads: main + libuv pool) consumed by the last runPool, in ms. */
let lastCpuMs = 0;

async function runPool(n: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < n) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  const cpu = process.cpuUsage(cpu0);
  lastCpuMs = (cpu.user + cpu.system) / 1000;
  return performance.now() - t0;
}

const clock = createManualClock(Date.now());
const meshCa = await createMeshCa({ trustDomain: TD, store: createMemoryCaStore(), clock, propagationDelayMs: 1000 });
const ca = meshCa.authority;
const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => workloadIdentity(TD, prefix, `sa-${i}`));

// Warm-up (JIT, thread pool).
await runPool(300, CONCURRENCY, (i) => ca.issue(ids('warm', 300)[i]!));

// 1. Issuance rate, concurrent (the way a rotation or a fleet start issues).
const N = 5000;
const concurrentIds = ids('conc', N);
const concurrentMs = await runPool(N, CONCURRENCY, (i) => ca.issue(concurrentIds[i]!));
const concurrentRate = N / (concurrentMs / 1000);
// Load-independent figure: certificates per CPU-second of this process (key generation included).
const certsPerCpuSecond = N / (lastCpuMs / 1000);
const loadAtStart = loadavg()[0]!;

// 2. One at a time (latency-bound: keygen round trip to the thread pool each time).
const S = 1000;
const seqIds = ids('seq', S);
const seqMs = await runPool(S, 1, (i) => ca.issue(seqIds[i]!));
const seqRate = S / (seqMs / 1000);

// 3. Baseline: the same SVID through @peculiar/x509's generator with WebCrypto keys.
const gen = promisify(generateKeyPair);
const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const caKeys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
const caCert = await x509.X509CertificateGenerator.createSelfSigned({ name: 'CN=baseline', keys: caKeys as never, extensions: [new x509.BasicConstraintsExtension(true, 0, true)] });
const aki = await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey as never);
const B = 500;
const baselineMs = await runPool(B, CONCURRENCY, async (i) => {
  const kp = await gen('ec', { namedCurve: 'P-256' });
  const spki = kp.publicKey.export({ type: 'spki', format: 'der' });
  const cert = await x509.X509CertificateGenerator.create({
    subject: '',
    issuer: caCert.subjectName,
    publicKey: new x509.PublicKey(spki),
    signingKey: caKeys.privateKey as never,
    signingAlgorithm: alg,
    notBefore: new Date(),
    notAfter: new Date(Date.now() + 86_400_000),
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      aki,
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: `spiffe://${TD}/ns/base/sa/sa-${i}` }], true),
      new x509.SubjectKeyIdentifierExtension(createHash('sha1').update(spki).digest('hex')),
    ],
  });
  return cert.toString('pem').length + (kp.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string).length;
});
const baselineRate = B / (baselineMs / 1000);
const baselinePerCpuSecond = B / (lastCpuMs / 1000);

// 4. CA rotation with 10,000 live workloads.
const W = 10_000;
const live = ids('live', W);
const activateMs = await runPool(W, CONCURRENCY, (i) => meshCa.currentCertificate(live[i]!));
const oldId = ca.active().id;
let pushes = 0;
meshCa.onSecretsChanged((changed) => {
  if (changed) pushes += changed.length;
});
const rss0 = process.memoryUsage().rss;
await meshCa.rotateCa();
const t0 = performance.now();
await clock.advance(1000); // publish phase ends: promote, re-issue all 10,000 from the new CA
const rotateMs = performance.now() - t0;
const status = meshCa.rotationStatus();
if (status?.phase !== 'retire' || status.pendingIdentities !== 0) throw new Error(`rotation did not complete: ${JSON.stringify(status)}`);
const newId = ca.active().id;
let fromNew = 0;
for (const id of live) if ((await meshCa.currentCertificate(id)).issuerKeyId === newId) fromNew++;
if (fromNew !== W || newId === oldId) throw new Error(`only ${fromNew}/${W} certificates come from the new CA`);
await clock.advance(1000); // retire the old root
const rss1 = process.memoryUsage().rss;
meshCa.close();

const fmt = (v: number, d = 0) => v.toFixed(d);
console.log(`CA benchmark (ECDSA P-256 workload keys, P-256 CA; ${cpus().length} cores, 1-min load average ${loadAtStart.toFixed(1)} when issuance started)`);
console.log(`  issue, ${CONCURRENCY} in flight:          ${fmt(concurrentRate)} certs/s  (${N} in ${fmt(concurrentMs)} ms)  target >= ${TARGET_CERTS_PER_S}/s: ${concurrentRate >= TARGET_CERTS_PER_S ? 'MET' : 'NOT MET'}`);
console.log(`  CPU cost: ${fmt(certsPerCpuSecond)} certs per CPU-second (baseline ${fmt(baselinePerCpuSecond)}) -> ${fmt(certsPerCpuSecond * cpus().length)} certs/s if this process had all ${cpus().length} cores`);
console.log(`  issue, one at a time:                ${fmt(seqRate)} certs/s  (${S} in ${fmt(seqMs)} ms)`);
console.log(`  baseline @peculiar/x509 generator:   ${fmt(baselineRate)} certs/s  (${B} in ${fmt(baselineMs)} ms)  -> ${fmt(concurrentRate / baselineRate, 2)}x`);
console.log(`  activate ${W} workloads:             ${fmt(activateMs)} ms`);
console.log(`  CA rotation re-issue of ${W}:        ${fmt(rotateMs)} ms  (${fmt(W / (rotateMs / 1000))} certs/s, ${pushes} identity pushes signalled)`);
console.log(`  RSS after rotation: ${fmt(rss1 / 1048576)} MiB (before: ${fmt(rss0 / 1048576)} MiB)`);
console.log(
  JSON.stringify({
    issue_p256_certs_per_s: Math.round(concurrentRate),
    issue_p256_certs_per_cpu_s: Math.round(certsPerCpuSecond),
    issue_p256_sequential_certs_per_s: Math.round(seqRate),
    baseline_peculiar_generator_certs_per_cpu_s: Math.round(baselinePerCpuSecond),
    load_average_1m: Number(loadAtStart.toFixed(2)),
    baseline_peculiar_generator_certs_per_s: Math.round(baselineRate),
    target_certs_per_s: TARGET_CERTS_PER_S,
    rotate_10000_workloads_ms: Math.round(rotateMs),
    rotate_10000_certs_per_s: Math.round(W / (rotateMs / 1000)),
    activate_10000_workloads_ms: Math.round(activateMs),
    rss_after_rotation_mib: Math.round(rss1 / 1048576),
  }),
);
