/**
 * Child of xds-bench.ts: memory floors under the xDS server, measured in a process of their own.
 *  - `http2`: a bare node:http2 server holding N connections with one open stream each (response
 *    headers and one 2.5 KB DATA frame sent, as an idle xDS stream has); no gRPC, no xDS.
 *  - `http2-session`: the same server with N connections and NO stream (SETTINGS and a PING
 *    exchanged): what one HTTP/2 connection costs before any request.
 *  - `grpc`: a bare @grpc/grpc-js server whose bidi handler only keeps the call and answers the first
 *    message with 2.5 KB (same method path as ADS); no xDS state.
 * The http2 servers use the settings `listen()` applies (compactHttp2). The clients (raw HTTP/2, one
 * connection each) run in a forked copy of this file.
 * Prints one JSON line {kind, connections, rss_kb_per_connection, heap_kb_per_connection,
 * heap_total_kb_per_connection, nghttp2_kb_per_connection?}. nghttp2_kb is the memory nghttp2 itself
 * allocated per session as Node accounts it ("Node / nghttp2_memory" in a heap snapshot; http2
 * kinds only): native memory no node:http2 option changes.
 * Usage: node --expose-gc --import tsx xds-bench-h2-floor.ts <http2|http2-session|grpc> <n>
 */
import * as http2 from 'node:http2';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { connect, openStream, SOTW_PATH } from '../xds-clients/raw-grpc-stream.js';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const settle = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 150));
  }
};
const raw = (b: Buffer): Buffer => b;

/** Bytes Node accounts to nghttp2 (all sessions), from a heap snapshot of this process. */
function nghttp2Bytes(): number {
  const file = writeHeapSnapshot(join(tmpdir(), `xds-bench-h2-floor-${process.pid}.heapsnapshot`));
  try {
    const snap = JSON.parse(readFileSync(file, 'utf8')) as { snapshot: { meta: { node_fields: string[] } }; nodes: number[]; strings: string[] };
    const fields = snap.snapshot.meta.node_fields;
    const width = fields.length;
    const nameAt = fields.indexOf('name');
    const sizeAt = fields.indexOf('self_size');
    let total = 0;
    for (let i = 0; i < snap.nodes.length; i += width) {
      if (snap.strings[snap.nodes[i + nameAt]!] === 'Node / nghttp2_memory') total += snap.nodes[i + sizeAt]!;
    }
    return total;
  } finally {
    rmSync(file, { force: true });
  }
}

if (process.argv[2] === 'session-client') {
  const port = Number(process.argv[3]);
  const n = Number(process.argv[4]);
  const held: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    await new Promise<void>((resolve, reject) => {
      session.once('error', reject);
      session.once('remoteSettings', () => session.ping(() => resolve()));
    });
    held.push(session);
  }
  process.send!('ready');
  process.on('disconnect', () => process.exit(0));
} else if (process.argv[2] === 'client') {
  const port = Number(process.argv[3]);
  const n = Number(process.argv[4]);
  const held: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const session = await connect({ address: `127.0.0.1:${port}` });
    const stream = openStream(session, SOTW_PATH);
    await new Promise<void>((resolve) => {
      stream.once('message', () => resolve());
      stream.write(Buffer.alloc(60));
    });
    held.push(session, stream);
  }
  process.send!('ready');
  process.on('disconnect', () => process.exit(0));
} else {
  const kind = process.argv[2] === 'grpc' ? 'grpc' : process.argv[2] === 'http2-session' ? 'http2-session' : 'http2';
  const n = Number(process.argv[3] ?? 3000);
  const held: unknown[] = [];
  let port: number;
  if (kind !== 'grpc') {
    const server = http2.createServer({ maxDeflateDynamicTableSize: 0, settings: { headerTableSize: 0 } });
    server.on('session', (session) => held.push(session));
    server.on('stream', (stream) => {
      held.push(stream);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      stream.once('data', () => stream.write(Buffer.concat([Buffer.from([0, 0, 0, 0x09, 0xc4]), Buffer.alloc(2500)])));
    });
    port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
  } else {
    const server = new grpc.Server({ 'grpc.enable_channelz': 0 });
    server.addService(
      { s: { path: SOTW_PATH, requestStream: true, responseStream: true, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw } },
      {
        s: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
          held.push(call);
          call.once('data', () => call.write(Buffer.alloc(2500)));
        },
      },
    );
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
  }
  await settle();
  const m0 = process.memoryUsage();
  const child = fork(fileURLToPath(import.meta.url), [kind === 'http2-session' ? 'session-client' : 'client', String(port), String(n)], { execArgv: ['--import', 'tsx'] });
  await new Promise((r) => child.once('message', r));
  await settle();
  const m1 = process.memoryUsage();
  // After the RSS figure (a heap snapshot allocates); before the clients no session exists.
  const nghttp2 = kind === 'grpc' ? undefined : nghttp2Bytes();
  console.log(
    JSON.stringify({
      kind,
      connections: n,
      rss_kb_per_connection: Number(((m1.rss - m0.rss) / 1024 / n).toFixed(1)),
      heap_kb_per_connection: Number(((m1.heapUsed - m0.heapUsed) / 1024 / n).toFixed(1)),
      heap_total_kb_per_connection: Number(((m1.heapTotal - m0.heapTotal) / 1024 / n).toFixed(1)),
      ...(nghttp2 === undefined ? {} : { nghttp2_kb_per_connection: Number((nghttp2 / 1024 / n).toFixed(1)) }),
    }),
  );
  child.kill();
  process.exit(0);
}
