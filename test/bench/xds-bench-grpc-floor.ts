/**
 * Child of xds-bench.ts: two reference servers on @grpc/grpc-js, same simulated Envoys
 * (xds-bench-client.ts, own HTTP/2 connection each, in child processes), same push:
 *  - `bare`: no xDS logic at all — answers each stream's first four requests with a canned
 *    response, then pushes one pre-encoded 2.4 KB response to every stream: the floor.
 *  - `naive`: the naive control plane of issue 3 — the real resources (xds-bench-resources.ts),
 *    and every response encoded for each stream (create + anyPack + toBinary per stream per push).
 * Prints one JSON line {mode, streams, server_cpu_ms_per_push, all_acked_p99_ms, rss_kb_per_stream}.
 * Usage: node --expose-gc --import tsx xds-bench-grpc-floor.ts <n> <pushes> <bare|naive>
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { SOTW_PATH } from '../xds-clients/raw-grpc-stream.js';
import { scanDiscoveryResponse } from '../xds-clients/light-ads-codec.js';
import { encodeDiscoveryResponse, lengthDelimited } from '../../control-plane/src/xds/wire.js';
import { create, toBinary, type Message } from '@bufbuild/protobuf';
import { anyPack } from '@bufbuild/protobuf/wkt';
import { DiscoveryResponseSchema } from '../../control-plane/src/gen/envoy/service/discovery/v3/discovery_pb.js';
import { schemaOf, typeUrlOfMessage, type TypeUrl } from '../../control-plane/src/xds/type-urls.js';
import { benchResources, clusterNames } from './xds-bench-resources.js';

const here = dirname(fileURLToPath(import.meta.url));
const n = Number(process.argv[2] ?? 10000);
const pushes = Number(process.argv[3] ?? 3);
const mode = process.argv[4] === 'naive' ? 'naive' : 'bare';
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
let current = benchResources(10);
/** The naive way: one DiscoveryResponse built and encoded for this stream, resources packed anew. */
function naiveResponse(typeUrl: string, version: string, nonce: string): Buffer {
  const msgs = current.filter((m: Message) => typeUrlOfMessage(m) === typeUrl);
  const resources = msgs.map((m) => anyPack(schemaOf(typeUrl as TypeUrl), m as never));
  return Buffer.from(toBinary(DiscoveryResponseSchema, create(DiscoveryResponseSchema, { versionInfo: version, typeUrl, nonce, resources })));
}
const raw = (b: Buffer): Buffer => b;
const RDS = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';

const calls: Array<grpc.ServerDuplexStream<Buffer, Buffer>> = [];
let acks = 0;
let target = '';
let onAck: (() => void) | undefined;
let seq = 0;
const server = new grpc.Server({ 'grpc.enable_channelz': 0 });
server.addService(
  { s: { path: SOTW_PATH, requestStream: true, responseStream: true, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw } },
  {
    s: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      calls.push(call);
      let seen = 0;
      call.on('data', (bytes: Buffer) => {
        const req = scanDiscoveryResponse(bytes); // type_url is field 4 and the nonce field 5 in requests too
        if (++seen <= 4) {
          const nonce = `n${++seq}`;
          call.write(mode === 'naive' ? naiveResponse(req.typeUrl, 'v0', nonce) : encodeDiscoveryResponse('v0', req.typeUrl, [lengthDelimited(2, Buffer.alloc(100))], nonce));
        } else if (req.nonce === target) {
          acks++;
          onAck?.();
        }
      });
    },
  },
);
const port = await new Promise<number>((resolve, reject) =>
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
);
for (let i = 0; i < 3; i++) {
  gc();
  await new Promise((r) => setTimeout(r, 100));
}
const rss0 = process.memoryUsage().rss;
const children: ChildProcess[] = [];
for (let i = 0; i < 2; i++) {
  const child = fork(join(here, 'xds-bench-client.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise((r) => child.once('message', r));
  children.push(child);
}
await Promise.all(
  children.map(
    (child, i) =>
      new Promise<void>((resolve, reject) => {
        child.once('message', (m: { error?: string }) => (m.error ? reject(new Error(m.error)) : resolve()));
        child.send({ cmd: 'open', count: Math.ceil(n / 2) - (i === 1 ? Math.ceil(n / 2) * 2 - n : 0), address: `127.0.0.1:${port}`, offset: i * 100000, clusters: clusterNames, routes: ['routes'] });
      }),
  ),
);
for (let i = 0; i < 3; i++) {
  gc();
  await new Promise((r) => setTimeout(r, 150));
}
const rssKb = (process.memoryUsage().rss - rss0) / 1024 / n;
const body = Buffer.alloc(2400);
const results: Array<{ cpu: number; p99: number }> = [];
for (let p = 0; p < pushes; p++) {
  await new Promise((r) => setTimeout(r, 300));
  target = `push-${p}`;
  acks = 0;
  const bytes = encodeDiscoveryResponse(`v${p + 1}`, RDS, [lengthDelimited(2, body)], target);
  if (mode === 'naive') current = benchResources(p % 2 === 0 ? 20 : 10);
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const done = new Promise<void>((resolve) => {
    onAck = () => {
      times.push(performance.now() - start);
      if (acks === calls.length) resolve();
    };
  });
  if (mode === 'naive') for (const c of calls) c.write(naiveResponse(RDS, `v${p + 1}`, target));
  else for (const c of calls) c.write(bytes);
  await done;
  const cpu = process.cpuUsage(cpu0);
  times.sort((a, b) => a - b);
  results.push({ cpu: (cpu.user + cpu.system) / 1000, p99: times[Math.ceil(0.99 * times.length) - 1]! });
}
results.sort((a, b) => a.p99 - b.p99);
const med = results[Math.floor(results.length / 2)]!;
console.log(JSON.stringify({ mode, streams: calls.length, server_cpu_ms_per_push: Math.round(med.cpu), all_acked_p99_ms: Math.round(med.p99), rss_kb_per_stream: Number(rssKb.toFixed(1)) }));
for (const c of children) c.send({ cmd: 'exit' });
server.forceShutdown();
process.exit(0);
