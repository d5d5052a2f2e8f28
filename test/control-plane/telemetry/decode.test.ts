/**
 * Access log entries → AccessRecords: the reference mapping from the generated Envoy types
 * (decode-entry.ts) on a table of entries, and the wire-format fast path (fast-decode.ts) giving
 * the same records for the same bytes, including unknown fields and malformed input.
 */
import { describe, expect, it } from 'vitest';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { anyPack, StringValueSchema } from '@bufbuild/protobuf/wkt';
import { StreamAccessLogsMessageSchema } from '../../../control-plane/src/gen/envoy/service/accesslog/v3/als_pb.js';
import { HTTPAccessLogEntrySchema, TCPAccessLogEntrySchema, TLSProperties_CertificatePropertiesSchema } from '../../../control-plane/src/gen/envoy/data/accesslog/v3/accesslog_pb.js';
import { AddressSchema } from '../../../control-plane/src/gen/envoy/config/core/v3/address_pb.js';
import { MetadataSchema } from '../../../control-plane/src/gen/envoy/config/core/v3/base_pb.js';
import { parseModelCluster, parseSummary, recordFromHttpEntry, recordFromTcpEntry } from '../../../control-plane/src/telemetry/decode-entry.js';
import { decodeAccessLogsMessage, WireFormatError } from '../../../control-plane/src/telemetry/fast-decode.js';
import { encodeBatch, encodeTcpBatch, httpEntry, tlsFailureEntry, type EntryInit } from './envoy-als-client.js';

const TD = 'spiffe://meshward.local';
const cases: [string, EntryInit, Record<string, unknown>][] = [
  ['a served call', { identity: `${TD}/ns/a/sa/app`, model: 'chat', version: 'v2', code: 200, latencyMs: 123.5, requestBytes: 700, responseBytes: 9000, startMs: 1_700_000_000_123 },
    { identity: `${TD}/ns/a/sa/app`, model: 'chat', version: 'v2', upstreamCluster: 'model|chat|v2', responseCode: 200, latencyMs: 123.5, requestBytes: 700, responseBytes: 9000, startMs: 1_700_000_000_123, method: 'POST', route: 'model-chat', denied: undefined, rateLimited: false }],
  ['an RBAC denial (no upstream: model and version from the headers)', { identity: `${TD}/ns/a/sa/x`, model: 'chat', version: 'v1', code: 403, details: 'rbac_access_denied_matched_policy[none]' },
    { denied: 'rbac', model: 'chat', version: 'v1', upstreamCluster: '', responseCode: 403 }],
  ['a caller without a certificate', { model: 'chat', code: 200 }, { identity: 'anonymous', version: '' }],
  ['a rate-limited call', { identity: `${TD}/ns/a/sa/app`, model: 'chat', code: 429, details: 'local_rate_limited', rateLimited: true }, { rateLimited: true, denied: undefined }],
  ['a dry-run denial', { identity: `${TD}/ns/a/sa/app`, model: 'chat', version: 'v1', shadowDenied: true }, { shadowDenied: true, denied: undefined }],
  ['a redaction with both directions', { identity: `${TD}/ns/a/sa/app`, model: 'chat', version: 'v1', summary: '{"outcome":"redact","request":{"outcome":"redact","findings":{"email":2}},"response":{"outcome":"alert","findings":{"email":1,"phone":3}}}' },
    { dlp: { outcome: 'redact', findings: { email: 3, phone: 3 } } }],
  ['a block with token counts', { identity: `${TD}/ns/a/sa/app`, model: 'chat', version: 'v1', code: 403, summary: '{"outcome":"block","request":{"outcome":"block","findings":{"aws_access_key":1}},"response":null,"tokens":{"input":120,"output":0}}' },
    { dlp: { outcome: 'block', findings: { aws_access_key: 1 } }, tokens: { input: 120, output: 0 }, denied: undefined }],
  ['a summary that is not one', { identity: `${TD}/ns/a/sa/app`, summary: 'not json' }, { dlp: undefined }],
  ['a 5xx', { identity: `${TD}/ns/a/sa/app`, model: 'chat', version: 'v1', code: 503, details: 'upstream_reset_before_response_started{connection_failure}' }, { responseCode: 503 }],
];

