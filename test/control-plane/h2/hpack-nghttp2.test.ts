/**
 * Interoperability of our HPACK with nghttp2 (Node's node:http2) in both directions, over real TCP
 * connections on 127.0.0.1:
 * - our encoder → nghttp2's decoder: a raw TCP client sends HEADERS blocks from encodeHeaderBlock() to a
 *   node:http2 server, which must see exactly those header lists (and its responses, encoded by nghttp2,
 *   are decoded with our decoder);
 * - nghttp2's encoder → our decoder: a raw TCP "server" reads what a node:http2 client sends (Huffman,
 *   dynamic table across requests, never-indexed fields, table size changes) and decodes every block
 *   with one decoder, in wire order.
 * Frames are parsed minimally here (RFC 9113 §4.1); the real framing lives in the h2 server.
 */
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMulberry32 } from '../../../scripts/seeded-random.js';
import { createHpackDecoder, encodeHeaderBlock, type HpackDecoder } from '../../../control-plane/src/h2/hpack.js';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const DATA = 0x0;
const HEADERS = 0x1;
const RST_STREAM = 0x3;
const SETTINGS = 0x4;
const PING = 0x6;
const GOAWAY = 0x7;
const CONTINUATION = 0x9;
const END_STREAM = 0x1;
const ACK = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;
const SETTINGS_HEADER_TABLE_SIZE = 0x1;
const MAX_FRAME_SIZE = 16384;

interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([header, payload]);
}

function settings(values: Array<[id: number, value: number]>): Buffer {
  const payload = Buffer.alloc(6 * values.length);
  values.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, 6 * i);
    payload.writeUInt32BE(value, 6 * i + 2);
  });
  return frame(SETTINGS, 0, 0, payload);
}

/** A header block as HEADERS + CONTINUATION frames no larger than the default SETTINGS_MAX_FRAME_SIZE. */
function headerFrames(streamId: number, block: Buffer, endStream: boolean): Buffer {
  const parts: Buffer[] = [];
  for (let off = 0; off === 0 || off < block.length; off += MAX_FRAME_SIZE) {
    const chunk = block.subarray(off, off + MAX_FRAME_SIZE);
    const last = off + MAX_FRAME_SIZE >= block.length;
    const type = off === 0 ? HEADERS : CONTINUATION;
    const flags = (last ? END_HEADERS : 0) | (off === 0 && endStream ? END_STREAM : 0);
    parts.push(frame(type, flags, streamId, chunk));
  }
  return Buffer.concat(parts);
}

/**
 * Reads frames from a socket and hands every complete header block (HEADERS + CONTINUATION, padding and
 * priority fields removed) and every other frame to the callbacks, in wire order.
 */
function readFrames(
  socket: net.Socket,
  skipPreface: boolean,
  onFrame: (f: Frame) => void,
  onHeaderBlock: (streamId: number, block: Buffer, flags: number) => void,
): void {
  let buf = Buffer.alloc(0);
  let prefaceLeft = skipPreface ? PREFACE.length : 0;
  let pending: { streamId: number; flags: number; parts: Buffer[] } | null = null;
  socket.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    if (prefaceLeft > 0) {
      if (buf.length < prefaceLeft) return;
      expect(buf.subarray(0, PREFACE.length)).toEqual(PREFACE);
      buf = buf.subarray(prefaceLeft);
      prefaceLeft = 0;
    }
    while (buf.length >= 9) {
      const length = buf.readUIntBE(0, 3);
      if (buf.length < 9 + length) break;
      const f: Frame = { type: buf[3]!, flags: buf[4]!, streamId: buf.readUInt32BE(5) & 0x7fffffff, payload: buf.subarray(9, 9 + length) };
      buf = buf.subarray(9 + length);
      if (f.type === HEADERS) {
        let p = f.payload;
        let padLength = 0;
        if (f.flags & PADDED) {
          padLength = p[0]!;
          p = p.subarray(1);
        }
        if (f.flags & PRIORITY) p = p.subarray(5);
        p = p.subarray(0, p.length - padLength);
        pending = { streamId: f.streamId, flags: f.flags, parts: [Buffer.from(p)] };
      } else if (f.type === CONTINUATION) {
        expect(pending?.streamId).toBe(f.streamId);
        pending!.parts.push(Buffer.from(f.payload));
      } else {
        expect(pending).toBeNull();
        onFrame(f);
        continue;
      }
      if (f.flags & END_HEADERS) {
        const { streamId, flags, parts } = pending!;
        pending = null;
        onHeaderBlock(streamId, Buffer.concat(parts), flags);
      }
    }
  });
}

