/**
 * REST API benchmark: requests/s and latency percentiles for one read and one write route, with
 * autocannon against the real server (fastify + SQLite file in WAL mode with synchronous=FULL, so
 * every write is fsynced before its 2xx) on 127.0.0.1.
 *
 *   npm run bench:api            # 5 s per route, 10 connections
 *   BENCH_SECONDS=10 BENCH_CONNECTIONS=50 npm run bench:api
 *
 * Routes:
 * - read:  GET /v1/models/chat (auth, store read, response serialization)
 * - write: PUT /v1/models/chat/weights with If-Match: * and a different split each time (auth,
 *   schema validation, whole-model validation, one SQLite transaction with the audit entry, fsync,
 *   change event)
 * Prints each run, the comparison with the targets, and a last line with one JSON object.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../../control-plane/src/api/app.js';
import { issueApiToken } from '../../control-plane/src/api/api-token.js';
import { createStore } from '../../control-plane/src/store/store.js';

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p90: number; p99: number; max: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}
interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (req: AutocannonRequest) => AutocannonRequest;
}
type Autocannon = (opts: {
  url: string;
  connections: number;
  duration: number;
  pipelining?: number;
  headers?: Record<string, string>;
  requests?: AutocannonRequest[];
}) => Promise<AutocannonResult>;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const seconds = Math.min(Math.max(Number(process.env['BENCH_SECONDS'] ?? 5), 1), 30);
const connections = Math.min(Math.max(Number(process.env['BENCH_CONNECTIONS'] ?? 10), 1), 200);

/** What we hold the API to on this 2-core machine (shared with other work). */
const TARGETS = { read_rps: 3000, read_p99_ms: 25, write_rps: 150, write_p99_ms: 100 };

const dir = mkdtempSync(join(tmpdir(), 'meshward-api-bench-'));
const store = createStore({ path: join(dir, 'meshward.db') });
const token = issueApiToken(store, { name: 'bench', role: 'admin', actor: 'bench' }).token;
const app = await createApp({ store, dlpConfigSchema: false, logger: false });
let changeEvents = 0;
store.onChange(() => changeEvents++);
await app.listen({ host: '127.0.0.1', port: 0 });
const port = (app.server.address() as { port: number }).port;
const url = `http://127.0.0.1:${port}`;
const auth = { authorization: `Bearer ${token}` };

const seed = await app.inject({
  method: 'POST',
  url: '/v1/models',
  headers: auth,
  payload: {
    name: 'chat',
    versions: [
      { name: 'v1', weight: 90, endpoints: [{ address: '10.0.0.1', port: 8000 }] },
      { name: 'v2', weight: 10, endpoints: [{ address: '10.0.0.2', port: 8000 }] },
    ],
  },
});
if (seed.statusCode !== 201) throw new Error(`seed failed: ${seed.body}`);

function report(name: string, r: AutocannonResult): void {
  process.stdout.write(
    `${name.padEnd(34)} ${r.requests.average.toFixed(0).padStart(7)} req/s   p50 ${r.latency.p50} ms   p90 ${r.latency.p90} ms   p99 ${r.latency.p99} ms   max ${r.latency.max} ms   (${r.requests.total} requests, non-2xx ${r.non2xx}, errors ${r.errors})\n`,
  );
}

process.stdout.write(
  `meshward API benchmark: ${seconds} s per route, ${connections} connections, node ${process.version}, load average ${loadavg()[0]!.toFixed(1)} (other work on the machine skews the figures)\n`,
);

const read = await autocannon({ url: `${url}/v1/models/chat`, connections, duration: seconds, headers: auth });
report('GET  /v1/models/chat', read);

const revisionBefore = store.revision;
let n = 0;
const write = await autocannon({
  url,
  connections,
  duration: seconds,
  requests: [
    {
      method: 'PUT',
      path: '/v1/models/chat/weights',
      headers: { ...auth, 'content-type': 'application/json', 'if-match': '*' },
      setupRequest(req) {
        n++;
        const v2 = 1 + (n % 98); // never the same split twice in a row: every request is a real change
        return { ...req, body: JSON.stringify({ v1: 100 - v2, v2 }) };
      },
    },
  ],
});
report('PUT  /v1/models/chat/weights', write);
const commits = store.revision - revisionBefore;
process.stdout.write(`writes committed: ${commits} (each fsynced, one audit entry, one change event; events seen ${changeEvents})\n`);

const ok = (cond: boolean) => (cond ? 'ok  ' : 'MISS');
process.stdout.write('\ncomparison with targets:\n');
process.stdout.write(`  ${ok(read.requests.average >= TARGETS.read_rps && read.latency.p99 <= TARGETS.read_p99_ms)} read  ${read.requests.average.toFixed(0)} req/s (target >= ${TARGETS.read_rps}), p99 ${read.latency.p99} ms (target <= ${TARGETS.read_p99_ms})\n`);
process.stdout.write(`  ${ok(write.requests.average >= TARGETS.write_rps && write.latency.p99 <= TARGETS.write_p99_ms)} write ${write.requests.average.toFixed(0)} req/s (target >= ${TARGETS.write_rps}), p99 ${write.latency.p99} ms (target <= ${TARGETS.write_p99_ms})\n`);
process.stdout.write(`  write/read throughput ratio ${(write.requests.average / read.requests.average).toFixed(3)} (the write path pays an fsync per commit)\n`);

await app.close();
store.close();
rmSync(dir, { recursive: true, force: true });

if (read.non2xx + read.errors + write.non2xx + write.errors > 0) {
  process.stdout.write('ERROR: some requests failed\n');
  process.exitCode = 1;
}
process.stdout.write(
  `${JSON.stringify({
    read_rps: Math.round(read.requests.average),
    read_p50_ms: read.latency.p50,
    read_p99_ms: read.latency.p99,
    write_rps: Math.round(write.requests.average),
    write_p50_ms: write.latency.p50,
    write_p99_ms: write.latency.p99,
    writes_committed: commits,
    connections,
    duration_s_per_route: seconds,
    load_avg_1m: Number(loadavg()[0]!.toFixed(2)),
  })}\n`,
);
