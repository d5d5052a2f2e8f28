import { describe, expect, it } from 'vitest';
import { createMulberry32 } from '../../../scripts/seeded-random.js';
import { HpackError, createHpackDecoder, huffmanDecode, huffmanEncode } from '../../../control-plane/src/h2/hpack.js';
import { HUFFMAN_CODE_TABLE, HUFFMAN_EOS, HUFFMAN_SYMBOL_COUNT } from '../../../control-plane/src/h2/huffman-table.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** mulberry32, seeded so a failure reproduces. */
const prng = createMulberry32;

function randomBytes(next: () => number, maxLength: number): Buffer {
  const len = Math.floor(next() * (maxLength + 1));
  const b = Buffer.allocUnsafe(len);
  // Mix uniform octets with printable-ASCII runs (the common case, with short codes).
  const printable = next() < 0.5;
  for (let i = 0; i < len; i++) b[i] = printable ? 0x20 + Math.floor(next() * 95) : Math.floor(next() * 256);
  return b;
}

/** Packs MSB-first bit strings ("0101...") into octets, padding with ones. */
function bits(...codes: string[]): Buffer {
  const s = codes.join('');
  const padded = s + '1'.repeat((8 - (s.length % 8)) % 8);
  const out = Buffer.alloc(padded.length / 8);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(padded.slice(8 * i, 8 * i + 8), 2);
  return out;
}
const codeOf = (sym: number): string =>
  HUFFMAN_CODE_TABLE[2 * sym]!.toString(2).padStart(HUFFMAN_CODE_TABLE[2 * sym + 1]!, '0');

function expectHuffmanError(input: Buffer, message: RegExp): void {
  let caught: unknown;
  try {
    huffmanDecode(input);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(HpackError);
  expect((caught as HpackError).kind).toBe('compression');
  expect((caught as HpackError).message).toMatch(message);
}

describe('Huffman code table (RFC 7541 Appendix B)', () => {
  it('has 257 symbols with lengths 5..30, is prefix-free and complete', () => {
    expect(HUFFMAN_SYMBOL_COUNT).toBe(257);
    expect(HUFFMAN_CODE_TABLE).toHaveLength(2 * 257);
    let kraft = 0n; // sum of 2^(30 - len) must be exactly 2^30
    const codes: string[] = [];
    for (let sym = 0; sym < 257; sym++) {
      const code = HUFFMAN_CODE_TABLE[2 * sym]!;
      const len = HUFFMAN_CODE_TABLE[2 * sym + 1]!;
      expect(len).toBeGreaterThanOrEqual(5);
      expect(len).toBeLessThanOrEqual(30);
      expect(code).toBeLessThan(2 ** len);
      kraft += 1n << BigInt(30 - len);
      codes.push(codeOf(sym));
    }
    expect(kraft).toBe(1n << 30n);
    const sorted = [...codes].sort();
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.startsWith(sorted[i - 1]!)).toBe(false);
  });

  it('matches spot values of the RFC table', () => {
    expect(HUFFMAN_EOS).toBe(256);
    expect(codeOf(256)).toBe('1'.repeat(30));
    expect(codeOf(0x2f)).toBe('011000'); // '/' per the RFC's worked example
    expect(codeOf(0x30)).toBe('00000'); // '0'
    expect(codeOf(0x61)).toBe('00011'); // 'a'
    expect(codeOf(0)).toBe('1111111111000');
    expect(codeOf(10)).toBe('111111111111111111111111111100');
    expect(codeOf(255)).toBe('11111111111111111111101110');
  });
});

