/**
 * xDS scale benchmark (`npm run bench:xds`): N simulated Envoys (each its own HTTP/2 connection and
 * SotW ADS stream, in child processes) hold CDS/EDS/LDS/RDS subscriptions on the control plane in
 * this process; one change (a version split, i.e. one RouteConfiguration) is published and we time
 * until every stream has received and ACKed it, as seen by the server (fleet 'ack' events).
 * Prints p50/p99/max, server RSS per idle stream, server CPU per push, and a comparison with the
 * naive baseline of issue 3 (one encode per stream per push: 1.3–2.0 s to all-ACKed at 10k streams,
 * ~30 KB RSS per stream). Also measured in the same run, in processes of their own and with the
 * same clients: the same pushes on the naive control plane (every response encoded per stream) and
 * on a bare grpc-js server with no xDS logic (the floor: what limits us), and the memory floor of
 * bare node:http2 per connection. Client CPU per push is reported too: the
 * simulated Envoys share the 2 cores with the server (and with anything else running: the load
 * average is printed). Last line: one JSON object, units in the keys.
 *
 * The control plane runs on its default transport, meshward's compact HTTP/2 server (`h2`); the same
 * control plane on the grpc-js transport is measured in the same run, in a process of its own
 * (this file forked with XDS_BENCH_CHILD=1), at the largest step.
 *
 * Env: XDS_BENCH_STEPS (default "1000,5000,10000"; ≤ ~19,900 with RLIMIT_NOFILE 20000),
 * XDS_BENCH_TRANSPORT (h2 | grpc-js, default h2), XDS_BENCH_CHILD=1 (measure, print one JSON line, exit),
 * XDS_BENCH_TLS=1 (TLS on the xDS port and every client connection, P-256 certificates from a
 * throwaway openssl PKI: what an mTLS-era fleet costs per Envoy; use smaller steps, each handshake
 * costs CPU on both sides),
 * XDS_BENCH_CLIENT_PROCS (default 2), XDS_BENCH_PUSHES (pushes per step, default 3),
 * XDS_BENCH_PROFILE=<file> (CPU profile of the last push of the last step).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type * as XdsModule from '../../control-plane/src/xds/index.js';
import type { AckEvent } from '../../control-plane/src/xds/index.js';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

/**
 * The control plane under test is the BUILT artifact: control-plane/src/xds compiled by tsc (as
 * `npm run build:ts` does) into node_modules/.cache, not the tsx-transpiled sources (tsx's esbuild
 * `keepNames` adds a property to every closure: ~2.5 KB per stream that production never pays).
 */
function buildXds(): string {
  const out = join(root, 'node_modules', '.cache', 'meshward-xds-bench');
  execFileSync(
    process.execPath,
    [
      join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
      '--outDir', out, '--rootDir', root, '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022',
      '--strict', '--skipLibCheck', '--verbatimModuleSyntax', '--exactOptionalPropertyTypes', '--types', 'node',
      join(root, 'control-plane', 'src', 'xds', 'index.ts'),
    ],
    { stdio: 'inherit' },
  );
  return join(out, 'control-plane', 'src', 'xds', 'index.js');
}
const STEPS = (process.env.XDS_BENCH_STEPS ?? '1000,5000,10000').split(',').map(Number);
const CLIENT_PROCS = Number(process.env.XDS_BENCH_CLIENT_PROCS ?? 2);
const PUSHES = Number(process.env.XDS_BENCH_PUSHES ?? 3);
const TRANSPORT = process.env.XDS_BENCH_TRANSPORT === 'grpc-js' ? 'grpc-js' : 'h2';
const CHILD = process.env.XDS_BENCH_CHILD === '1';
const TLS = process.env.XDS_BENCH_TLS === '1';
const NAIVE = { all_acked_s: [1.3, 2.0], rss_kb_per_stream: 30 };
const TARGET = { p99_ms: 1000, rss_kb_per_stream: 20 };
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

import { benchResources as resources, clusterNames } from './xds-bench-resources.js';
import { createTestPki } from '../control-plane/xds/test-pki.js';

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

interface PushFigures {
  p50: number;
  p99: number;
  max: number;
  cpuMs: number;
  clientCpuMs: number;
  writeMs: number;
}

/** Total CPU time (ms) used so far by the client processes. */
async function clientCpu(children: readonly ChildProcess[]): Promise<number> {
  const each = await Promise.all(
    children.map(
      (c) =>
        new Promise<number>((resolve) => {
          c.once('message', (m: { cpuMs: number }) => resolve(m.cpuMs));
          c.send({ cmd: 'cpu' });
        }),
    ),
  );
  return each.reduce((a, b) => a + b, 0);
}

