/**
 * Sends alert events as RFC 5424 syslog messages (CEF or JSON, syslog-format.ts) over TCP or TLS
 * (RFC 5425), framed by octet counting (RFC 6587) or, for receivers that want it, a trailing LF.
 *
 * One connection, opened on the first event and reused; a write error or a close drops it and the
 * next attempt reconnects (the dispatcher retries with backoff). A send resolves when the bytes
 * are handed to the kernel — syslog has no application-level acknowledgement.
 */
import { hostname as osHostname } from 'node:os';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { AlertSink } from './alert-sink.js';
import { octetCountingFrame, syslogMessage, type SyslogFormat } from './syslog-format.js';

export interface SyslogSinkOptions {
  readonly host: string;
  readonly port: number;
  readonly transport: 'tcp' | 'tls';
  readonly format: SyslogFormat;
  readonly name?: string;
  /** TLS: PEM of the CA(s) that issued the receiver's certificate. Defaults to the system roots. */
  readonly ca?: string | Buffer;
  /** TLS: the name to verify (defaults to `host`). */
  readonly servername?: string;
  /** TLS: client certificate for mutual TLS. */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** Defaults to `octet-counting`. */
  readonly framing?: 'octet-counting' | 'lf';
  readonly facility?: number;
  readonly hostname?: string;
  readonly appName?: string;
  /** Connect timeout. Defaults to 5000 ms. */
  readonly timeoutMs?: number;
}

export function createSyslogSink(options: SyslogSinkOptions): AlertSink {
  if (!Number.isInteger(options.port) || options.port < 1 || options.port > 65535) throw new RangeError(`port: must be 1..65535, got ${options.port}`);
  if (options.facility !== undefined && (!Number.isInteger(options.facility) || options.facility < 0 || options.facility > 23)) {
    throw new RangeError(`facility: must be 0..23, got ${options.facility}`);
  }
  const timeoutMs = options.timeoutMs ?? 5000;
  const host = options.hostname ?? osHostname();
  let socket: Promise<net.Socket> | undefined;

  const connect = (): Promise<net.Socket> =>
    new Promise((resolve, reject) => {
      const s =
        options.transport === 'tls'
          ? tls.connect({
              host: options.host,
              port: options.port,
              servername: options.servername ?? options.host,
              ...(options.ca === undefined ? {} : { ca: options.ca }),
              ...(options.cert === undefined ? {} : { cert: options.cert }),
              ...(options.key === undefined ? {} : { key: options.key }),
              minVersion: 'TLSv1.2',
            })
          : net.connect({ host: options.host, port: options.port });
      const timer = setTimeout(() => {
        s.destroy(new Error(`connect to ${options.host}:${options.port} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        socket = undefined;
        reject(err);
      };
      s.once('error', fail);
      s.once(options.transport === 'tls' ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        s.off('error', fail);
        s.setKeepAlive(true, 30_000);
        s.on('error', () => {
          socket = undefined;
        });
        s.on('close', () => {
          socket = undefined;
        });
        // Receivers do not talk back; read and discard whatever they send.
        s.resume();
        resolve(s);
      });
    });

  return {
    name: options.name ?? `syslog-${options.transport}`,
    async send(event) {
      socket ??= connect();
      const s = await socket;
      const message = syslogMessage(event, { format: options.format, hostname: host, ...(options.facility === undefined ? {} : { facility: options.facility }), ...(options.appName === undefined ? {} : { appName: options.appName }) });
      const frame = options.framing === 'lf' ? Buffer.from(`${message}\n`, 'utf8') : octetCountingFrame(message);
      await new Promise<void>((resolve, reject) => {
        s.write(frame, (err?: Error | null) => {
          if (err) {
            socket = undefined;
            s.destroy();
            reject(err);
          } else resolve();
        });
      });
    },
    async close() {
      const s = socket;
      socket = undefined;
      if (s !== undefined) {
        const sock = await s.catch(() => undefined);
        sock?.end();
        sock?.destroy();
      }
    },
  };
}
