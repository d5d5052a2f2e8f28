/**
 * docker-compose.yml cannot run here (no Docker), so it is kept honest statically: every image tag
 * is pinned, every mounted file and every script a command runs exists, every published port is a
 * port something listens on, Envoy's config decodes into the Bootstrap proto and points at compose
 * service names on the ports those services listen on, the tour's URLs match Envoy's listeners, the
 * certificate files Envoy reads are the ones the certs service writes, and Envoy's static split and
 * DLP config equal the resources the tour applies to the control plane (envoy/compose/meshward.yaml),
 * whose DLP config the real filter accepts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { BootstrapSchema, type Bootstrap } from '../../control-plane/src/gen/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { envoyRegistry, validateProtoRules } from '../../control-plane/src/translate/index.js';
import { parseSettings } from '../../control-plane/src/config/index.js';
import { CERT_FILES, CLIENT_IDENTITY } from '../../scripts/compose-certs.js';
import { createEnvoyHost } from '../host/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { image?: string; command?: string[]; volumes?: string[]; ports?: string[]; environment?: Record<string, string>; depends_on?: Record<string, { condition: string }> }>;
  volumes: Record<string, unknown>;
};
const services = compose.services;
const envoyJson = parse(readFileSync(join(ROOT, 'envoy/compose/envoy.yaml'), 'utf8')) as any;
const bootstrap: Bootstrap = fromJson(BootstrapSchema, envoyJson as JsonValue, { registry: envoyRegistry });
const resourcesDocs = parseAllDocuments(readFileSync(join(ROOT, 'envoy/compose/meshward.yaml'), 'utf8'));
const resources = (Array.isArray(resourcesDocs) ? resourcesDocs : [resourcesDocs]).map((d) => d.toJS() as any);

/** The port a service's process listens on, from its command (`--port N`) or environment. */
function listenPorts(name: string): number[] {
  const s = services[name]!;
  const cmd = s.command ?? [];
  const i = cmd.indexOf('--port');
  if (i >= 0) return [Number(cmd[i + 1])];
  if (name === 'control-plane') return [Number(s.environment!['MESHWARD_API_PORT']), Number(s.environment!['MESHWARD_XDS_PORT'])];
  if (name === 'envoy') {
    return [...bootstrap.staticResources!.listeners.map((l) => (l.address!.address.case === 'socketAddress' ? (l.address!.address.value.portSpecifier.value as number) : -1)), 9901];
  }
  return [];
}

describe('docker-compose.yml', () => {
  it('has the services the README tour names', () => {
    expect(Object.keys(services).sort()).toEqual(['certs', 'client', 'control-plane', 'envoy', 'model-v1', 'model-v2', 'setup']);
  });

  it('pins every image: official Envoy at an exact v1.31 patch (the API protos we decode against), Node at an exact 20.x', () => {
    for (const [name, s] of Object.entries(services)) {
      expect(s.image, name).toBeDefined();
      expect(s.image, name).not.toMatch(/:latest$|^[^:]+$/);
    }
    expect(services['envoy']!.image).toMatch(/^envoyproxy\/envoy:v1\.31\.\d+$/);
    for (const n of ['setup', 'certs', 'control-plane', 'model-v1', 'model-v2', 'client']) expect(services[n]!.image).toMatch(/^node:20\.\d+\.\d+-bookworm-slim$/);
    // The engines field allows this Node.
    const engines = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    const [maj, min] = /node:(\d+)\.(\d+)/.exec(services['setup']!.image!)!.slice(1).map(Number);
    const [emaj, emin] = /(\d+)\.(\d+)/.exec(engines)!.slice(1).map(Number);
    expect(maj! > emaj! || (maj === emaj && min! >= emin!)).toBe(true);
  });

  it('mounts only files and directories that exist (or that setup builds), and declared volumes', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const [src] = v.split(':');
        if (src!.startsWith('.')) {
          const path = join(ROOT, src!);
          if (src === './filter/build') expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts['build:filter']).toContain('asc');
          else expect(existsSync(path), `${name}: ${src}`).toBe(true);
        } else {
          expect(Object.keys(compose.volumes), `${name}: volume ${src}`).toContain(src);
        }
      }
    }
  });

  it('runs only scripts that exist, and npm scripts that package.json defines', () => {
    const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    for (const [name, s] of Object.entries(services)) {
      const cmd = (s.command ?? []).join(' ');
      for (const m of cmd.matchAll(/tsx (\S+\.ts)/g)) expect(existsSync(join(ROOT, m[1]!)), `${name}: ${m[1]}`).toBe(true);
      for (const m of cmd.matchAll(/npm run ([\w:-]+)/g)) expect(scripts[m[1]!], `${name}: npm run ${m[1]}`).toBeDefined();
    }
  });

  it('depends only on existing services, waiting for setup and certs to complete', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const dep of Object.keys(s.depends_on ?? {})) expect(Object.keys(services), `${name} -> ${dep}`).toContain(dep);
    }
    expect(services['envoy']!.depends_on!['certs']!.condition).toBe('service_completed_successfully');
    expect(services['certs']!.depends_on!['setup']!.condition).toBe('service_completed_successfully');
  });

  it('configures the control plane with settings it accepts, listening on all interfaces inside its container', () => {
    const settings = parseSettings({ env: services['control-plane']!.environment! });
    expect(settings.api.host).toBe('0.0.0.0');
    expect(settings.xds.host).toBe('0.0.0.0');
    expect(settings.dataDir).toBe('/data');
    expect(services['control-plane']!.volumes).toContain('meshward-data:/data');
    expect(services['client']!.environment!['MESHWARD_DATA_DIR']).toBe('/data');
  });

  it('publishes, on loopback only, ports the services listen on', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const p of s.ports ?? []) {
        const m = /^127\.0\.0\.1:(\d+):(\d+)$/.exec(p);
        expect(m, `${name}: ${p}`).not.toBeNull();
        expect(listenPorts(name), `${name}: ${p}`).toContain(Number(m![2]));
      }
    }
  });
});

