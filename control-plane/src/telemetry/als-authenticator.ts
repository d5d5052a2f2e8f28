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
 * Pure apart from reading the fleet view at stream start; streams already admitted stay admitted.
 */
import { isIP } from 'node:net';
import { JOIN_TOKEN_METADATA_KEY } from '../ca/stream-authenticator.js';
import { XdsError } from '../xds/errors.js';
import type { FleetView } from '../xds/fleet-view.js';
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
  return async (ctx) => {
    if (options.mode === 'credential' || presentsCredential(ctx)) {
      await options.authenticate({ ...ctx, protocol: 'sotw' });
      return;
    }
    const address = peerAddress(ctx.peer);
    for (const s of options.fleet.streams()) {
      if (s.identity !== undefined && peerAddress(s.peer) === address) return;
    }
    throw new XdsError(
      'UNAUTHENTICATED',
      `no credential, and no Envoy at ${address} holds an authenticated ADS stream (present a mesh client certificate or a join token, or open the ADS stream first)`,
    );
  };
}
