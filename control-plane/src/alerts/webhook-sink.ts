/**
 * POSTs each alert event as JSON to a URL, signed with HMAC-SHA256.
 *
 * Headers:
 * - `x-meshward-timestamp`: Unix seconds of the attempt;
 * - `x-meshward-signature`: `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` — receivers
 *   recompute it over the raw body and reject old timestamps (replay);
 * - `x-meshward-event`: `fired` | `resolved`; `idempotency-key`: `alert-<id>-<event>` (the same on
 *   every retry, so a receiver can de-duplicate).
 * A 2xx is success. 408, 425, 429 and 5xx, timeouts and network errors are retried by the
 * dispatcher; any other status is a permanent failure (the receiver refuses the event).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { eventDocument, PermanentSinkError, type AlertSink } from './alert-sink.js';

export const SIGNATURE_HEADER = 'x-meshward-signature';
export const TIMESTAMP_HEADER = 'x-meshward-timestamp';

export interface WebhookSinkOptions {
  readonly url: string;
  /** HMAC key; at least 16 bytes. */
  readonly secret: string;
  readonly name?: string;
  /** Per attempt. Defaults to 5000 ms. */
  readonly timeoutMs?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Unix seconds; injectable for tests. */
  readonly now?: () => number;
}

export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Receiver side: checks the signature (constant time) and the timestamp's age. */
export function verifyWebhook(secret: string, headers: { signature: string | undefined; timestamp: string | undefined }, body: string, options: { nowSeconds?: number; toleranceSeconds?: number } = {}): boolean {
  if (headers.signature === undefined || headers.timestamp === undefined || !/^\d+$/.test(headers.timestamp)) return false;
  const age = Math.abs((options.nowSeconds ?? Math.floor(Date.now() / 1000)) - Number(headers.timestamp));
  if (age > (options.toleranceSeconds ?? 300)) return false;
  const want = Buffer.from(signWebhook(secret, headers.timestamp, body));
  const got = Buffer.from(headers.signature);
  return want.length === got.length && timingSafeEqual(want, got);
}

export function createWebhookSink(options: WebhookSinkOptions): AlertSink {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new RangeError(`url: not a URL: ${options.url}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RangeError(`url: must be http(s), got ${url.protocol}`);
  if (Buffer.byteLength(options.secret) < 16) throw new RangeError('secret: must be at least 16 bytes');
  const timeoutMs = options.timeoutMs ?? 5000;
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  return {
    name: options.name ?? 'webhook',
    async send(event) {
      const body = JSON.stringify(eventDocument(event));
      const timestamp = String(now());
      const res = await fetch(url, {
        method: 'POST',
        body,
        signal: AbortSignal.timeout(timeoutMs),
        headers: {
          ...options.headers,
          'content-type': 'application/json',
          [TIMESTAMP_HEADER]: timestamp,
          [SIGNATURE_HEADER]: signWebhook(options.secret, timestamp, body),
          'x-meshward-event': event.type,
          'idempotency-key': `alert-${event.alert.id}-${event.type}`,
        },
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return;
      const retriable = res.status === 408 || res.status === 425 || res.status === 429 || res.status >= 500;
      const msg = `${url.origin}${url.pathname} answered ${res.status}`;
      throw retriable ? new Error(msg) : new PermanentSinkError(msg);
    },
  };
}
