/**
 * Child of xds-bench.ts: the cost of one push on a BARE @grpc/grpc-js bidi server with no xDS logic
 * at all (no snapshots, no subscriptions, no bookkeeping): it answers each stream's first four
 * requests with a canned response of the requested type_url, then pushes one pre-encoded 2.4 KB
 * response to every stream and counts the ACKs. Same simulated Envoys (xds-bench-client.ts, own
 * HTTP/2 connection each, in child processes). Prints one JSON line
 * {streams, server_cpu_ms_per_push, all_acked_p99_ms}: the floor the xDS server is compared with.
 * Usage: node --import tsx xds-bench-grpc-floor.ts <n> <pushes>
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { SOTW_PATH } from '../xds-clients/raw-grpc-stream.js';
import { scanDiscoveryResponse } from '../xds-clients/light-ads-codec.js';
import { encodeDiscoveryResponse, lengthDelimited } from '../../control-plane/src/xds/wire.js';

const here = dirname(fileURLToPath(import.meta.url));
const n = Number(process.argv[2] ?? 10000);
const pushes = Number(process.argv[3] ?? 3);
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
          call.write(encodeDiscoveryResponse('v0', req.typeUrl, [lengthDelimited(2, Buffer.alloc(100))], `n${++seq}`));
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
        child.send({ cmd: 'open', count: Math.ceil(n / 2) - (i === 1 ? Math.ceil(n / 2) * 2 - n : 0), address: `127.0.0.1:${port}`, offset: i * 100000, clusters: ['a'], routes: ['routes'] });
      }),
  ),
);
const body = Buffer.alloc(2400);
const results: Array<{ cpu: number; p99: number }> = [];
for (let p = 0; p < pushes; p++) {
  await new Promise((r) => setTimeout(r, 300));
  target = `push-${p}`;
  acks = 0;
  const bytes = encodeDiscoveryResponse(`v${p + 1}`, RDS, [lengthDelimited(2, body)], target);
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const done = new Promise<void>((resolve) => {
    onAck = () => {
      times.push(performance.now() - start);
      if (acks === calls.length) resolve();
    };
  });
  for (const c of calls) c.write(bytes);
  await done;
  const cpu = process.cpuUsage(cpu0);
  times.sort((a, b) => a - b);
  results.push({ cpu: (cpu.user + cpu.system) / 1000, p99: times[Math.ceil(0.99 * times.length) - 1]! });
}
results.sort((a, b) => a.p99 - b.p99);
const med = results[Math.floor(results.length / 2)]!;
console.log(JSON.stringify({ streams: calls.length, server_cpu_ms_per_push: Math.round(med.cpu), all_acked_p99_ms: Math.round(med.p99) }));
for (const c of children) c.send({ cmd: 'exit' });
server.forceShutdown();
process.exit(0);
