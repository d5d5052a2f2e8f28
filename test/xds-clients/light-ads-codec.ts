/**
 * Minimal hand-rolled protobuf codec for the few DiscoveryRequest/DiscoveryResponse fields a
 * simulated Envoy needs to ACK (version_info, type_url, nonce), so that thousands of simulated
 * clients sharing the machine with the control plane cost as little CPU as possible. The protocol
 * tests use the full generated types instead.
 */

function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let shift = 1;
  for (;;) {
    const b = buf[pos++]!;
    result += (b & 0x7f) * shift;
    if (b < 0x80) return [result, pos];
    shift *= 128;
  }
}

export interface LightResponse {
  versionInfo: string;
  typeUrl: string;
  nonce: string;
  resourceCount: number;
}

/** Reads version_info(1), resources(2, counted), type_url(4), nonce(5) of a DiscoveryResponse. */
export function scanDiscoveryResponse(buf: Uint8Array): LightResponse {
  const out: LightResponse = { versionInfo: '', typeUrl: '', nonce: '', resourceCount: 0 };
  let pos = 0;
  const dec = new TextDecoder();
  while (pos < buf.length) {
    let tag: number;
    [tag, pos] = readVarint(buf, pos);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 2) {
      let len: number;
      [len, pos] = readVarint(buf, pos);
      const end = pos + len;
      if (field === 1) out.versionInfo = dec.decode(buf.subarray(pos, end));
      else if (field === 2) out.resourceCount++;
      else if (field === 4) out.typeUrl = dec.decode(buf.subarray(pos, end));
      else if (field === 5) out.nonce = dec.decode(buf.subarray(pos, end));
      pos = end;
    } else if (wire === 0) {
      [, pos] = readVarint(buf, pos);
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

function field(no: number, bytes: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([...varint((no << 3) | 2), ...varint(bytes.length)]), bytes]);
}

const str = (no: number, s: string): Buffer => (s === '' ? Buffer.alloc(0) : field(no, Buffer.from(s, 'utf8')));

/**
 * DiscoveryRequest bytes: version_info(1), node(2, pre-encoded Node bytes, first request only),
 * resource_names(3), type_url(4), response_nonce(5).
 */
export function encodeDiscoveryRequest(
  versionInfo: string,
  nodeBytes: Uint8Array | undefined,
  resourceNames: readonly string[],
  typeUrl: string,
  responseNonce: string,
): Buffer {
  const parts: Buffer[] = [str(1, versionInfo)];
  if (nodeBytes !== undefined) parts.push(field(2, nodeBytes));
  for (const n of resourceNames) parts.push(field(3, Buffer.from(n, 'utf8')));
  parts.push(str(4, typeUrl), str(5, responseNonce));
  return Buffer.concat(parts);
}