/**
 * Every octet a header value may carry (HTAB, visible ASCII, obs-text 0x80-0xff) after a long run of 'a'
 * (5-bit code), so that Huffman coding is shorter overall and both encoders use it: the peer then has to
 * decode the long codes of the rare octets.
 */
const ALL_OCTETS_VALUE =
  'a'.repeat(3000) +
  String.fromCharCode(0x09, ...Array.from({ length: 0x7f - 0x20 }, (_, i) => 0x20 + i), ...Array.from({ length: 128 }, (_, i) => 0x80 + i)) +
  'a';

/** mulberry32, seeded so a failure reproduces. */
const prng = createMulberry32;

/** Random visible ASCII with inner spaces (no leading/trailing whitespace, which nghttp2 rejects). */
function printable(next: () => number, length: number): string {
  let s = '';
  for (let i = 0; i < length; i++) {
    const edge = i === 0 || i === length - 1;
    s += String.fromCharCode(edge ? 0x21 + Math.floor(next() * 94) : 0x20 + Math.floor(next() * 95));
  }
  return s;
}

const pairsOf = (flat: string[]): Array<[string, string]> => {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
};

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

describe('our encoder → nghttp2 decoder (raw TCP client, node:http2 server)', () => {
  it('a node:http2 server receives exactly the header lists we encode; we decode its responses', async () => {
    const next = prng(20260101);
    const staticNames = [
      'accept-charset', 'accept-encoding', 'accept-language', 'accept-ranges', 'accept',
      'access-control-allow-origin', 'age', 'allow', 'authorization', 'cache-control', 'content-disposition',
      'content-encoding', 'content-language', 'content-length', 'content-location', 'content-range',
      'content-type', 'cookie', 'date', 'etag', 'expect', 'expires', 'from', 'if-match',
      'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since', 'last-modified', 'link',
      'location', 'max-forwards', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer', 'refresh',
      'retry-after', 'server', 'set-cookie', 'strict-transport-security', 'user-agent', 'vary', 'via',
      'www-authenticate',
    ]; // every static-table name valid in a request (not :status, not the connection-specific transfer-encoding)
    const lists: Array<Array<[string, string]>> = [];
    // 1: every static name, with static values where the table has them and random values otherwise
    lists.push([
      [':method', 'POST'],
      [':scheme', 'https'],
      [':path', '/index.html'],
      [':authority', 'www.example.com'],
      ...staticNames.map((n): [string, string] =>
        n === 'content-length' ? [n, '0'] : n === 'accept-encoding' ? [n, 'gzip, deflate'] : [n, printable(next, 1 + Math.floor(next() * 40))],
      ),
    ]);
    lists.push([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      ['host', 'www.example.com:8080'],
    ]);
    // 3: long values (multi-octet lengths, block split over CONTINUATION frames)
    lists.push([
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/' + printable(next, 3000).replace(/[ #?]/g, '_')],
      [':authority', 'meshward.test:8443'],
      ['x-long-1', printable(next, 9000)],
      ['x-long-2', printable(next, 12000)],
      ['x-' + 'n'.repeat(300), printable(next, 200)],
      ['x-latin1', 'caf\u00e9 \u00ff\u0080'],
      ['x-all-octets', ALL_OCTETS_VALUE],
      ['x-empty', ''],
      ['x-dup', 'one'],
      ['x-dup', 'two'],
    ]);
    // 4..13: random lists of random printable values
    for (let k = 0; k < 10; k++) {
      const list: Array<[string, string]> = [
        [':method', next() < 0.5 ? 'GET' : 'POST'],
        [':scheme', next() < 0.5 ? 'http' : 'https'],
        [':path', '/api/v' + k],
        [':authority', 'host-' + k + '.example'],
      ];
      const n = 5 + Math.floor(next() * 60);
      for (let i = 0; i < n; i++) list.push([`x-rand-${i}`, printable(next, Math.floor(next() * 120) + 1)]);
      lists.push(list);
    }

    const received: string[][] = [];
    const server = http2.createServer({ maxHeaderListPairs: 4000, settings: { maxHeaderListSize: 1 << 20 } });
    // Node passes the received header list as a 4th argument (flat [name, value, ...], wire order).
    server.on('stream', (stream: http2.ServerHttp2Stream, _headers: unknown, _flags: unknown, rawHeaders: string[]) => {
      received.push(rawHeaders);
      stream.respond({
        ':status': 200,
        'content-type': 'application/grpc',
        'x-received-fields': String(rawHeaders.length / 2),
        'x-repeat': 'the same value on every response, so nghttp2 indexes it',
      }, { endStream: true });
    });
    server.on('sessionError', (err) => received.push(['sessionError', String(err)]));
    const port = await listen(server as unknown as net.Server);
    cleanups.push(() => server.close());

    const socket = net.connect(port, '127.0.0.1');
    cleanups.push(() => socket.destroy());
    const responseDecoder = createHpackDecoder();
    const responses = new Map<number, Array<[string, string]>>();
    const otherFrames: Frame[] = [];
    const done = new Promise<void>((resolve, reject) => {
      readFrames(
        socket,
        false,
        (f) => {
          if (f.type === SETTINGS && !(f.flags & ACK)) socket.write(frame(SETTINGS, ACK, 0));
          if (f.type === GOAWAY || f.type === RST_STREAM) {
            otherFrames.push(f);
            reject(new Error(`server sent frame type ${f.type}: ${f.payload.toString('hex')}`));
          }
        },
        (streamId, block) => {
          responses.set(streamId, pairsOf(responseDecoder.decode(block)));
          if (responses.size === lists.length) resolve();
        },
      );
      socket.on('error', reject);
    });
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(Buffer.concat([PREFACE, settings([])]));
    lists.forEach((list, i) => socket.write(headerFrames(2 * i + 1, encodeHeaderBlock(list), true)));
    await done;

    // our encoder Huffman-coded the all-octets value (so nghttp2 decoded the long codes of rare octets)
    expect(encodeHeaderBlock(lists[2]!).includes(Buffer.from('a'.repeat(100)))).toBe(false);
    expect(received).toHaveLength(lists.length);
    received.forEach((raw, i) => expect(pairsOf(raw)).toEqual(lists[i]));
    lists.forEach((list, i) => {
      expect(responses.get(2 * i + 1)).toEqual([
        [':status', '200'],
        ['content-type', 'application/grpc'],
        ['x-received-fields', String(list.length)],
        ['x-repeat', 'the same value on every response, so nghttp2 indexes it'],
        ['date', expect.any(String) as unknown as string],
      ]);
    });
    // nghttp2 used its dynamic table for the responses (this decoder followed it)
    expect(responseDecoder.tableSize).toBeGreaterThan(0);
  });
});