describe('decode-entry (reference)', () => {
  it.each(cases)('%s', (_, init, expected) => {
    const counters = { badSummaries: 0 };
    const rec = recordFromHttpEntry(httpEntry(init), 'node-1', counters);
    expect(rec).toMatchObject({ nodeId: 'node-1', kind: 'http', ...expected });
  });

  it('parses cluster names and summaries strictly', () => {
    expect(parseModelCluster('model|chat|v1')).toEqual(['chat', 'v1']);
    expect(parseModelCluster('model||v1')).toBeUndefined();
    expect(parseModelCluster('inbound|8000|app')).toBeUndefined();
    expect(parseSummary('{"outcome":"maybe"}')).toBeUndefined();
    expect(parseSummary('[1]')).toBeUndefined();
    expect(parseSummary('{"outcome":"allow","request":{"outcome":"allow","findings":{"email":-1,"x":"2"}}}')!.dlp.findings).toEqual({});
  });

  it('reads a StringValue-packed summary too', () => {
    const e = httpEntry({ identity: 'spiffe://t/ns/a/sa/b' });
    e.commonProperties!.filterStateObjects['wasm.meshward.summary'] = anyPack(StringValueSchema, create(StringValueSchema, { value: '{"outcome":"alert","request":{"outcome":"alert","findings":{"email":1}},"response":null}' }));
    expect(recordFromHttpEntry(e, '').dlp).toEqual({ outcome: 'alert', findings: { email: 1 } });
  });

  it('maps a TLS handshake failure to an mTLS denial and ignores other TCP entries', () => {
    expect(recordFromTcpEntry(tlsFailureEntry(), 'n')).toMatchObject({ kind: 'tcp', denied: 'mtls', identity: 'anonymous' });
    const ok = tlsFailureEntry('');
    expect(recordFromTcpEntry(ok, 'n')).toBeUndefined();
  });
});

