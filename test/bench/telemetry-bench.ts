/**
 * Telemetry benchmark: access-log entries ingested per second through a real ALS gRPC stream, and
 * the delay from an anomalous burst to its alert.
 *
 *   npm run bench:telemetry
 *   BENCH_ENTRIES=1000000 BENCH_STREAMS=8 npm run bench:telemetry
 *
 * 1. Ingestion: the whole closed loop (ALS server → bounded queue → signal engine + call rollups
 *    in SQLite → alert rules) on 127.0.0.1; the Envoys are emulated by BENCH_STREAMS client streams
 *    in a worker thread (its own event loop, like a separate process), writing pre-encoded
 *    StreamAccessLogsMessages of 50 HTTP entries (Envoy flushes its 16 KiB buffer with about that
 *    many) and respecting HTTP/2 flow control. Measured: entries/s from the first write until the
 *    loop has consumed every entry; drops (must be 0: backpressure, not loss); peak RSS.
 * 2. Alert delay: 1 s buckets; a caller sends a steady trickle, then a burst inside one bucket.
 *    Measured from the end of that bucket (the window closing) until the alert is recorded, and
 *    until a webhook receiver on 127.0.0.1 has it — for a threshold rule and an anomaly rule.
 *
 * Targets: ≥ 50,000 entries/s; alert ≤ 2 s after the window closes. Last line: one JSON object.
 */
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createSystemClock } from '../../control-plane/src/ca/clock.js';
import { createSqliteStore } from '../../control-plane/src/store/sqlite-store.js';
import { createClosedLoop } from '../../control-plane/src/telemetry/closed-loop.js';
import { ALS_METHOD_PATH } from '../../control-plane/src/telemetry/als-server.js';
import { createWebhookSink } from '../../control-plane/src/alerts/webhook-sink.js';
import { fromBinary } from '@bufbuild/protobuf';
import { StreamAccessLogsMessageSchema } from '../../control-plane/src/gen/envoy/service/accesslog/v3/als_pb.js';
import { recordFromHttpEntry } from '../../control-plane/src/telemetry/decode-entry.js';
import { decodeAccessLogsMessage } from '../../control-plane/src/telemetry/fast-decode.js';
import { encodeBatch, httpEntry, openAlsStream } from '../control-plane/telemetry/envoy-als-client.js';

const ENTRIES = Number(process.env['BENCH_ENTRIES'] ?? 500_000);
const STREAMS = Number(process.env['BENCH_STREAMS'] ?? 4);
const PER_MESSAGE = 50;
const TD = 'spiffe://meshward.local';
const dir = mkdtempSync(join(tmpdir(), 'mw-telemetry-bench-'));
const load0 = loadavg()[0]!;
console.log(`meshward telemetry benchmark: ${ENTRIES.toLocaleString('en-US')} entries over ${STREAMS} ALS streams, ${PER_MESSAGE} entries per message, node ${process.version}, ${cpus().length} CPUs, load average ${load0.toFixed(1)} (other work on the machine skews the figures)\n`);

// ---------------------------------------------------------------- 1. ingestion throughput
const summaries = [
  '{"outcome":"allow","request":{"outcome":"allow","findings":{}},"response":{"outcome":"allow","findings":{}}}',
  '{"outcome":"redact","request":{"outcome":"redact","findings":{"email":2,"phone":1}},"response":null}',
  '{"outcome":"block","request":{"outcome":"block","findings":{"aws_access_key":1}},"response":null}',
];
const distinct: Buffer[] = [];
let seed = 7;
const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
for (let m = 0; m < 200; m++) {
  const entries = Array.from({ length: PER_MESSAGE }, () => {
    const model = `model-${Math.floor(rnd() * 4)}`;
    const r = rnd();
    return httpEntry({
      identity: `${TD}/ns/team-${Math.floor(rnd() * 20)}/sa/app-${Math.floor(rnd() * 10)}`,
      model,
      version: rnd() < 0.9 ? 'v1' : 'v2',
      code: r < 0.02 ? 403 : r < 0.03 ? 503 : 200,
      ...(r < 0.02 ? { details: 'rbac_access_denied_matched_policy[none]' } : {}),
      latencyMs: 20 + Math.floor(rnd() * 400),
      responseBytes: 500 + Math.floor(rnd() * 8000),
      summary: summaries[r < 0.9 ? 0 : r < 0.98 ? 1 : 2]!,
    });
  });
  distinct.push(encodeBatch(entries));
}
// 0. decoding alone, in this thread: the generated types (protobuf-es fromBinary + mapping) vs the wire reader
const decodeRate = (fn: (b: Buffer) => number): number => {
  for (let i = 0; i < 1000; i++) fn(distinct[i % distinct.length]!); // warm-up (JIT)
  const t = performance.now();
  let n = 0;
  for (let i = 0; i < 2000; i++) n += fn(distinct[i % distinct.length]!);
  return Math.round(n / ((performance.now() - t) / 1000));
};
const viaGenerated = decodeRate((b) => {
  const m = fromBinary(StreamAccessLogsMessageSchema, b);
  return m.logEntries.case === 'httpLogs' ? m.logEntries.value.logEntry.map((e) => recordFromHttpEntry(e, 'n')).length : 0;
});
const viaWire = decodeRate((b) => decodeAccessLogsMessage(b, { nodeId: '', logName: '' }, { badSummaries: 0 }).length);
console.log(`0. decoding only (one thread): generated types ${viaGenerated.toLocaleString('en-US')} entries/s, wire reader ${viaWire.toLocaleString('en-US')} entries/s (×${(viaWire / viaGenerated).toFixed(1)})\n`);