interface RawServer {
  port: number;
  /** Decoded request header lists in wire order, with the raw block. */
  blocks: Array<{ streamId: number; block: Buffer; headers: Array<[string, string]>; tableSizeAfter: number; afterAck: number }>;
  decoder: HpackDecoder;
  /** Client SETTINGS ACKs received. */
  acks: number;
  send(data: Buffer): void;
  /** Resolves when the client has ACKed `n` of our SETTINGS frames. */
  waitForAcks(n: number): Promise<void>;
  errors: unknown[];
}

/**
 * A raw TCP HTTP/2 "server": answers the client's SETTINGS, decodes every request header block with ONE
 * decoder, and answers each request with a HEADERS frame from encodeHeaderBlock (END_STREAM).
 * `onAck(n)` runs when the client ACKs our n-th SETTINGS (n = 1 is the initial one).
 */
async function startRawServer(onAck: (n: number, decoder: HpackDecoder) => void): Promise<RawServer> {
  const decoder = createHpackDecoder();
  let sock: net.Socket | null = null;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const state: RawServer = {
    port: 0,
    blocks: [],
    decoder,
    acks: 0,
    errors: [],
    send: (data) => sock!.write(data),
    waitForAcks: (n) => (state.acks >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve }))),
  };
  const server = net.createServer((socket) => {
    expect(sock).toBeNull(); // one connection per test
    sock = socket;
    socket.on('error', (err) => state.errors.push(err));
    socket.write(settings([]));
    readFrames(
      socket,
      true,
      (f) => {
        if (f.type === SETTINGS && f.flags & ACK) {
          state.acks++;
          onAck(state.acks, decoder);
          for (const w of waiters.splice(0)) {
            if (state.acks >= w.n) w.resolve();
            else waiters.push(w);
          }
        } else if (f.type === SETTINGS) {
          socket.write(frame(SETTINGS, ACK, 0));
        } else if (f.type === PING && !(f.flags & ACK)) {
          socket.write(frame(PING, ACK, 0, Buffer.from(f.payload)));
        } else if (f.type === GOAWAY || f.type === RST_STREAM) {
          state.errors.push(new Error(`client sent frame type ${f.type}: ${f.payload.toString('hex')}`));
        } else if (f.type === DATA && f.flags & END_STREAM) {
          socket.write(headerFrames(f.streamId, encodeHeaderBlock([[':status', '200'], ['content-type', 'text/plain']]), true));
        }
      },
      (streamId, block, flags) => {
        try {
          const headers = pairsOf(decoder.decode(block));
          state.blocks.push({ streamId, block, headers, tableSizeAfter: decoder.tableSize, afterAck: state.acks });
        } catch (err) {
          state.errors.push(err);
          socket.destroy();
          return;
        }
        if (flags & END_STREAM) {
          socket.write(headerFrames(streamId, encodeHeaderBlock([[':status', '200'], ['content-type', 'text/plain']]), true));
        }
      },
    );
  });
  state.port = await listen(server);
  cleanups.push(() => server.close());
  cleanups.push(() => sock?.destroy());
  return state;
}

