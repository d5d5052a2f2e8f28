/**
 * Hand-written protobuf framing for the two outer xDS response messages, so that the bytes of each
 * resource are encoded once (per version, per group) and every response is a concatenation of cached
 * buffers plus a few small fields. Field numbers come from envoy/service/discovery/v3/discovery.proto:
 *
 *   DiscoveryResponse       version_info=1 resources=2(Any) type_url=4 nonce=5
 *   DeltaDiscoveryResponse  system_version_info=1 resources=2(Resource) type_url=4 nonce=5 removed_resources=6
 *   Resource                version=1 resource=2(Any) name=3
 *   google.protobuf.Any     type_url=1 value=2
 *
 * Tests decode every produced buffer with the generated schemas, so a framing mistake cannot pass.
 */

const WIRE_LEN = 2;

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(buf: Buffer, offset: number, n: number): number {
  while (n >= 0x80) {
    buf[offset++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[offset++] = n;
  return offset;
}

/** A length-delimited field (string, bytes or embedded message) as a standalone buffer. */
export function lengthDelimited(field: number, payload: Uint8Array): Buffer {
  const tag = (field << 3) | WIRE_LEN;
  const out = Buffer.allocUnsafe(varintSize(tag) + varintSize(payload.length) + payload.length);
  let o = writeVarint(out, 0, tag);
  o = writeVarint(out, o, payload.length);
  out.set(payload, o);
  return out;
}

/** A string field; empty strings are omitted (proto3 default), returning an empty buffer. */
export function stringField(field: number, value: string): Buffer {
  if (value.length === 0) return EMPTY;
  return lengthDelimited(field, Buffer.from(value, 'utf8'));
}

export const EMPTY: Buffer = Buffer.alloc(0);

/** google.protobuf.Any bytes for an already encoded message. */
export function encodeAny(typeUrl: string, value: Uint8Array): Buffer {
  return Buffer.concat([stringField(1, typeUrl), lengthDelimited(2, value)]);
}

/** envoy.service.discovery.v3.Resource bytes (the delta envelope) around cached Any bytes. */
export function encodeDeltaResource(name: string, version: string, anyBytes: Uint8Array): Buffer {
  return Buffer.concat([stringField(1, version), lengthDelimited(2, anyBytes), stringField(3, name)]);
}

/**
 * DiscoveryResponse bytes from pre-framed resource fields (each already `lengthDelimited(2, any)`).
 * Field order on the wire does not matter to protobuf parsers; nonce comes last so a cached body can
 * be re-nonced with one small concatenation.
 */
export function encodeDiscoveryResponse(
  versionInfo: string,
  typeUrl: string,
  framedResources: readonly Buffer[],
  nonce: string,
): Buffer {
  return Buffer.concat([stringField(1, versionInfo), ...framedResources, stringField(4, typeUrl), stringField(5, nonce)]);
}

/** DeltaDiscoveryResponse bytes from pre-framed Resource fields (each `lengthDelimited(2, resource)`). */
export function encodeDeltaDiscoveryResponse(
  systemVersionInfo: string,
  typeUrl: string,
  framedResources: readonly Buffer[],
  removed: readonly string[],
  nonce: string,
): Buffer {
  const parts: Buffer[] = [stringField(1, systemVersionInfo), ...framedResources, stringField(4, typeUrl)];
  for (const name of removed) parts.push(lengthDelimited(6, Buffer.from(name, 'utf8')));
  parts.push(stringField(5, nonce));
  return Buffer.concat(parts);
}
