/**
 * A stand-in for the compose file's Envoy, built from envoy/compose/envoy.yaml itself, so the
 * compose tour (scripts/compose-tour.ts) can run here without Docker: the HTTP listener runs the
 * real filter (proxy-wasm host emulator, the config's inline plugin configuration) and picks a
 * cluster by the route's weighted_clusters; the mTLS listener requires a client certificate from
 * the config's trusted CA and applies the config's RBAC principal before the filter; /ready answers
 * on the admin port. Upstream addresses (compose service names) are mapped to local URLs.
 * Not modelled: anything else Envoy does (HTTP/2, retries, buffering limits, access logs).
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { parse } from 'yaml';
import { createEnvoyHost, type EnvoyHost } from '../host/index.js';

export interface EmulatedEnvoy {
  readonly gatewayUrl: string;
  readonly mtlsUrl: string;
  readonly adminUrl: string;
  close(): Promise<void>;
}

export interface EmulatedEnvoyOptions {
  readonly envoyYaml: string;
  readonly wasm: Uint8Array;
  /** Compose service name → base URL of the local stand-in (e.g. model-v1 → http://127.0.0.1:1234). */
  readonly services: Readonly<Record<string, string>>;
  /** Where the config's /certs/... files are. */
  readonly certsDir: string;
}

const HOP = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'keep-alive']);

export async function startEmulatedEnvoy(options: EmulatedEnvoyOptions): Promise<EmulatedEnvoy> {
  const cfg = parse(options.envoyYaml) as any;
  const [httpListener, mtlsListener] = cfg.static_resources.listeners;
  const hcm = (l: any) => l.filter_chains[0].filters[0].typed_config;
  const wasmFilter = hcm(httpListener).http_filters.find((f: any) => f.name === 'meshward.dlp');
  const pluginConfig = wasmFilter.typed_config.config.configuration.value as string;
  const weighted = hcm(httpListener).route_config.virtual_hosts[0].routes[0].route.weighted_clusters.clusters as { name: string; weight: number }[];
  const mtlsCluster = hcm(mtlsListener).route_config.virtual_hosts[0].routes[0].route.cluster as string;
  const rbac = hcm(mtlsListener).http_filters.find((f: any) => f.name === 'envoy.filters.http.rbac').typed_config.rules;
  const allowed = Object.values(rbac.policies as Record<string, any>).flatMap((p) => p.principals.map((x: any) => x.authenticated.principal_name.exact as string));
  const upstreamOf = (cluster: string): string => {
    const c = cfg.static_resources.clusters.find((x: any) => x.name === cluster);
    const sa = c.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
    const base = options.services[sa.address];
    if (base === undefined) throw new Error(`cluster ${cluster}: no stand-in for ${sa.address}`);
    return base;
  };
  const tls = hcm(mtlsListener) && mtlsListener.filter_chains[0].transport_socket.typed_config.common_tls_context;
  const certFile = (p: string) => readFileSync(`${options.certsDir}/${p.replace(/^\/certs\//, '')}`);

  const host: EnvoyHost = await createEnvoyHost({ wasm: options.wasm, pluginConfig });
  const total = weighted.reduce((n, c) => n + c.weight, 0);
  const pick = () => {
    let x = Math.random() * total;
    for (const c of weighted) {
      if (x < c.weight) return c.name;
      x -= c.weight;
    }
    return weighted.at(-1)!.name;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, mtls: boolean): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    let principal: string | undefined;
    if (mtls) {
      const san = (req.socket as TLSSocket).getPeerCertificate().subjectaltname ?? '';
      principal = /URI:([^,\s]+)/.exec(san)?.[1];
      if (principal === undefined || !allowed.includes(principal)) {
        res.writeHead(403, { 'content-type': 'text/plain' }).end('RBAC: access denied');
        return;
      }
    }
    const s = host.newStream({ properties: principal === undefined ? {} : { 'connection.uri_san_peer_certificate': principal, 'connection.mtls': true } });
    const reqHeaders: [string, string][] = [[':method', req.method ?? 'GET'], [':path', req.url ?? '/'], [':authority', req.headers.host ?? 'envoy'], [':scheme', mtls ? 'https' : 'http']];
    for (const [k, v] of Object.entries(req.headers)) if (!HOP.has(k) && typeof v === 'string') reqHeaders.push([k, v]);
    s.requestHeaders(reqHeaders, body.length === 0);
    if (body.length > 0) s.requestBody(body, true);
    const reply = (status: number, headers: readonly (readonly [string, string])[], text: string) => {
      const h: Record<string, string> = {};
      for (const [k, v] of headers) if (!k.startsWith(':') && !HOP.has(k)) h[k] = v;
      res.writeHead(status, h).end(text);
    };
    if (s.localReply !== undefined) {
      reply(s.localReply.status, s.localReply.headers, s.localReply.bodyText);
      s.complete();
      return;
    }
    const cluster = mtls ? mtlsCluster : pick();
    const upHeaders: Record<string, string> = {};
    for (const [k, v] of s.upstream.headers ?? []) if (!k.startsWith(':') && !HOP.has(k)) upHeaders[k] = v;
    const up = await fetch(upstreamOf(cluster) + (req.url ?? '/'), { method: req.method ?? 'GET', headers: upHeaders, ...(body.length > 0 ? { body: s.upstream.bodyText } : {}) });
    const respHeaders: [string, string][] = [[':status', String(up.status)]];
    up.headers.forEach((v, k) => {
      if (!HOP.has(k)) respHeaders.push([k, v]);
    });
    s.responseHeaders(respHeaders, false);
    const reader = up.body!.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      s.responseBody(value, false);
    }
    s.responseBody(new Uint8Array(0), true);
    const down = s.downstream.headers ?? [];
    reply(Number(down.find(([k]) => k === ':status')?.[1] ?? up.status), down, s.downstream.bodyText);
    s.complete();
  };
  const wrap = (mtls: boolean) => (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res, mtls).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(503).end(`emulated envoy: ${(err as Error).message}`);
    });
  };

  const httpServer = createHttpServer(wrap(false));
  const mtlsServer = createHttpsServer(
    {
      cert: certFile(tls.tls_certificates[0].certificate_chain.filename),
      key: certFile(tls.tls_certificates[0].private_key.filename),
      ca: certFile(tls.validation_context.trusted_ca.filename),
      requestCert: true,
      rejectUnauthorized: mtlsListener.filter_chains[0].transport_socket.typed_config.require_client_certificate === true,
    },
    wrap(true),
  );
  const admin = createHttpServer((req, res) => {
    res.writeHead(req.url === '/ready' ? 200 : 404).end(req.url === '/ready' ? 'LIVE\n' : '');
  });
  const listen = (s: Server) => new Promise<string>((r) => s.listen(0, '127.0.0.1', () => r(String((s.address() as AddressInfo).port))));
  const [p1, p2, p3] = [await listen(httpServer), await listen(mtlsServer), await listen(admin)];
  return {
    gatewayUrl: `http://127.0.0.1:${p1}`,
    mtlsUrl: `https://127.0.0.1:${p2}`,
    adminUrl: `http://127.0.0.1:${p3}`,
    async close() {
      for (const s of [httpServer, mtlsServer, admin]) {
        s.closeAllConnections();
        await new Promise((r) => s.close(r));
      }
      host.shutdown();
    },
  };
}
