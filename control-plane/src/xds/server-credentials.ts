import { ServerCredentials, experimental } from '@grpc/grpc-js';
import type { TlsServerOptions } from '../h2/index.js';
import { XdsError } from './errors.js';

/**
 * SEAM (3): credentials of the xDS listening socket.
 *  - `{ mode: 'insecure' }`: plaintext HTTP/2 (tests, or behind a mesh-external TLS terminator).
 *  - `{ mode: 'tls', … }`: TLS with the control plane's serving certificate. `clientCertificates`:
 *    `'none'` (default) never asks for one; `'optional'` asks and, when the client presents one that
 *    verifies against `clientCa`, hands it to `authenticate` (join-token streams still work);
 *    `'required'` refuses the handshake without a valid client certificate (mTLS only).
 * PEM strings or Buffers. The returned `update()` rotates the serving certificate/key and client CA
 * for new connections without restarting the server (the CA helper calls it on rotation).
 */
export type XdsServerCredentialsOptions =
  | { readonly mode: 'insecure' }
  | {
      readonly mode: 'tls';
      /** Serving certificate chain (leaf first), PEM. */
      readonly certificateChain: string | Buffer;
      readonly privateKey: string | Buffer;
      /** Trust bundle for client certificates, PEM. Required unless clientCertificates is 'none'. */
      readonly clientCa?: string | Buffer;
      /** Defaults to 'none'. */
      readonly clientCertificates?: 'none' | 'optional' | 'required';
    };

export interface XdsServerCredentials {
  readonly mode: 'insecure' | 'tls';
  /** The same credentials for a grpc-js server (transport 'grpc-js', addTo()). */
  readonly credentials: ServerCredentials;
  /** The current TLS material for the h2 transport; undefined in insecure mode. */
  tlsOptions(): TlsServerOptions | undefined;
  /** Calls `listener` with the new material after every update(); returns the unsubscribe function. */
  onUpdate(listener: (tls: TlsServerOptions) => void): () => void;
  /** Replaces the serving certificate/key (and client CA) for new TLS connections. TLS mode only. */
  update(material: { certificateChain: string | Buffer; privateKey: string | Buffer; clientCa?: string | Buffer }): void;
}

const BRAND = Symbol('meshward.xdsServerCredentials');

/** True for objects made by {@link createXdsServerCredentials} (as opposed to a bare grpc-js ServerCredentials). */
export function isXdsServerCredentials(value: unknown): value is XdsServerCredentials {
  return typeof value === 'object' && value !== null && (value as { [BRAND]?: boolean })[BRAND] === true;
}

const buf = (v: string | Buffer): Buffer => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v);

/** A CertificateProvider (grpc-js) holding in-memory PEM that can be replaced at any time. */
class MemoryCertificateProvider implements experimental.CertificateProvider {
  private identity: experimental.IdentityCertificateUpdate | null;
  private ca: experimental.CaCertificateUpdate | null;
  private readonly identityListeners = new Set<experimental.IdentityCertificateUpdateListener>();
  private readonly caListeners = new Set<experimental.CaCertificateUpdateListener>();

  constructor(identity: experimental.IdentityCertificateUpdate, ca: experimental.CaCertificateUpdate | null) {
    this.identity = identity;
    this.ca = ca;
  }
  set(identity: experimental.IdentityCertificateUpdate, ca: experimental.CaCertificateUpdate | null): void {
    this.identity = identity;
    this.ca = ca;
    for (const l of this.identityListeners) l(identity);
    for (const l of this.caListeners) l(ca);
  }
  // Initial values are delivered asynchronously: grpc-js registers its secure-context watcher only
  // after adding these listeners, so a synchronous first update would be lost and every TLS
  // connection dropped as "unloaded credentials".
  addCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    this.caListeners.add(listener);
    queueMicrotask(() => {
      if (this.caListeners.has(listener)) listener(this.ca);
    });
  }
  removeCaCertificateListener(listener: experimental.CaCertificateUpdateListener): void {
    this.caListeners.delete(listener);
  }
  addIdentityCertificateListener(listener: experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.add(listener);
    queueMicrotask(() => {
      if (this.identityListeners.has(listener)) listener(this.identity);
    });
  }
  removeIdentityCertificateListener(listener: experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.delete(listener);
  }
}

export function createXdsServerCredentials(options: XdsServerCredentialsOptions): XdsServerCredentials {
  if (options.mode === 'insecure') {
    return {
      [BRAND]: true,
      mode: 'insecure',
      credentials: ServerCredentials.createInsecure(),
      tlsOptions: () => undefined,
      onUpdate: () => () => {},
      update() {
        throw new XdsError('INVALID_ARGUMENT', 'update: insecure credentials hold no certificate');
      },
    } as XdsServerCredentials;
  }
  if (options.mode !== 'tls') {
    throw new XdsError('INVALID_ARGUMENT', `mode: must be 'insecure' or 'tls', got ${JSON.stringify((options as { mode: unknown }).mode)}`);
  }
  const clientCerts = options.clientCertificates ?? 'none';
  if (!['none', 'optional', 'required'].includes(clientCerts)) {
    throw new XdsError('INVALID_ARGUMENT', `clientCertificates: must be 'none', 'optional' or 'required', got ${JSON.stringify(clientCerts)}`);
  }
  if (clientCerts !== 'none' && options.clientCa === undefined) {
    throw new XdsError('INVALID_ARGUMENT', `clientCa: required when clientCertificates is '${clientCerts}'`);
  }
  const ca = (v: string | Buffer | undefined): experimental.CaCertificateUpdate | null =>
    clientCerts === 'none' || v === undefined ? null : { caCertificate: buf(v) };
  const provider = new MemoryCertificateProvider(
    { certificate: buf(options.certificateChain), privateKey: buf(options.privateKey) },
    ca(options.clientCa),
  );
  // grpc-js: the first argument is used as the identity provider and the second as the CA provider
  // (requestCert is on when the CA provider is non-null); one provider serves both roles here.
  const credentials = experimental.createCertificateProviderServerCredentials(
    provider,
    clientCerts === 'none' ? null : provider,
    clientCerts === 'required',
  );
  const tlsOf = (material: { certificateChain: string | Buffer; privateKey: string | Buffer; clientCa?: string | Buffer | undefined }): TlsServerOptions => {
    const clientCa = material.clientCa ?? options.clientCa;
    return {
      cert: buf(material.certificateChain),
      key: buf(material.privateKey),
      clientCertificates: clientCerts,
      ...(clientCerts === 'none' || clientCa === undefined ? {} : { ca: buf(clientCa) }),
    };
  };
  let current = tlsOf(options);
  const listeners = new Set<(tls: TlsServerOptions) => void>();
  return {
    [BRAND]: true,
    mode: 'tls',
    credentials,
    tlsOptions: () => current,
    onUpdate(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    update(material) {
      provider.set(
        { certificate: buf(material.certificateChain), privateKey: buf(material.privateKey) },
        ca(material.clientCa ?? options.clientCa),
      );
      current = tlsOf(material);
      for (const l of listeners) l(current);
    },
  } as XdsServerCredentials;
}