describe('fast-decode (wire format) equals the reference', () => {
  it('for every case of the table, in one batch with the identifier', () => {
    const entries = cases.map(([, init]) => httpEntry(init));
    const bytes = encodeBatch(entries, 'edge-7');
    const stream = { nodeId: '', logName: '' };
    const fast = decodeAccessLogsMessage(bytes, stream, { badSummaries: 0 });
    expect(stream).toEqual({ nodeId: 'edge-7', logName: 'meshward' });
    const msg = fromBinary(StreamAccessLogsMessageSchema, bytes);
    const reference = msg.logEntries.case === 'httpLogs' ? msg.logEntries.value.logEntry.map((e) => recordFromHttpEntry(e, 'edge-7')) : [];
    expect(fast).toEqual(reference);
  });

  it('for a batch from the listener-level tcp_grpc log: refused handshakes are mTLS denials, closed connections are dropped', () => {
    // What Envoy's listener access log sends for one connection each: a refused handshake (no
    // client certificate), one whose peer certificate is outside the trust domain, and a normal
    // connection that carried HTTP traffic and closed without a transport failure.
    const remote = { address: { case: 'socketAddress' as const, value: { address: '10.0.0.9', portSpecifier: { case: 'portValue' as const, value: 40123 } } } };
    const noCert = create(TCPAccessLogEntrySchema, {
      commonProperties: { downstreamRemoteAddress: remote, downstreamTransportFailureReason: 'TLS_error:|268435646:SSL routines:OPENSSL_internal:PEER_DID_NOT_RETURN_A_CERTIFICATE:TLS_error_end' },
      connectionProperties: { receivedBytes: 517n, sentBytes: 7n },
    });
    const foreign = create(TCPAccessLogEntrySchema, {
      commonProperties: {
        downstreamRemoteAddress: remote,
        downstreamTransportFailureReason: 'TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:TLS_error_end',
        tlsProperties: { peerCertificateProperties: { subjectAltName: [{ san: { case: 'uri', value: 'spiffe://other.example/ns/x/sa/y' } }] } },
      },
    });
    const closed = create(TCPAccessLogEntrySchema, {
      commonProperties: { downstreamRemoteAddress: remote, tlsProperties: { peerCertificateProperties: { subjectAltName: [{ san: { case: 'uri', value: 'spiffe://t/ns/a/sa/b' } }] } } },
      connectionProperties: { receivedBytes: 4096n, sentBytes: 8192n },
    });
    const bytes = encodeTcpBatch([noCert, foreign, closed], 'edge-1');
    const fast = decodeAccessLogsMessage(bytes, { nodeId: '', logName: '' }, { badSummaries: 0 });
    expect(fast).toEqual([recordFromTcpEntry(noCert, 'edge-1'), recordFromTcpEntry(foreign, 'edge-1')]);
    expect(fast.map((r) => [r.kind, r.denied, r.identity, r.requestBytes])).toEqual([
      ['tcp', 'mtls', 'anonymous', 517],
      ['tcp', 'mtls', 'spiffe://other.example/ns/x/sa/y', 0],
    ]);
    expect(recordFromTcpEntry(closed, 'edge-1')).toBeUndefined();
  });

  it('for TCP entries', () => {
    const bytes = encodeTcpBatch([tlsFailureEntry(), tlsFailureEntry('')], 'edge-1');
    const fast = decodeAccessLogsMessage(bytes, { nodeId: '', logName: '' }, { badSummaries: 0 });
    expect(fast).toEqual([recordFromTcpEntry(tlsFailureEntry(), 'edge-1')]);
  });

  it('skips unknown fields (a newer Envoy) and counts bad summaries', () => {
    const e = httpEntry({ identity: 'spiffe://t/ns/a/sa/b', model: 'm', version: 'v', summary: '{"outcome":' });
    const known = toBinary(HTTPAccessLogEntrySchema, e);
    // field 99 (varint) and field 100 (length-delimited) appended to the entry
    const extra = Buffer.concat([Buffer.from(known), Buffer.from([0x98, 0x06, 0x2a, 0xa2, 0x06, 0x03, 0x61, 0x62, 0x63])]);
    const batch = Buffer.concat([Buffer.from([0x12, extra.length + 2 + (extra.length >= 128 ? 1 : 0)]), Buffer.from([0x0a]), varint(extra.length), extra]);
    const msg = Buffer.concat([Buffer.from([0x12]), varint(batch.length - 2 + 0), batch.subarray(2)]);
    const counters = { badSummaries: 0 };
    const recs = decodeAccessLogsMessage(msg, { nodeId: '', logName: '' }, counters);
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ identity: 'spiffe://t/ns/a/sa/b', model: 'm', version: 'v', dlp: undefined });
    expect(counters.badSummaries).toBe(1);
  });

  it('skips the fields it does not read, of every wire type, as Envoy fills them', () => {
    const e = httpEntry({ identity: `${TD}/ns/a/sa/full`, model: 'chat', version: 'v1', summary: '{"outcome":"alert","request":{"outcome":"alert","findings":{"email":1}},"response":null}' });
    const c = e.commonProperties!;
    c.sampleRate = 0.5; // double: fixed64
    c.downstreamRemoteAddress = create(AddressSchema, { address: { case: 'socketAddress', value: { address: '10.1.2.3', portSpecifier: { case: 'portValue', value: 51234 } } } });
    c.upstreamRemoteAddress = create(AddressSchema, { address: { case: 'socketAddress', value: { address: '10.0.0.1', portSpecifier: { case: 'portValue', value: 8000 } } } });
    c.upstreamRequestAttemptCount = 2;
    c.customTags = { team: 'a' };
    c.streamId = 'abc';
    c.downstreamWireBytesSent = 12345678901n;
    c.accessLogType = 5;
    c.tlsProperties!.tlsVersion = 4;
    c.tlsProperties!.tlsSniHostname = 'gw.example';
    c.tlsProperties!.localCertificateProperties = create(TLSProperties_CertificatePropertiesSchema, { subjectAltName: [{ san: { case: 'uri', value: 'spiffe://meshward.local/ns/gw/sa/edge' } }], subject: 'CN=edge' });
    c.tlsProperties!.peerCertificateProperties!.subject = 'CN=caller';
    c.metadata = create(MetadataSchema, { filterMetadata: { 'envoy.lb': { canary: true, weight: 3 }, 'envoy.filters.http.rbac': { shadow_effective_policy_id: 'p', shadow_engine_result: 'allowed' } } });
    e.request!.authority = 'gw.example';
    e.request!.userAgent = 'openai-python/1.0';
    e.request!.requestId = 'rid';
    e.request!.requestHeaders['x-other'] = 'y';
    e.response!.responseHeaders = { 'content-type': 'application/json' };
    e.response!.responseTrailers = { 'grpc-status': '0' };
    e.protocolVersion = 3;
    const bytes = encodeBatch([e], 'full');
    const msg = fromBinary(StreamAccessLogsMessageSchema, bytes);
    const reference = msg.logEntries.case === 'httpLogs' ? msg.logEntries.value.logEntry.map((x) => recordFromHttpEntry(x, 'full')) : [];
    const fast = decodeAccessLogsMessage(bytes, { nodeId: '', logName: '' }, { badSummaries: 0 });
    expect(fast).toEqual(reference);
    expect(fast[0]).toMatchObject({ identity: `${TD}/ns/a/sa/full`, shadowDenied: false, dlp: { outcome: 'alert' } });
  });

  it('throws WireFormatError on truncated or invalid input, never reads out of bounds', () => {
    const good = encodeBatch([httpEntry({ identity: 'spiffe://t/ns/a/sa/b' })], 'n');
    for (const cut of [1, 5, 18, 20, good.length - 1]) {
      expect(() => decodeAccessLogsMessage(good.subarray(0, cut), { nodeId: '', logName: '' }, { badSummaries: 0 })).toThrow(WireFormatError);
    }
    expect(() => decodeAccessLogsMessage(Buffer.from([0x0f]), { nodeId: '', logName: '' }, { badSummaries: 0 })).toThrow(/wire type 7/);
    expect(() => decodeAccessLogsMessage(Buffer.from([0x12, 0xff, 0xff, 0xff, 0x0f]), { nodeId: '', logName: '' }, { badSummaries: 0 })).toThrow(/past the end/);
    expect(() => decodeAccessLogsMessage(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), { nodeId: '', logName: '' }, { badSummaries: 0 })).toThrow(/varint/);
  });

  it('agrees with the reference on 500 random entries', () => {
    let seed = 42;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const entries = Array.from({ length: 500 }, () =>
      httpEntry({
        ...(rnd() < 0.8 ? { identity: `${TD}/ns/n${Math.floor(rnd() * 5)}/sa/s` } : {}),
        ...(rnd() < 0.9 ? { model: pick(['a', 'b', 'c']) } : {}),
        ...(rnd() < 0.8 ? { version: pick(['v1', 'v2']) } : {}),
        code: pick([200, 200, 200, 403, 429, 500, 503]),
        ...(rnd() < 0.1 ? { details: 'rbac_access_denied_matched_policy[none]' } : {}),
        latencyMs: Math.floor(rnd() * 100_000) / 10,
        requestBytes: Math.floor(rnd() * 1e6),
        responseBytes: Math.floor(rnd() * 1e7),
        rateLimited: rnd() < 0.1,
        shadowDenied: rnd() < 0.1,
        ...(rnd() < 0.5 ? { summary: pick(['{"outcome":"allow","request":null,"response":null}', '{"outcome":"block","request":{"outcome":"block","findings":{"email":1}},"response":null}', 'x']) } : {}),
        startMs: 1_600_000_000_000 + Math.floor(rnd() * 1e9),
      }),
    );
    const bytes = encodeBatch(entries, 'r');
    const msg = fromBinary(StreamAccessLogsMessageSchema, bytes);
    const reference = msg.logEntries.case === 'httpLogs' ? msg.logEntries.value.logEntry.map((e) => recordFromHttpEntry(e, 'r')) : [];
    expect(decodeAccessLogsMessage(bytes, { nodeId: '', logName: '' }, { badSummaries: 0 })).toEqual(reference);
  });
});

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}