describe('huffmanEncode / huffmanDecode', () => {
  it('codes the RFC 7541 Appendix C strings exactly', () => {
    const cases: Array<[string, string]> = [
      ['www.example.com', 'f1e3 c2e5 f23a 6ba0 ab90 f4ff'],
      ['no-cache', 'a8eb 1064 9cbf'],
      ['custom-key', '25a8 49e9 5ba9 7d7f'],
      ['custom-value', '25a8 49e9 5bb8 e8b4 bf'],
      ['302', '6402'],
      ['307', '640e ff'],
      ['private', 'aec3 771a 4b'],
      ['Mon, 21 Oct 2013 20:13:21 GMT', 'd07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff'],
      ['https://www.example.com', '9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3'],
      ['gzip', '9bd9 ab'],
      [
        'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1',
        '94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07',
      ],
    ];
    for (const [text, coded] of cases) {
      expect(huffmanEncode(Buffer.from(text, 'latin1'))).toEqual(hex(coded));
      expect(huffmanDecode(hex(coded)).toString('latin1')).toBe(text);
    }
  });

  it('round-trips every octet value alone and all 256 together', () => {
    for (let b = 0; b < 256; b++) {
      const one = Buffer.from([b]);
      const coded = huffmanEncode(one);
      expect(coded.length).toBe(Math.ceil(HUFFMAN_CODE_TABLE[2 * b + 1]! / 8));
      expect(huffmanDecode(coded)).toEqual(one);
    }
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(huffmanDecode(huffmanEncode(all))).toEqual(all);
    const reversed = Buffer.from(all).reverse();
    expect(huffmanDecode(huffmanEncode(reversed))).toEqual(reversed);
  });

  it('encodes bit-exactly against an independent bit-string encoder', () => {
    const next = prng(7541);
    for (let n = 0; n < 200; n++) {
      const input = randomBytes(next, 64);
      expect(huffmanEncode(input)).toEqual(bits(...[...input].map(codeOf)));
    }
  });

  it('property: decode(encode(x)) equals x for 10,000 seeded random inputs', () => {
    const next = prng(0x48504143); // "HPAC"
    for (let n = 0; n < 10_000; n++) {
      const input = randomBytes(next, n % 100 === 0 ? 2000 : 40);
      const decoded = huffmanDecode(huffmanEncode(input));
      if (!decoded.equals(input)) {
        expect.fail(`round trip #${n} failed for ${input.toString('hex')}`);
      }
    }
  });

  it('empty input codes to empty output', () => {
    expect(huffmanEncode(new Uint8Array(0))).toHaveLength(0);
    expect(huffmanDecode(new Uint8Array(0))).toHaveLength(0);
  });

  it('accepts 1..7 bits of EOS-prefix padding', () => {
    // '0' is 5 bits (pad 3), 'a' + '0' is 10 bits (pad 6), ':' is 7 bits (pad 1), 'X' is 8 bits (no pad)
    expect(huffmanDecode(bits(codeOf(0x30))).toString()).toBe('0');
    expect(huffmanDecode(bits(codeOf(0x61), codeOf(0x30))).toString()).toBe('a0');
    expect(huffmanDecode(bits(codeOf(0x3a))).toString()).toBe(':');
    expect(huffmanDecode(bits(codeOf(0x58))).toString()).toBe('X');
    expect(huffmanDecode(bits(codeOf(0x58), codeOf(0x20), '1')).toString()).toBe('X '); // 8 + 6 + pad 2
  });

  it('rejects padding longer than 7 bits', () => {
    expectHuffmanError(hex('ff'), /8 bits of padding; at most 7/);
    expectHuffmanError(Buffer.concat([bits(codeOf(0x61)), hex('ff')]), /11 bits of padding/);
    expectHuffmanError(hex('ffffff'), /24 bits of padding/);
  });

  it('rejects padding that is not the most significant bits of EOS', () => {
    expectHuffmanError(Buffer.from([0b00011000]), /padding is not the most significant bits of EOS/); // 'a' + 000
    expectHuffmanError(Buffer.from([0b00011110]), /padding is not the most significant bits of EOS/); // 'a' + 110
    expectHuffmanError(Buffer.from([0b00011011]), /padding is not the most significant bits of EOS/); // 'a' + 011
  });

  it('rejects an explicit EOS symbol, wherever it is', () => {
    expectHuffmanError(bits(codeOf(256)), /contains the EOS symbol/);
    expectHuffmanError(bits(codeOf(0x61), codeOf(256), codeOf(0x61)), /contains the EOS symbol/);
    expectHuffmanError(hex('ffff ffff ffff'), /contains the EOS symbol/);
  });

  it('the decoder treats Huffman errors in names and values as COMPRESSION_ERROR', () => {
    const d = createHpackDecoder();
    expect(() => d.decode(Buffer.from([0x00, 0x81, 0xff, 0x01, 0x61]))).toThrow(/string literal \(name\) at offset 1: .*8 bits of padding/);
    expect(() => d.decode(Buffer.from([0x00, 0x01, 0x61, 0x81, 0x18]))).toThrow(/string literal \(value\) at offset 3: .*not the most significant bits of EOS/);
  });

  it('decodes Huffman strings inside header blocks longer than its scratch buffer', () => {
    const value = Buffer.alloc(10_000, 'Z'); // 8 bits each
    const coded = huffmanEncode(value);
    const len = coded.length; // 10,000
    const block = Buffer.concat([Buffer.from([0x00, 0x01, 0x6b, 0xff, ...varint(len - 127)]), coded]);
    const d = createHpackDecoder({ maxHeaderListSize: 1 << 20 });
    expect(d.decode(block)).toEqual(['k', value.toString('latin1')]);
  });
});

function varint(v: number): number[] {
  const out: number[] = [];
  while (v >= 128) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}