const messages = Math.ceil(ENTRIES / PER_MESSAGE);
const total = messages * PER_MESSAGE;
const firstMessages = Array.from({ length: STREAMS }, (_, i) => encodeBatch([], `bench-envoy-${i}`));

const store1 = createSqliteStore({ path: join(dir, 'ingest.db') });
const clock = createSystemClock();
const loop1 = createClosedLoop({ store: store1, clock, als: { host: '127.0.0.1', port: 0 }, signals: { bucketMs: 1000, windowBuckets: 60 } });
loop1.alerts.putRule({ name: 'bench-denials', signal: 'denials', dimension: 'identity', condition: { kind: 'threshold', op: '>', value: 1_000_000 }, severity: 'low' }, 'bench');
const { alsPort } = await loop1.start();
let peakRss = process.memoryUsage().rss;
const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);

const grpcPath = createRequire(import.meta.url).resolve('@grpc/grpc-js');
const worker = new Worker(
  `
  const { workerData, parentPort } = require('node:worker_threads');
  const grpc = require(workerData.grpcPath);
  const { address, path, streams, messages, distinct, firsts } = workerData;
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  let sent = 0;
  const started = Date.now();
  const one = (s) => new Promise((resolve, reject) => {
    const call = client.makeClientStreamRequest(path, (b) => b, (b) => b, (err) => (err ? reject(err) : resolve()));
    call.write(Buffer.from(firsts[s]));
    const bufs = distinct.map((d) => Buffer.from(d));
    let i = s;
    const pump = () => {
      while (i < messages) {
        const ok = call.write(bufs[i % bufs.length]);
        i += streams;
        sent++;
        if (!ok) { call.once('drain', pump); return; }
      }
      call.end();
    };
    pump();
  });
  Promise.all(Array.from({ length: streams }, (_, s) => one(s))).then(
    () => { parentPort.postMessage({ done: true, sent, ms: Date.now() - started }); client.close(); },
    (err) => parentPort.postMessage({ error: String(err) }),
  );
  `,
  { eval: true, workerData: { grpcPath, address: `127.0.0.1:${alsPort}`, path: ALS_METHOD_PATH, streams: STREAMS, messages, distinct: distinct.map((b) => new Uint8Array(b)), firsts: firstMessages.map((b) => new Uint8Array(b)) } },
);
const t0 = performance.now();
const clientDone = new Promise<{ sent: number; ms: number }>((resolve, reject) =>
  worker.on('message', (m: { done?: boolean; sent: number; ms: number; error?: string }) => (m.error !== undefined ? reject(new Error(m.error)) : resolve(m))),
);
const deadline = Date.now() + 120_000;
while (loop1.als!.stats().consumed + loop1.als!.stats().dropped < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
const t1 = performance.now();
const client = await clientDone;
await worker.terminate();
clearInterval(rssTimer);
const st = loop1.als!.stats();
const ingestSeconds = (t1 - t0) / 1000;
const entriesPerSecond = Math.round(st.consumed / ingestSeconds);
console.log(`1. ingestion: ${st.consumed.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} entries in ${ingestSeconds.toFixed(2)} s → ${entriesPerSecond.toLocaleString('en-US')} entries/s (client wrote for ${(client.ms / 1000).toFixed(2)} s)`);
console.log(`   dropped ${st.dropped}, malformed ${st.malformed}, backpressure pauses ${st.pauses}; signal series ${JSON.stringify(loop1.signals.stats().series)}; peak RSS ${(peakRss / 1048576).toFixed(0)} MiB`);
await loop1.stop();
store1.close();

// ---------------------------------------------------------------- 2. burst → alert delay
const BUCKET = 1000;
const received: { rule: string; at: number }[] = [];
const hook = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    received.push({ rule: (JSON.parse(body) as { rule: string }).rule, at: Date.now() });
    res.writeHead(204).end();
  });
});
await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
const store2 = createSqliteStore({ path: join(dir, 'alerts.db') });
const recorded: { rule: string; at: number }[] = [];
const loop2 = createClosedLoop({
  store: store2,
  clock,
  als: { host: '127.0.0.1', port: 0 },
  signals: { bucketMs: BUCKET, windowBuckets: 5, detector: { warmup: 5 } },
  sinks: [createWebhookSink({ url: `http://127.0.0.1:${(hook.address() as { port: number }).port}/`, secret: 'bench-secret-0123456789' })],
  onAlert: ({ type, alert }) => type === 'fired' && recorded.push({ rule: alert.rule, at: Date.now() }),
});
const target = `${TD}/ns/team-x/sa/exfil`;
loop2.alerts.putRule({ name: 'burst-threshold', signal: 'requests', dimension: 'identity', match: target, windowSeconds: 1, condition: { kind: 'threshold', op: '>', value: 2000 }, severity: 'high' }, 'bench');
loop2.alerts.putRule({ name: 'burst-anomaly', signal: 'request_rate', dimension: 'identity', match: target, condition: { kind: 'anomaly', minScore: 6 }, severity: 'high' }, 'bench');
const port2 = (await loop2.start()).alsPort!;
const als = openAlsStream(`127.0.0.1:${port2}`);
await als.write(encodeBatch([], 'bench-envoy-burst'));
const trickle = (n: number): Buffer => encodeBatch(Array.from({ length: n }, () => httpEntry({ identity: target, model: 'model-0', version: 'v1' })));
// Warm-up: ~40 requests per second for 8 buckets.
for (let i = 0; i < 80; i++) {
  await als.write(trickle(3 + (i % 3)));
  await new Promise((r) => setTimeout(r, 100));
}
// The burst, right after a bucket boundary so it lands in one bucket.
const now = Date.now();
await new Promise((r) => setTimeout(r, BUCKET - (now % BUCKET) + 20));
const burstBucketEnd = (Math.floor(Date.now() / BUCKET) + 1) * BUCKET;
const burst = encodeBatch(Array.from({ length: 100 }, () => httpEntry({ identity: target, model: 'model-0', version: 'v1', responseBytes: 50_000 })));
for (let i = 0; i < 50; i++) await als.write(burst); // 5,000 requests
const sentBy = Date.now();
const waitUntil = Date.now() + 10_000;
while (received.length < 2 && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 5));
await als.end();
als.close();
const delay = (list: { rule: string; at: number }[], rule: string): number | undefined => {
  const hit = list.find((x) => x.rule === rule);
  return hit === undefined ? undefined : hit.at - burstBucketEnd;
};
const d = {
  thresholdRecorded: delay(recorded, 'burst-threshold'),
  thresholdWebhook: delay(received, 'burst-threshold'),
  anomalyRecorded: delay(recorded, 'burst-anomaly'),
  anomalyWebhook: delay(received, 'burst-anomaly'),
};
console.log(`\n2. burst of 5,000 requests sent ${sentBy - (burstBucketEnd - BUCKET)} ms into a ${BUCKET} ms bucket; delays after the window closed:`);
console.log(`   threshold rule: recorded +${d.thresholdRecorded ?? 'never'} ms, at the webhook +${d.thresholdWebhook ?? 'never'} ms`);
console.log(`   anomaly rule:   recorded +${d.anomalyRecorded ?? 'never'} ms, at the webhook +${d.anomalyWebhook ?? 'never'} ms`);
await loop2.stop();
store2.close();
await new Promise((r) => hook.close(r));
rmSync(dir, { recursive: true, force: true });