type RequestHeaders = Record<string, string | string[]>;

/** Sends one request on the client session and waits for its (200) response. */
function request(client: http2.ClientHttp2Session, headers: RequestHeaders, sensitive?: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const h: http2.OutgoingHttpHeaders = { ...headers };
    if (sensitive) (h as Record<symbol, unknown>)[http2.sensitiveHeaders] = sensitive;
    const req = client.request(h, { endStream: true });
    req.on('response', (res) => {
      if (res[':status'] !== 200) reject(new Error(`status ${String(res[':status'])}`));
    });
    req.on('error', reject);
    req.resume();
    req.on('close', () => resolve());
  });
}

/** Names in a decoder's dynamic table, read with indexed representations (which leave the table as is). */
function dynamicNames(decoder: HpackDecoder): string[] {
  const names: string[] = [];
  for (let i = 62; ; i++) {
    let h: string[];
    try {
      h = decoder.decode(Buffer.from(i < 127 ? [0x80 | i] : [0xff, i - 127]));
    } catch {
      return names;
    }
    names.push(h[0]!);
  }
}

function expectedFields(headers: RequestHeaders): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) out.push([name, v]);
  }
  return out;
}

describe('nghttp2 encoder (node:http2 client) → our decoder (raw TCP server)', () => {
  it('decodes 20 requests on one connection with one decoder (Huffman, dynamic table, eviction, never-indexed)', async () => {
    const raw = await startRawServer(() => {});
    const client = http2.connect(`http://127.0.0.1:${raw.port}`);
    cleanups.push(() => client.destroy());
    client.on('error', (err) => raw.errors.push(err));

    const next = prng(424242);
    const sent: Array<Array<[string, string]>> = [];
    for (let i = 0; i < 20; i++) {
      const headers: RequestHeaders = {
        ':method': i % 3 === 0 ? 'POST' : 'GET',
        ':path': `/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources?i=${i % 4}`,
        ':scheme': 'http',
        ':authority': `127.0.0.1:${raw.port}`,
        'content-type': 'application/grpc',
        te: 'trailers',
        'user-agent': 'grpc-node-js/1.14.7',
        'grpc-accept-encoding': 'identity,deflate,gzip',
        // repeated across requests → indexed from the dynamic table
        'x-node-id': `sidecar~10.0.0.${i % 5}~pod-${i % 5}.default~default.svc.cluster.local`,
        // varied, sometimes long → insertion and eviction (4096-octet table)
        'x-random': printable(next, 1 + Math.floor(next() * (i % 4 === 0 ? 1500 : 60))),
        'x-latin1': 'na\u00efve \u00e9t\u00e9 \u00ff',
        'x-multi': ['a', 'b', `c${i}`],
        authorization: `Bearer ${printable(next, 40).replace(/ /g, 'x')}`,
        'x-secret': `secret-${i}`,
        ...(i === 7 ? { 'x-all-octets': ALL_OCTETS_VALUE } : {}),
      };
      await request(client, headers, ['x-secret']);
      sent.push(expectedFields(headers));
    }
    expect(raw.errors).toEqual([]);
    expect(raw.blocks).toHaveLength(20);
    raw.blocks.forEach((b, i) => {
      expect(b.streamId).toBe(2 * i + 1);
      expect(b.headers).toEqual(sent[i]);
    });
    // nghttp2 indexed fields: the table is in use and repeated requests encode much shorter than the first
    expect(Math.max(...raw.blocks.map((b) => b.tableSizeAfter))).toBeGreaterThan(1000);
    expect(raw.blocks[5]!.block.length).toBeLessThan(raw.blocks[0]!.block.length / 2);
    // the 1500-octet values forced evictions: the table never exceeded 4096
    for (const b of raw.blocks) expect(b.tableSizeAfter).toBeLessThanOrEqual(4096);
    // nghttp2 Huffman-coded the all-octets value (and we decoded it, above)
    expect(raw.blocks[7]!.block.length).toBeLessThan(ALL_OCTETS_VALUE.length);
    expect(raw.blocks[7]!.block.includes(Buffer.from('a'.repeat(100)))).toBe(false);
    // nghttp2 Huffman-coded the strings: the first block does not carry them as raw octets
    expect(raw.blocks[0]!.block.includes(Buffer.from('application/grpc'))).toBe(false);
    expect(raw.blocks[0]!.block.includes(Buffer.from('sidecar~10.0.0.0'))).toBe(false);
    // the dynamic table holds indexed fields but never the sensitive (never-indexed) x-secret
    const names = dynamicNames(raw.decoder);
    expect(names).toContain('x-node-id');
    expect(names).not.toContain('x-secret');
  });

  it('SETTINGS_HEADER_TABLE_SIZE 0: after the ACK the next block begins with a size update that we accept', async () => {
    let sawSecondAck = false;
    const raw = await startRawServer((n, decoder) => {
      if (n === 2) {
        sawSecondAck = true;
        decoder.setMaxTableSize(0);
      }
    });
    const client = http2.connect(`http://127.0.0.1:${raw.port}`);
    cleanups.push(() => client.destroy());
    client.on('error', (err) => raw.errors.push(err));
    const headersFor = (i: number): RequestHeaders => ({
      ':method': 'GET',
      ':path': `/p/${i % 2}`,
      ':scheme': 'http',
      ':authority': 'xds.meshward.test',
      'x-same': 'a value long enough to be worth indexing',
      'x-i': String(i),
    });
    const sent: Array<Array<[string, string]>> = [];
    for (let i = 0; i < 5; i++) {
      await request(client, headersFor(i));
      sent.push(expectedFields(headersFor(i)));
    }
    await raw.waitForAcks(1);
    expect(raw.decoder.tableSize).toBeGreaterThan(0);
    raw.send(settings([[SETTINGS_HEADER_TABLE_SIZE, 0]]));
    await raw.waitForAcks(2);
    expect(sawSecondAck).toBe(true);
    for (let i = 5; i < 10; i++) {
      await request(client, headersFor(i));
      sent.push(expectedFields(headersFor(i)));
    }
    expect(raw.errors).toEqual([]);
    expect(raw.blocks.map((b) => b.headers)).toEqual(sent);
    const firstAfter = raw.blocks.findIndex((b) => b.afterAck >= 2);
    expect(firstAfter).toBe(5);
    expect(raw.blocks[firstAfter]!.block[0]).toBe(0x20); // dynamic table size update to 0
    for (const b of raw.blocks.slice(firstAfter)) expect(b.tableSizeAfter).toBe(0);
    expect(raw.blocks[4]!.tableSizeAfter).toBeGreaterThan(0);
  });

  it('a table size raised above 4096 is used by the client only after it signals it', async () => {
    const raw = await startRawServer((n, decoder) => {
      if (n === 2) decoder.setMaxTableSize(65536);
    });
    const client = http2.connect(`http://127.0.0.1:${raw.port}`);
    cleanups.push(() => client.destroy());
    client.on('error', (err) => raw.errors.push(err));
    await request(client, { ':method': 'GET', ':path': '/', ':scheme': 'http', ':authority': 'a', 'x-v': 'v'.repeat(3000) });
    await raw.waitForAcks(1);
    raw.send(settings([[SETTINGS_HEADER_TABLE_SIZE, 65536]]));
    await raw.waitForAcks(2);
    for (let i = 0; i < 4; i++) {
      await request(client, { ':method': 'GET', ':path': '/', ':scheme': 'http', ':authority': 'a', [`x-v${i}`]: String(i).repeat(3000) });
    }
    expect(raw.errors).toEqual([]);
    expect(raw.blocks).toHaveLength(5);
    // nghttp2 caps its encoder table at 4096 (its default) whatever we allow: the decoder follows it
    for (const b of raw.blocks) expect(b.tableSizeAfter).toBeLessThanOrEqual(4096);
    expect(raw.blocks[4]!.headers.at(-1)).toEqual(['x-v3', '3'.repeat(3000)]);
  });
});