describe('envoy/compose/envoy.yaml', () => {
  it('decodes into the Bootstrap proto and satisfies its validation rules', () => {
    expect(validateProtoRules(BootstrapSchema, bootstrap, envoyRegistry)).toEqual([]);
  });

  it('sends traffic to compose services on the ports they listen on', () => {
    for (const c of bootstrap.staticResources!.clusters) {
      const ep = c.loadAssignment!.endpoints[0]!.lbEndpoints[0]!.hostIdentifier;
      const sa = ep.case === 'endpoint' && ep.value.address!.address.case === 'socketAddress' ? ep.value.address!.address.value : undefined;
      expect(Object.keys(services), c.name).toContain(sa!.address);
      expect(listenPorts(sa!.address), c.name).toContain(sa!.portSpecifier.value);
    }
  });

  it('loads the filter and certificates from paths compose mounts, written by the services that make them', () => {
    const mounts = services['envoy']!.volumes!.map((v) => v.split(':'));
    const mounted = (path: string): string | undefined => {
      const m = mounts.find(([, dst]) => path === dst || path.startsWith(`${dst!}/`));
      return m === undefined ? undefined : m[0];
    };
    const text = readFileSync(join(ROOT, 'envoy/compose/envoy.yaml'), 'utf8');
    const files = [...text.matchAll(/filename: (\/\S+)/g)].map((m) => m[1]!);
    expect(files).toContain('/etc/meshward/meshward.wasm');
    for (const f of files) {
      const src = mounted(f);
      expect(src, f).toBeDefined();
      if (src === 'certs') expect(Object.values(CERT_FILES), f).toContain(f.slice('/certs/'.length));
      else if (src === './filter/build') expect(f).toBe('/etc/meshward/meshward.wasm');
      else expect(existsSync(join(ROOT, src!)), f).toBe(true);
    }
    expect(mounted('/etc/envoy/envoy.yaml')).toBe('./envoy/compose/envoy.yaml');
    expect(services['envoy']!.command).toEqual(['envoy', '-c', '/etc/envoy/envoy.yaml', '--log-level', 'info']);
  });

  it('the client tour talks to Envoy\'s listeners and the control plane\'s API port', () => {
    const envs = services['client']!.environment!;
    const ports = listenPorts('envoy');
    for (const k of ['MESHWARD_GATEWAY_URL', 'MESHWARD_MTLS_URL', 'MESHWARD_ENVOY_ADMIN_URL']) {
      const u = new URL(envs[k]!);
      expect(u.hostname, k).toBe('envoy');
      expect(ports, k).toContain(Number(u.port));
    }
    const mtlsPort = Number(new URL(envs['MESHWARD_MTLS_URL']!).port);
    const mtls = bootstrap.staticResources!.listeners.find((l) => l.address!.address.case === 'socketAddress' && l.address!.address.value.portSpecifier.value === mtlsPort)!;
    expect(mtls.filterChains[0]!.transportSocket?.name).toBe('envoy.transport_sockets.tls');
    const cp = new URL(envs['MESHWARD_URL']!);
    expect(cp.hostname).toBe('control-plane');
    expect(listenPorts('control-plane')).toContain(Number(cp.port));
    expect(envoyJson.static_resources.listeners[1].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.rules.policies['demo-client'].principals[0].authenticated.principal_name.exact).toBe(CLIENT_IDENTITY);
  });

  it('carries the same canary split and DLP config as the resources the tour applies', async () => {
    const model = resources.find((r) => r.kind === 'Model');
    const routeAction = envoyJson.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].route;
    const split = routeAction.weighted_clusters.clusters.map((c: any) => [c.name, c.weight]);
    expect(split).toEqual(model.versions.map((v: any) => [`chat_${v.name}`, v.weight]));
    const clusterHost = (name: string) => envoyJson.static_resources.clusters.find((c: any) => c.name === name).load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
    for (const v of model.versions) expect(clusterHost(`chat_${v.name}`)).toEqual({ address: v.endpoints[0].address, port_value: v.endpoints[0].port });
    const wasmConfig = JSON.parse(envoyJson.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.config.configuration.value);
    const policy = resources.find((r) => r.kind === 'DlpPolicy');
    expect(wasmConfig).toEqual(policy.config);
    // and the real filter starts with it
    const host = await createEnvoyHost({ wasm: new Uint8Array(readFileSync(join(ROOT, 'filter/build/meshward.wasm'))), pluginConfig: JSON.stringify(wasmConfig) });
    host.shutdown();
  });
});
