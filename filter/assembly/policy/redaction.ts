/**
 * Redaction tokens: what a redacted value is replaced with.
 *
 * - `type_tag`: the detector id upper-cased in brackets: `[EMAIL]`, `[CODENAME]`.
 * - `mask`: every character (code point) but the last 4 becomes `*`; values of 4 characters or
 *   fewer are masked whole.
 * - `hash`: `[EMAIL:1f3a9c07b2d4]`, 48 bits of SipHash-2-4 keyed with the deployment's hash key
 *   over the normalised value (lower-cased for emails, keywords and the rest: ASCII letters and
 *   the letters with a two-byte case pair, detect/unicode-case.ts, so `MÜLLER` and `müller` give
 *   one token; only letters and digits, upper-cased, for numbers such as cards, phones, SSNs and
 *   IBANs, so `4111 1111...` and `4111-1111...` give one token). The same value gives the same token in every VM that shares the key; without the
 *   key the token cannot be reversed by trying candidate values.
 */
import { RedactionStyle } from "../config/enums";
import { ByteBuffer, hexDigit } from "../inspect/byte-buffer";
import { lowerCase2, twoByteAt } from "../detect";

export class Redactor {
  private k0: u64 = 0;
  private k1: u64 = 0;
  private norm: ByteBuffer = new ByteBuffer(64);

  constructor(public style: RedactionStyle, hashKey: string) {
    if (hashKey.length > 0) {
      // Derive a 128-bit SipHash key from a key of any length.
      const kb = String.UTF8.encode(hashKey);
      const p = changetype<usize>(kb);
      const n = kb.byteLength;
      this.k0 = sipHash24(0x6d657368_77617264, 0x6b65792d_30303031, p, n);
      this.k1 = sipHash24(0x6d657368_77617264, 0x6b65792d_30303032, p, n);
    }
  }

  /**
   * Appends the token for the value at text bytes [ptr, ptr+len) found by `detectorId` to `out`
   * (unescaped; the caller escapes for JSON).
   */
  token(detectorId: string, ptr: usize, len: i32, numeric: bool, out: ByteBuffer): void {
    if (this.style == RedactionStyle.Mask) {
      // Count code points, keep the last 4.
      let cps = 0;
      for (let i = 0; i < len; i++) {
        if ((load<u8>(ptr + <usize>i) & 0xc0) != 0x80) cps++;
      }
      const masked = cps > 4 ? cps - 4 : cps;
      let seen = 0;
      for (let i = 0; i < len; i++) {
        const b = load<u8>(ptr + <usize>i);
        const lead = (b & 0xc0) != 0x80;
        if (lead) seen++;
        if (seen <= masked) {
          if (lead) out.pushByte(0x2a);
        } else {
          out.pushByte(b);
        }
      }
      return;
    }
    out.pushByte(0x5b);
    pushUpper(detectorId, out);
    if (this.style == RedactionStyle.Hash) {
      const nb = this.norm;
      nb.reset();
      for (let i = 0; i < len; i++) {
        let b = load<u8>(ptr + <usize>i);
        const isLower = b >= 0x61 && b <= 0x7a;
        const isUpper = b >= 0x41 && b <= 0x5a;
        const isDigit = b >= 0x30 && b <= 0x39;
        if (numeric) {
          if (!(isLower || isUpper || isDigit)) continue;
          if (isLower) b -= 0x20;
        } else if (isUpper) {
          b += 0x20;
        } else if (b >= 0xc2) {
          const cp = twoByteAt(ptr, len, i);
          if (cp >= 0) {
            const l = lowerCase2(cp);
            nb.pushByte(<u8>(0xc0 | (l >> 6)));
            nb.pushByte(<u8>(0x80 | (l & 0x3f)));
            i++;
            continue;
          }
        }
        nb.pushByte(b);
      }
      const h = sipHash24(this.k0, this.k1, nb.ptr, nb.length);
      out.pushByte(0x3a);
      for (let i = 0; i < 12; i++) {
        out.pushByte(<u8>hexDigit(<i32>((h >> (<u64>(44 - i * 4))) & 15)));
      }
    }
    out.pushByte(0x5d);
  }
}

function pushUpper(s: string, out: ByteBuffer): void {
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) c -= 0x20;
    out.pushByte(<u8>c);
  }
}

@inline function rotl(x: u64, b: u64): u64 {
  return (x << b) | (x >> (64 - b));
}

/** SipHash-2-4 (Aumasson & Bernstein) of bytes [p, p+n) under key (k0, k1). */
export function sipHash24(k0: u64, k1: u64, p: usize, n: i32): u64 {
  let v0: u64 = k0 ^ 0x736f6d6570736575;
  let v1: u64 = k1 ^ 0x646f72616e646f6d;
  let v2: u64 = k0 ^ 0x6c7967656e657261;
  let v3: u64 = k1 ^ 0x7465646279746573;
  const blocks = n >> 3;
  for (let i = 0; i < blocks; i++) {
    const m = load<u64>(p + <usize>(i << 3));
    v3 ^= m;
    for (let r = 0; r < 2; r++) {
      v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
      v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
      v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
      v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
    }
    v0 ^= m;
  }
  let b: u64 = (<u64>n) << 56;
  const tail = p + <usize>(blocks << 3);
  for (let i = 0; i < (n & 7); i++) {
    b |= (<u64>load<u8>(tail + <usize>i)) << (<u64>(i * 8));
  }
  v3 ^= b;
  for (let r = 0; r < 2; r++) {
    v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
    v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
    v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
    v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
  }
  v0 ^= b;
  v2 ^= 0xff;
  for (let r = 0; r < 4; r++) {
    v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
    v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
    v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
    v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
  }
  return v0 ^ v1 ^ v2 ^ v3;
}