/** Runs a benchmark child (tsx, --expose-gc) in a process of its own; resolves with the JSON object on its last stdout line. */
function forkForJson<T>(file: string, args: readonly string[], env: Record<string, string> = {}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const child = fork(file, [...args], {
      execArgv: ['--expose-gc', '--import', 'tsx'],
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as T);
      } catch (err) {
        reject(new Error(`${file} ${args.join(' ')} (exit ${code}) printed no JSON last line: ${(err as Error).message}`));
      }
    });
  });
}

async function main(): Promise<void> {
  const started = Date.now();
  const built = buildXds();
  const { TypeUrl, createSnapshot, createSnapshotCache, createXdsServer, createXdsServerCredentials } = (await import(pathToFileURL(built).href)) as typeof XdsModule;
  console.log(`control plane under test: ${built} (tsc build, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  const cache = createSnapshotCache();
  const server = createXdsServer({ cache });
  let version = 0;
  let split = 10;
  cache.setSnapshot('role=sidecar', createSnapshot({ version: `v${++version}`, resources: resources(split) }));
  const pki = TLS ? createTestPki() : undefined;
  const credentials = pki === undefined ? undefined : createXdsServerCredentials({ mode: 'tls', certificateChain: pki.serverCert, privateKey: pki.serverKey });
  const port = await server.listen({ transport: TRANSPORT, ...(credentials === undefined ? {} : { credentials }) });
  const address = `127.0.0.1:${port}`;

  const children: ChildProcess[] = [];
  for (let i = 0; i < CLIENT_PROCS; i++) {
    const child = fork(join(here, 'xds-bench-client.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise<void>((resolve) => child.once('message', () => resolve()));
    children.push(child);
  }
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 100));
  }
  const base = process.memoryUsage();
  const baseRss = base.rss;
  const baseHeap = base.heapUsed;
  console.log(`load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')} (other processes share the 2 cores)`);
  console.log(`control plane (transport ${TRANSPORT}, ${TLS ? 'TLS' : 'plaintext'}) on ${address}; ${CLIENT_PROCS} client processes; baseline RSS ${(baseRss / 1048576).toFixed(1)} MiB; resources: ${JSON.stringify(cache.getSnapshot('role=sidecar')!.counts)}`);
  console.log(`RDS push size: ${cache.getSnapshot('role=sidecar')!.type(TypeUrl.RouteConfiguration).sotwBody(new Set(['routes'])).length} bytes; EDS response: ${cache.getSnapshot('role=sidecar')!.type(TypeUrl.ClusterLoadAssignment).sotwBody(new Set(clusterNames)).length} bytes`);

  let open = 0;
  const results: Array<{ n: number; rssKb: number; heapKb: number; heapTotalKb: number; externalKb: number; marginalRssKb: number | undefined; rss: number; pushes: PushFigures[]; connectS: number }> = [];
  for (const n of STEPS) {
    const add = n - open;
    const t0 = Date.now();
    const per = Math.ceil(add / CLIENT_PROCS);
    await Promise.all(
      children.map(
        (child, i) =>
          new Promise<void>((resolve, reject) => {
            const count = Math.max(0, Math.min(per, add - i * per));
            child.once('message', (m: { ready?: boolean; error?: string }) => (m.error ? reject(new Error(m.error)) : resolve()));
            child.send({ cmd: 'open', count, address, offset: open + i * per, clusters: clusterNames, routes: ['routes'], ...(pki === undefined ? {} : { ca: pki.caPem }) });
          }),
      ),
    );
    open = n;
    const connectS = (Date.now() - t0) / 1000;
    if (server.fleet.size !== n) throw new Error(`expected ${n} streams, server has ${server.fleet.size}`);
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 200));
    }
    const mem = process.memoryUsage();
    const rssKb = (mem.rss - baseRss) / 1024 / n;
    const heapKb = (mem.heapUsed - baseHeap) / 1024 / n;
    // V8 heap reserved (used + free space in its pages) and memory outside V8 that JS owns (Buffers).
    const heapTotalKb = (mem.heapTotal - base.heapTotal) / 1024 / n;
    const externalKb = (mem.external - base.external) / 1024 / n;
    // What the streams added since the previous step: one-time costs (code, caches) excluded.
    const prev = results[results.length - 1];
    const marginalRssKb = prev === undefined ? undefined : (mem.rss - prev.rss) / 1024 / (n - prev.n);
    const pushes: PushFigures[] = [];
    for (let p = 0; p < PUSHES; p++) {
      split = split === 10 ? 20 : 10;
      const snapshot = createSnapshot({ version: `v${++version}`, resources: resources(split) });
      const target = snapshot.version;
      const latencies: number[] = [];
      let start = 0;
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`push ${target}: only ${latencies.length}/${n} ACKs after 30 s`)), 30_000);
        const onAck = (e: AckEvent): void => {
          if (e.version !== target || e.typeUrl !== TypeUrl.RouteConfiguration) return;
          latencies.push(e.at - start);
          if (latencies.length === n) {
            clearTimeout(timer);
            server.fleet.off('ack', onAck);
            resolve();
          }
        };
        server.fleet.on('ack', onAck);
      });
      await new Promise((r) => setTimeout(r, 300));
      const clientCpu0 = await clientCpu(children);
      const profile = process.env.XDS_BENCH_PROFILE !== undefined && p === PUSHES - 1 && n === STEPS[STEPS.length - 1] ? new Session() : undefined;
      if (profile !== undefined) {
        profile.connect();
        await profile.post('Profiler.enable');
        await profile.post('Profiler.start');
      }
      const cpu0 = process.cpuUsage();
      start = performance.now();
      cache.setSnapshot('role=sidecar', snapshot);
      const writeMs = performance.now() - start;
      await done;
      const cpu = process.cpuUsage(cpu0);
      const clientCpuMs = (await clientCpu(children)) - clientCpu0;
      if (profile !== undefined) {
        const { profile: prof } = await profile.post('Profiler.stop');
        writeFileSync(process.env.XDS_BENCH_PROFILE!, JSON.stringify(prof));
        profile.disconnect();
      }
      latencies.sort((a, b) => a - b);
      pushes.push({ p50: pct(latencies, 50), p99: pct(latencies, 99), max: latencies[latencies.length - 1]!, cpuMs: (cpu.user + cpu.system) / 1000, clientCpuMs, writeMs });
    }
    results.push({ n, rssKb, heapKb, heapTotalKb, externalKb, marginalRssKb, rss: mem.rss, pushes, connectS });
    const med = [...pushes].sort((a, b) => a.p99 - b.p99)[Math.floor(pushes.length / 2)]!;
    console.log(
      `N=${n}: connect+initial ACKs ${connectS.toFixed(1)} s | RSS/stream ${rssKb.toFixed(1)} KB (V8 heap used ${heapKb.toFixed(1)}, reserved ${heapTotalKb.toFixed(1)}, external ${externalKb.toFixed(1)} KB${marginalRssKb === undefined ? '' : `; +${marginalRssKb.toFixed(1)} KB RSS per stream added since N=${prev!.n}`}) | push→all ACKed (median of ${pushes.length}): p50 ${med.p50.toFixed(0)} ms, p99 ${med.p99.toFixed(0)} ms, max ${med.max.toFixed(0)} ms | server CPU/push ${med.cpuMs.toFixed(0)} ms (sync write loop ${med.writeMs.toFixed(0)} ms), clients CPU/push ${med.clientCpuMs.toFixed(0)} ms`,
    );
    if (Date.now() - started > 150_000) {
      console.log('time budget reached; stopping early');
      break;
    }
  }
  for (const c of children) c.send({ cmd: 'exit' });
  await Promise.all(children.map((c) => new Promise<void>((resolve) => (c.exitCode !== null ? resolve() : c.once('exit', () => resolve())))));
  await server.close();
  pki?.dispose();
  if (CHILD) {
    const r = results[results.length - 1]!;
    const m = [...r.pushes].sort((a, b) => a.p99 - b.p99)[Math.floor(r.pushes.length / 2)]!;
    console.log(JSON.stringify({ transport: TRANSPORT, tls: TLS, streams: r.n, rss_kb_per_stream: Number(r.rssKb.toFixed(1)), heap_kb_per_stream: Number(r.heapKb.toFixed(1)), all_acked_p99_ms: Math.round(m.p99), server_cpu_ms_per_push: Math.round(m.cpuMs) }));
    return;
  }

  // The same control plane on the grpc-js transport, in a process of its own, at the largest step.
  const otherN = results[results.length - 1]!.n;
  const onGrpcJs = await forkForJson<{ rss_kb_per_stream: number; heap_kb_per_stream: number; all_acked_p99_ms: number; server_cpu_ms_per_push: number }>(
    fileURLToPath(import.meta.url),
    [],
    { XDS_BENCH_CHILD: '1', XDS_BENCH_TRANSPORT: 'grpc-js', XDS_BENCH_STEPS: String(otherN) },
  );

  if (TLS) {
    // TLS run: the two transports side by side (the plaintext floors and the naive server do not apply).
    const r = results[results.length - 1]!;
    const m = [...r.pushes].sort((a, b) => a.p99 - b.p99)[Math.floor(r.pushes.length / 2)]!;
    console.log('');
    console.log(`TLS on every connection, N=${r.n}: transport ${TRANSPORT} ${r.rssKb.toFixed(1)} KB RSS per idle stream, all ACKed p99 ${m.p99.toFixed(0)} ms; transport grpc-js ${onGrpcJs.rss_kb_per_stream} KB, p99 ${onGrpcJs.all_acked_p99_ms} ms`);
    console.log(
      JSON.stringify({
        tls: true,
        streams: r.n,
        transport: TRANSPORT,
        rss_kb_per_stream: Number(r.rssKb.toFixed(1)),
        all_acked_p99_ms: Math.round(m.p99),
        server_cpu_ms_per_push: Math.round(m.cpuMs),
        grpc_js_transport_rss_kb_per_stream: onGrpcJs.rss_kb_per_stream,
        grpc_js_transport_all_acked_p99_ms: onGrpcJs.all_acked_p99_ms,
        load_average_1m: Number(loadavg()[0]!.toFixed(2)),
        bench_duration_s: Math.round((Date.now() - started) / 1000),
      }),
    );
    return;
  }

  // The floors: what node:http2 alone, and a bare grpc-js bidi server, cost per connection with one
  // idle stream (measured in processes of their own, same client shape).
  const floorN = Math.min(5000, STEPS[STEPS.length - 1]!);
  const runFloor = (kind: 'http2' | 'http2-session') =>
    forkForJson<{ rss_kb_per_connection: number; heap_kb_per_connection: number; nghttp2_kb_per_connection: number }>(join(here, 'xds-bench-h2-floor.ts'), [kind, String(floorN)]);
  const floor = await runFloor('http2');
  const sessionFloor = await runFloor('http2-session');
  // The same pushes on two reference servers: bare grpc-js (no xDS logic: the floor) and the naive
  // control plane of issue 3 (every response encoded per stream).
  const refN = Math.min(10_000, STEPS[STEPS.length - 1]!);
  const reference = (mode: 'bare' | 'naive') =>
    forkForJson<{ server_cpu_ms_per_push: number; all_acked_p99_ms: number; rss_kb_per_stream: number }>(join(here, 'xds-bench-grpc-floor.ts'), [String(refN), String(PUSHES), mode]);
  const pushFloor = await reference('bare');
  const naive = await reference('naive');
  const pushFloorN = refN;
  const atFloorN = results.find((r) => r.n === pushFloorN);
  const atFloorMed = atFloorN === undefined ? undefined : [...atFloorN.pushes].sort((a, b) => a.p99 - b.p99)[Math.floor(atFloorN.pushes.length / 2)]!;

  const last = results[results.length - 1]!;
  const med = [...last.pushes].sort((a, b) => a.p99 - b.p99)[Math.floor(last.pushes.length / 2)]!;
  const worst = [...last.pushes].sort((a, b) => b.p99 - a.p99)[0]!;
  console.log('');
  console.log(`comparison at N=${last.n} (clients on the same 2 cores):`);
  console.log(`  all ACKed: p99 ${med.p99.toFixed(0)} ms, max ${med.max.toFixed(0)} ms (worst push p99 ${worst.p99.toFixed(0)} ms) vs naive (issue) ${NAIVE.all_acked_s[0]}–${NAIVE.all_acked_s[1]} s; target ≤ ${TARGET.p99_ms} ms p99 → ${med.p99 <= TARGET.p99_ms ? 'MET' : 'NOT MET'}`);
  console.log(`  RSS per idle stream: ${last.rssKb.toFixed(1)} KB vs naive (issue) ${NAIVE.rss_kb_per_stream} KB; target ≤ ${TARGET.rss_kb_per_stream} KB → ${last.rssKb <= TARGET.rss_kb_per_stream ? 'MET' : 'NOT MET'}`);
  console.log(`  same run, same clients, ${pushFloorN} streams (median of ${PUSHES} pushes):`);
  const row = (name: string, cpu: number, p99: number, rss: number) =>
    console.log(`    ${name.padEnd(34)} server CPU/push ${String(Math.round(cpu)).padStart(5)} ms | all ACKed p99 ${String(Math.round(p99)).padStart(5)} ms | RSS/stream ${rss.toFixed(1)} KB`);
  if (atFloorMed !== undefined && atFloorN !== undefined) row(`meshward (transport ${TRANSPORT})`, atFloorMed.cpuMs, atFloorMed.p99, atFloorN.rssKb);
  if (otherN === pushFloorN) row('meshward (transport grpc-js)', onGrpcJs.server_cpu_ms_per_push, onGrpcJs.all_acked_p99_ms, onGrpcJs.rss_kb_per_stream);
  row('naive (encode per stream per push)', naive.server_cpu_ms_per_push, naive.all_acked_p99_ms, naive.rss_kb_per_stream);
  row('bare grpc-js, no xDS logic (floor)', pushFloor.server_cpu_ms_per_push, pushFloor.all_acked_p99_ms, pushFloor.rss_kb_per_stream);
  console.log(`  bare node:http2 (no gRPC) at ${floorN} connections, one idle stream each: ${floor.rss_kb_per_connection} KB RSS (${floor.heap_kb_per_connection} KB heap); no stream at all: ${sessionFloor.rss_kb_per_connection} KB RSS (${sessionFloor.heap_kb_per_connection} KB heap)`);
  console.log(`  nghttp2's own allocation per HTTP/2 session (Node's accounting, no option changes it; 16 KB of it is its outbound frame buffer): ${floor.nghttp2_kb_per_connection} KB`);
  console.log(`  → node:http2 alone needs ${floor.rss_kb_per_connection} KB per connection, so no server on it (grpc-js: ${onGrpcJs.rss_kb_per_stream} KB) reaches ≤ ${TARGET.rss_kb_per_stream} KB; the h2 transport does not use node:http2 (see xds/index.ts MEMORY).`);
  console.log(
    JSON.stringify({
      streams: last.n,
      all_acked_p50_ms: Math.round(med.p50),
      all_acked_p99_ms: Math.round(med.p99),
      all_acked_max_ms: Math.round(med.max),
      worst_push_p99_ms: Math.round(worst.p99),
      rss_kb_per_stream: Number(last.rssKb.toFixed(1)),
      heap_kb_per_stream: Number(last.heapKb.toFixed(1)),
      heap_total_kb_per_stream: Number(last.heapTotalKb.toFixed(1)),
      external_kb_per_stream: Number(last.externalKb.toFixed(1)),
      ...(last.marginalRssKb === undefined ? {} : { marginal_rss_kb_per_stream: Number(last.marginalRssKb.toFixed(1)) }),
      server_cpu_ms_per_push: Math.round(med.cpuMs),
      clients_cpu_ms_per_push: Math.round(med.clientCpuMs),
      http2_floor_rss_kb_per_connection: floor.rss_kb_per_connection,
      http2_session_only_floor_rss_kb_per_connection: sessionFloor.rss_kb_per_connection,
      nghttp2_kb_per_session: floor.nghttp2_kb_per_connection,
      transport: TRANSPORT,
      grpc_js_transport_rss_kb_per_stream: onGrpcJs.rss_kb_per_stream,
      grpc_js_transport_all_acked_p99_ms: onGrpcJs.all_acked_p99_ms,
      grpc_js_transport_server_cpu_ms_per_push: onGrpcJs.server_cpu_ms_per_push,
      grpc_js_floor_rss_kb_per_stream: pushFloor.rss_kb_per_stream,
      grpc_js_floor_server_cpu_ms_per_push: pushFloor.server_cpu_ms_per_push,
      grpc_js_floor_all_acked_p99_ms: pushFloor.all_acked_p99_ms,
      naive_same_run_server_cpu_ms_per_push: naive.server_cpu_ms_per_push,
      naive_same_run_all_acked_p99_ms: naive.all_acked_p99_ms,
      naive_same_run_rss_kb_per_stream: naive.rss_kb_per_stream,
      load_average_1m: Number(loadavg()[0]!.toFixed(2)),
      naive_issue_all_acked_ms: NAIVE.all_acked_s.map((s) => s * 1000),
      naive_issue_rss_kb_per_stream: NAIVE.rss_kb_per_stream,
      steps: results.map((r) => ({ streams: r.n, p99_ms: Math.round([...r.pushes].sort((a, b) => a.p99 - b.p99)[Math.floor(r.pushes.length / 2)]!.p99), rss_kb_per_stream: Number(r.rssKb.toFixed(1)) })),
      bench_duration_s: Math.round((Date.now() - started) / 1000),
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
