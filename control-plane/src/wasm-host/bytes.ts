// Byte helpers shared by the emulator.

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/** Body or header input accepted by the emulator API: strings are UTF-8 encoded. */
export type BytesInput = string | Uint8Array;

export function toBytes(input: BytesInput): Uint8Array {
  return typeof input === 'string' ? encoder.encode(input) : input;
}

export function utf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

export function encodeUtf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export const EMPTY_BYTES = new Uint8Array(0);