const worst = Math.max(...[d.thresholdWebhook, d.anomalyWebhook].map((v) => v ?? Infinity));
console.log(`\ntargets: ingestion ≥ 50,000 entries/s → ${entriesPerSecond >= 50_000 ? 'met' : 'NOT met'} (${entriesPerSecond.toLocaleString('en-US')}); alert ≤ 2,000 ms after the window closes → ${worst <= 2000 ? 'met' : 'NOT met'} (worst ${worst} ms at the webhook); drops ${st.dropped}`);
console.log(
  JSON.stringify({
    ingest_entries_per_s: entriesPerSecond,
    decode_generated_entries_per_s: viaGenerated,
    decode_wire_entries_per_s: viaWire,
    ingest_entries: st.consumed,
    ingest_dropped_entries: st.dropped,
    ingest_backpressure_pauses: st.pauses,
    ingest_seconds: Number(ingestSeconds.toFixed(2)),
    ingest_peak_rss_mb: Math.round(peakRss / 1048576),
    alert_threshold_recorded_ms: d.thresholdRecorded ?? null,
    alert_threshold_webhook_ms: d.thresholdWebhook ?? null,
    alert_anomaly_recorded_ms: d.anomalyRecorded ?? null,
    alert_anomaly_webhook_ms: d.anomalyWebhook ?? null,
    streams: STREAMS,
    load_avg_1m: Number(loadavg()[0]!.toFixed(2)),
  }),
);
process.exit(0);
