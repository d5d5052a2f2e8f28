/**
 * Who may stream access logs (telemetry/als-authenticator.ts), with a fake ADS authenticator and
 * fleet: the decision table of the `fleet` and `credential` modes, and peer address matching.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Metadata } from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import { createAlsAuthenticator, peerAddress } from '../../../control-plane/src/telemetry/als-authenticator.js';
import type { AlsAuthContext } from '../../../control-plane/src/telemetry/als-server.js';
import { XdsError } from '../../../control-plane/src/xds/errors.js';
import type { FleetView, StreamStatus } from '../../../control-plane/src/xds/fleet-view.js';
import type { Authenticate } from '../../../control-plane/src/xds/stream-auth.js';

const GOOD_TOKEN = 'mwj_good';

/** Admits the join token GOOD_TOKEN and any certificate whose raw bytes are [1]. */
const authenticate: Authenticate = (ctx) => {
  const raw = ctx.peerCertificate?.raw;
  if (raw !== undefined && raw.length > 0) {
    if (raw[0] === 1) return { id: 'spiffe://t/ns/a/sa/cert', method: 'mtls' };
    throw new XdsError('UNAUTHENTICATED', 'certificate not issued by the mesh CA');
  }
  const auth = ctx.metadata.get('authorization')[0];
  const token = ctx.metadata.get('x-meshward-join-token')[0] ?? (typeof auth === 'string' ? auth.replace(/^Bearer /, '') : undefined);
  if (token === GOOD_TOKEN) return { id: 'spiffe://t/ns/a/sa/token', method: 'join-token' };
  if (token !== undefined) throw new XdsError('UNAUTHENTICATED', 'join token unknown');
  throw new XdsError('UNAUTHENTICATED', 'no credential');
};

type FakeStream = Pick<StreamStatus, 'peer' | 'identity'>;

/** A fleet with the streams open at creation; `connect` / `disconnect` emit as the xDS server does. */
function fleetOf(initial: FakeStream[]): FleetView & { connect(s: FakeStream): void; disconnect(s: FakeStream): void } {
  const emitter = new EventEmitter();
  const open = new Set(initial);
  const fleet = {
    streams: () => [...open] as StreamStatus[],
    on(event: string, listener: (...args: unknown[]) => void) {
      emitter.on(event, listener);
      return fleet;
    },
    connect(s: FakeStream) {
      open.add(s);
      emitter.emit('connect', s);
    },
    disconnect(s: FakeStream) {
      open.delete(s);
      emitter.emit('disconnect', s);
    },
  };
  return fleet as unknown as FleetView & { connect(s: FakeStream): void; disconnect(s: FakeStream): void };
}

function ctx(peer: string, init: { token?: string; header?: 'authorization' | 'x-meshward-join-token'; cert?: number } = {}): AlsAuthContext {
  const metadata = new Metadata();
  if (init.token !== undefined) {
    if (init.header === 'x-meshward-join-token') metadata.set('x-meshward-join-token', init.token);
    else metadata.set('authorization', `Bearer ${init.token}`);
  }
  return {
    metadata,
    peer,
    peerCertificate: init.cert === undefined ? undefined : ({ raw: Buffer.from([init.cert]) } as PeerCertificate),
    transportSecurityType: init.cert === undefined ? undefined : 'ssl',
  };
}

const outcome = (p: Promise<void>): Promise<string> => p.then(() => 'admitted', (e: XdsError) => `${e.code}: ${e.message}`);

describe('peerAddress', () => {
  it.each([
    ['10.1.2.3:50051', '10.1.2.3'],
    ['::1:40000', '::1'],
    ['[::1]:40000', '::1'],
    ['::ffff:10.1.2.3:40000', '10.1.2.3'],
    ['FE80::1:40000', 'fe80::1'],
    ['10.1.2.3', '10.1.2.3'],
  ])('%s → %s', (peer, address) => expect(peerAddress(peer)).toBe(address));
});

