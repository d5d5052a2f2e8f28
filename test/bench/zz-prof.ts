import { fork } from 'node:child_process';
import * as v8 from 'node:v8';
import { readFileSync } from 'node:fs';
import { createSnapshot, createSnapshotCache, createXdsServer } from '/work/main/control-plane/src/xds/index.js';
import { meshResources } from '/work/main/test/control-plane/xds/fixtures.js';
const gc = (globalThis as any).gc;
function agg(file: string) {
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  const f = snap.snapshot.meta.node_fields; const nf = f.length;
  const types = snap.snapshot.meta.node_types[0];
  const ti = f.indexOf('type'), ni = f.indexOf('name'), si = f.indexOf('self_size');
  const m = new Map<string, [number, number]>();
  for (let i = 0; i < snap.nodes.length; i += nf) {
    const key = types[snap.nodes[i + ti]] + ':' + snap.strings[snap.nodes[i + ni]].slice(0, 60);
    const e = m.get(key) ?? [0, 0]; e[0]++; e[1] += snap.nodes[i + si]; m.set(key, e);
  }
  return m;
}
const cache = createSnapshotCache();
cache.setSnapshot('role=sidecar', createSnapshot({ version: 'v1', resources: meshResources({ tls: false }) }));
const server = createXdsServer({ cache });
const port = await server.listen();
gc(); const f0 = v8.writeHeapSnapshot('/tmp/xdsprof/a.heapsnapshot');
const child = fork('/work/main/test/bench/xds-bench-client.ts', [], { execArgv: ['--import', 'tsx'] });
await new Promise((r) => child.once('message', r));
await new Promise<void>((r) => { child.once('message', () => r()); child.send({ cmd: 'open', count: 1000, address: `127.0.0.1:${port}`, offset: 0, clusters: Array.from({length: 40}, (_, i) => 'c' + i), routes: ['routes'] }); });
await new Promise((r) => setTimeout(r, 500)); gc();
const f1 = v8.writeHeapSnapshot('/tmp/xdsprof/b.heapsnapshot');
const a = agg(f0), b = agg(f1);
const rows = [...b].map(([k, [c, s]]) => [k, c - (a.get(k)?.[0] ?? 0), s - (a.get(k)?.[1] ?? 0)] as const).filter((r) => r[2] > 50_000).sort((x, y) => y[2] - x[2]);
for (const r of rows.slice(0, 45)) console.log(String(r[2] / 1000 | 0).padStart(8), 'B/stream', String(r[1]).padStart(7), r[0]);
child.send({ cmd: 'exit' }); await server.close(); process.exit(0);
