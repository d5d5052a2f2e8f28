/**
 * Child of xds-bench.ts: the memory floor of node:http2 itself — a bare HTTP/2 server holding N
 * connections with one open stream each (response headers and one 2.5 KB DATA frame sent, as an
 * idle xDS stream has), no gRPC and no xDS state; the clients run in a forked copy of this file.
 * Prints one JSON line {connections, rss_kb_per_connection, heap_kb_per_connection}.
 * Usage: node --expose-gc --import tsx xds-bench-h2-floor.ts <n>
 */
import * as http2 from 'node:http2';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const settle = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 150));
  }
};

if (process.argv[2] === 'client') {
  const port = Number(process.argv[3]);
  const n = Number(process.argv[4]);
  const held: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const s = http2.connect(`http://127.0.0.1:${port}`);
    await new Promise((r) => s.once('connect', r));
    const st = s.request({ ':method': 'POST', ':path': '/x', 'content-type': 'application/grpc', te: 'trailers' });
    st.write(Buffer.alloc(60));
    held.push(s, st);
  }
  process.send!('ready');
  process.on('disconnect', () => process.exit(0));
} else {
  const n = Number(process.argv[2] ?? 3000);
  const server = http2.createServer({ maxDeflateDynamicTableSize: 0, settings: { headerTableSize: 0 } });
  const held: http2.ServerHttp2Stream[] = [];
  server.on('stream', (stream) => {
    held.push(stream);
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    stream.write(Buffer.alloc(2500));
  });
  server.listen(0, '127.0.0.1', async () => {
    const port = (server.address() as { port: number }).port;
    await settle();
    const m0 = process.memoryUsage();
    const child = fork(fileURLToPath(import.meta.url), ['client', String(port), String(n)], { execArgv: ['--import', 'tsx'] });
    await new Promise((r) => child.once('message', r));
    await settle();
    const m1 = process.memoryUsage();
    console.log(
      JSON.stringify({
        connections: n,
        rss_kb_per_connection: Number(((m1.rss - m0.rss) / 1024 / n).toFixed(1)),
        heap_kb_per_connection: Number(((m1.heapUsed - m0.heapUsed) / 1024 / n).toFixed(1)),
      }),
    );
    child.kill();
    process.exit(0);
  });
}