describe('ALS authenticator', () => {
  const envoyAt = fleetOf([
    { peer: '10.0.0.7:41000', identity: { id: 'spiffe://t/ns/a/sa/edge' } },
    { peer: '10.0.0.9:41000', identity: undefined },
  ]);

  it('fleet mode: admits a stream from an authenticated Envoy\'s address, or with a good credential; refuses the rest', async () => {
    const auth = createAlsAuthenticator({ mode: 'fleet', authenticate, fleet: envoyAt });
    expect(await outcome(auth(ctx('10.0.0.7:52000')))).toBe('admitted');
    expect(await outcome(auth(ctx('::ffff:10.0.0.7:52000')))).toBe('admitted');
    expect(await outcome(auth(ctx('10.0.0.8:52000')))).toMatch(/^UNAUTHENTICATED: no credential, and no Envoy at 10\.0\.0\.8 holds an authenticated ADS stream/);
    // an ADS stream that has not authenticated does not vouch for its address
    expect(await outcome(auth(ctx('10.0.0.9:52000')))).toMatch(/^UNAUTHENTICATED: no credential/);
    expect(await outcome(auth(ctx('10.0.0.8:52000', { token: GOOD_TOKEN })))).toBe('admitted');
    expect(await outcome(auth(ctx('10.0.0.8:52000', { token: GOOD_TOKEN, header: 'x-meshward-join-token' })))).toBe('admitted');
    expect(await outcome(auth(ctx('10.0.0.8:52000', { cert: 1 })))).toBe('admitted');
    // a credential that fails is refused even from a vouched-for address
    expect(await outcome(auth(ctx('10.0.0.7:52000', { token: 'mwj_bad' })))).toBe('UNAUTHENTICATED: join token unknown');
    expect(await outcome(auth(ctx('10.0.0.7:52000', { cert: 2 })))).toBe('UNAUTHENTICATED: certificate not issued by the mesh CA');
  });

  it('fleet mode follows ADS streams connecting and disconnecting (two streams from one address count twice)', async () => {
    const fleet = fleetOf([]);
    const auth = createAlsAuthenticator({ mode: 'fleet', authenticate, fleet });
    expect(await outcome(auth(ctx('10.0.0.5:52000')))).toMatch(/^UNAUTHENTICATED/);
    const a = { peer: '10.0.0.5:41000', identity: { id: 'spiffe://t/ns/a/sa/one' } };
    const b = { peer: '10.0.0.5:41001', identity: { id: 'spiffe://t/ns/a/sa/two' } };
    const anonymous = { peer: '10.0.0.6:41000', identity: undefined };
    fleet.connect(a);
    fleet.connect(b);
    fleet.connect(anonymous);
    expect(await outcome(auth(ctx('10.0.0.5:52000')))).toBe('admitted');
    expect(await outcome(auth(ctx('10.0.0.6:52000')))).toMatch(/^UNAUTHENTICATED/);
    fleet.disconnect(a);
    expect(await outcome(auth(ctx('10.0.0.5:52000')))).toBe('admitted');
    fleet.disconnect(b);
    expect(await outcome(auth(ctx('10.0.0.5:52000')))).toMatch(/^UNAUTHENTICATED: no credential, and no Envoy at 10\.0\.0\.5/);
  });

  it('credential mode: only a good credential admits, whatever the address', async () => {
    const auth = createAlsAuthenticator({ mode: 'credential', authenticate, fleet: envoyAt });
    expect(await outcome(auth(ctx('10.0.0.7:52000')))).toBe('UNAUTHENTICATED: no credential');
    expect(await outcome(auth(ctx('10.0.0.8:52000', { token: GOOD_TOKEN })))).toBe('admitted');
    expect(await outcome(auth(ctx('10.0.0.8:52000', { cert: 1 })))).toBe('admitted');
  });
});
