/**
 * Who may stream access logs to the control plane when the ALS service shares the xDS port.
 *
 * The listeners translate/ generates send their access logs without any credential of their own
 * (the ALS `grpc_service` is the same for every Envoy of a group, so it cannot carry a per-Envoy
 * join token); what an ALS stream can present is its transport — a client certificate when the
 * `meshward_als` cluster uses TLS — or metadata a bootstrap adds. Modes:
 * - `credential`: the ADS authenticator must admit the stream (mesh client certificate verified
 *   against the current bundle and revocations, or a join token in its metadata).
 * - `fleet`: as `credential` when the stream presents a credential (a bad one is refused, never
 *   waved through); without one, its source address must be that of an Envoy holding an
 *   authenticated ADS stream at that moment. This keeps strangers on other hosts out while the
 *   shipped bootstraps work unchanged; another process on an Envoy's own host is not kept out.
 *
 * The addresses of authenticated ADS streams are indexed from the fleet's connect/disconnect
 * events (seeded from the streams open at creation), so admitting a stream costs one map lookup
 * however large the fleet; the listeners live as long as the fleet. Streams already admitted stay
 * admitted when their Envoy's ADS stream ends.
 */
import { isIP } from 'node:net';
import { JOIN_TOKEN_METADATA_KEY } from '../ca/stream-authenticator.js';
import { XdsError } from '../xds/errors.js';
import type { FleetView, StreamStatus } from '../xds/fleet-view.js';
import type { Authenticate } from '../xds/stream-auth.js';
import type { AlsAuthContext } from './als-server.js';

export interface AlsAuthenticatorOptions {
  readonly mode: 'fleet' | 'credential';
  /** The ADS stream authenticator (ca/stream-authenticator.ts). */
  readonly authenticate: Authenticate;
  /** The xDS server's fleet: authenticated ADS streams and their peers (`fleet` mode). */
  readonly fleet: FleetView;
}

/**
 * grpc-js peer strings (`1.2.3.4:5`, `::1:5` — IPv6 without brackets —, `[::1]:5`) → the address, with IPv4-mapped IPv6 unwrapped, for comparing the peers of two streams.
 */
export function peerAddress(peer: string): string {
  let host = peer;
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(peer);
  if (bracket !== null) host = bracket[1]!;
  else {
    // grpc-js appends the port whenever the socket has one, so a trailing `:<digits>` after a valid address is the port.
    const i = peer.lastIndexOf(':');
    if (i > 0 && /^\d+$/.test(peer.slice(i + 1)) && isIP(peer.slice(0, i)) !== 0) host = peer.slice(0, i);
  }
  return host.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '').toLowerCase();
}

function presentsCredential(ctx: AlsAuthContext): boolean {
  return (
    (ctx.peerCertificate?.raw !== undefined && ctx.peerCertificate.raw.length > 0) ||
    ctx.metadata.get('authorization').length > 0 ||
    ctx.metadata.get(JOIN_TOKEN_METADATA_KEY).length > 0
  );
}

/** The `authenticate` hook of the ALS server. Throws an XdsError (UNAUTHENTICATED / PERMISSION_DENIED) to refuse. */
export function createAlsAuthenticator(options: AlsAuthenticatorOptions): (ctx: AlsAuthContext) => Promise<void> {
  /** Address → authenticated ADS streams from it. */
  const vouched = new Map<string, number>();
  if (options.mode === 'fleet') {
    const add = (s: StreamStatus, delta: 1 | -1): void => {
      if (s.identity === undefined) return;
      const address = peerAddress(s.peer);
      const n = (vouched.get(address) ?? 0) + delta;
      if (n > 0) vouched.set(address, n);
      else vouched.delete(address);
    };
    options.fleet.on('connect', (s) => add(s, 1));
    options.fleet.on('disconnect', (s) => add(s, -1));
    for (const s of options.fleet.streams()) add(s, 1);
  }
  return async (ctx) => {
    if (options.mode === 'credential' || presentsCredential(ctx)) {
      await options.authenticate({ ...ctx, protocol: 'sotw' });
      return;
    }
    const address = peerAddress(ctx.peer);
    if (vouched.has(address)) return;
    throw new XdsError(
      'UNAUTHENTICATED',
      `no credential, and no Envoy at ${address} holds an authenticated ADS stream (present a mesh client certificate or a join token, or open the ADS stream first)`,
    );
  };
}
