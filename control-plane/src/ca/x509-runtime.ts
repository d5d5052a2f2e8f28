/**
 * The one entry point to @peculiar/x509 inside the control plane.
 *
 * @peculiar/x509 resolves its algorithm providers through tsyringe, which needs the
 * `reflect-metadata` polyfill loaded before the library; and it must use Node's WebCrypto rather
 * than a global that may be missing. Every module of ca/ imports x509 from here so both happen
 * exactly once, before first use.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// Node's webcrypto is structurally the DOM Crypto the library is typed against (no DOM lib here).
x509.cryptoProvider.set(webcrypto as never);

export { x509 };
/** Node's WebCrypto. */
export const nodeWebCrypto = webcrypto;
