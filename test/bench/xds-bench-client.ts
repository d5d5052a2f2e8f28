/**
 * Child process of the xDS benchmark: holds `count` simulated Envoys, each on its OWN HTTP/2
 * connection with one SotW ADS stream subscribing CDS (wildcard), EDS (by name), LDS (wildcard) and
 * RDS (by name), ACKing every response as Envoy does. Messages from the parent: {cmd:'open', count,
 * address, offset}; replies: {ready, opened} once every stream has ACKed its initial responses,
 * {error}. Run by xds-bench.ts with tsx.
 */
import { connect, openStream, SOTW_PATH, type RawGrpcStream } from '../xds-clients/raw-grpc-stream.js';
import { encodeDiscoveryRequest, scanDiscoveryResponse } from '../xds-clients/light-ads-codec.js';
import type { ClientHttp2Session } from 'node:http2';

const CDS = 'type.googleapis.com/envoy.config.cluster.v3.Cluster';
const EDS = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';
const LDS = 'type.googleapis.com/envoy.config.listener.v3.Listener';
const RDS = 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration';

interface Msg {
  cmd: 'open' | 'exit' | 'cpu';
  count: number;
  address: string;
  offset: number;
  clusters: string[];
  routes: string[];
  /** TLS to the control plane (XDS_BENCH_TLS=1): its CA PEM; absent = plaintext. */
  ca?: string;
}

const sessions: ClientHttp2Session[] = [];
let received = 0;

/** Pre-encoded envoy.config.core.v3.Node: id(1), cluster(2), metadata(3: Struct {fields{role: sidecar}}). */
function nodeBytes(id: string): Buffer {
  const s = (no: number, v: string) => {
    const b = Buffer.from(v);
    return Buffer.concat([Buffer.from([(no << 3) | 2, b.length]), b]);
  };
  // Struct.fields map entry: key(1)="role", value(2)=Value{string_value(3)="sidecar"}
  const value = s(3, 'sidecar');
  const entry = Buffer.concat([s(1, 'role'), Buffer.from([(2 << 3) | 2, value.length]), value]);
  const struct = Buffer.concat([Buffer.from([(1 << 3) | 2, entry.length]), entry]);
  return Buffer.concat([s(1, id), s(2, 'bench'), Buffer.from([(3 << 3) | 2, struct.length]), struct]);
}

async function openOne(address: string, id: string, clusters: string[], routes: string[], ca: string | undefined): Promise<void> {
  const session = await connect({ address, ...(ca === undefined ? {} : { tls: { ca, servername: 'localhost' } }) });
  sessions.push(session);
  const stream: RawGrpcStream = openStream(session, SOTW_PATH);
  const names: Record<string, string[]> = { [CDS]: [], [EDS]: clusters, [LDS]: [], [RDS]: routes };
  let acked = 0;
  await new Promise<void>((resolve, reject) => {
    stream.on('message', (payload: Buffer) => {
      received++;
      const r = scanDiscoveryResponse(payload);
      stream.write(encodeDiscoveryRequest(r.versionInfo, undefined, names[r.typeUrl] ?? [], r.typeUrl, r.nonce));
      if (++acked === 4) resolve();
    });
    stream.on('status', (s: { code: number; details: string }) => reject(new Error(`stream ${id} ended: ${s.code} ${s.details}`)));
    stream.write(encodeDiscoveryRequest('', nodeBytes(id), [], CDS, ''));
    stream.write(encodeDiscoveryRequest('', undefined, clusters, EDS, ''));
    stream.write(encodeDiscoveryRequest('', undefined, [], LDS, ''));
    stream.write(encodeDiscoveryRequest('', undefined, routes, RDS, ''));
  });
}

process.on('message', (m: Msg) => {
  if (m.cmd === 'exit') {
    for (const s of sessions) s.destroy();
    process.exit(0);
  }
  if (m.cmd === 'cpu') {
    const u = process.cpuUsage();
    process.send!({ cpuMs: (u.user + u.system) / 1000 });
    return;
  }
  void (async () => {
    try {
      const batch = 200;
      for (let i = 0; i < m.count; i += batch) {
        const n = Math.min(batch, m.count - i);
        await Promise.all(Array.from({ length: n }, (_, k) => openOne(m.address, `envoy-${m.offset + i + k}`, m.clusters, m.routes, m.ca)));
      }
      process.send!({ ready: true, opened: sessions.length, received });
    } catch (err) {
      process.send!({ error: (err as Error).message });
    }
  })();
});
process.send!({ started: true });
