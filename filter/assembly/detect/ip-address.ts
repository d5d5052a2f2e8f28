import { isDigit, isAlnum, at, cls, C_HEX } from "./char-class";

export const IPV4_MAX_LEN: i32 = 15;
export const IPV6_MAX_LEN: i32 = 45;

/** Set by `matchIpv6` on success: the start of the address. */
export let ipv6Start: i32 = 0;
/** Set by `matchIpv6` (success or not): the end of the hex/colon token examined, to skip its other colons. */
export let ipv6TokenEnd: i32 = 0;

/**
 * Dotted quad at `s` without boundary checks: four decimal octets 0-255 without leading zeros
 * ("01" is not an octet). Returns the end offset or -1.
 */
export function parseDottedQuad(p: usize, len: i32, s: i32): i32 {
  let pos = s;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (at(p, len, pos) != 0x2e) return -1;
      pos++;
    }
    const os = pos;
    let v = 0;
    while (pos < len && pos - os < 4 && isDigit(load<u8>(p + <usize>pos))) {
      v = v * 10 + (<i32>load<u8>(p + <usize>pos) - 0x30);
      pos++;
    }
    const n = pos - os;
    if (n == 0 || n > 3 || v > 255) return -1;
    if (n > 1 && load<u8>(p + <usize>os) == 0x30) return -1;
  }
  return pos;
}

/**
 * IPv4 address starting at digit offset `s`. Returns the end offset or -1.
 * Precision rules: exactly four octets 0-255 without leading zeros; not part of a longer dotted
 * number (not preceded by '.', not followed by ".<digit>": 1.2.3.4.5 is a version string);
 * not a product version ("Chrome/120.0.0.0": preceded by '/' after an alphanumeric byte);
 * not embedded in an alphanumeric token.
 */
export function matchIpv4(p: usize, len: i32, s: i32): i32 {
  const b = at(p, len, s - 1);
  if (s > 0 && (isAlnum(b) || b == 0x2e || b == 0x5f)) return -1;
  // "Chrome/120.0.0.0", "pkg/1.2.3.4": a product token's version, not an address ("//host" stays)
  if (b == 0x2f && isAlnum(at(p, len, s - 2))) return -1;
  const e = parseDottedQuad(p, len, s);
  if (e < 0) return -1;
  const a = at(p, len, e);
  if (e < len && (isAlnum(a) || a == 0x5f)) return -1;
  if (a == 0x2e && isDigit(at(p, len, e + 1))) return -1;
  return e;
}

// @ts-ignore: decorator
@inline function isHex(c: u32): bool {
  return (cls(c) & C_HEX) != 0;
}

/**
 * IPv6 address whose token contains the ':' at `colon`. Returns the end offset and sets
 * `ipv6Start`, or returns -1; always sets `ipv6TokenEnd`.
 *
 * Accepted: eight 1-4 digit hex groups, or fewer with exactly one "::" (including "::1" and a
 * trailing "::"), optionally ending in a dotted quad that counts as two groups (::ffff:192.0.2.1).
 * Precision rules: the token contains at least one decimal digit (rejects C++/Rust paths such as
 * "Foo::Bar" and words like "dead::beef"); not preceded or followed by an alphanumeric byte,
 * '_' or ':' (times 12:30:45 and MAC addresses have too few groups and no "::"); not followed by
 * ".<digit>".
 */
export function matchIpv6(p: usize, len: i32, colon: i32): i32 {
  // token bounds over [0-9A-Fa-f:.]
  let s = colon;
  while (s > 0 && colon - s < IPV6_MAX_LEN && (isHex(load<u8>(p + <usize>(s - 1))) || load<u8>(p + <usize>(s - 1)) == 0x3a)) s--;
  let te = colon;
  while (te < len && te - s < IPV6_MAX_LEN + 2) {
    const c = <u32>load<u8>(p + <usize>te);
    if (isHex(c) || c == 0x3a || c == 0x2e) te++;
    else break;
  }
  ipv6TokenEnd = te;
  const b = at(p, len, s - 1);
  if (s > 0 && (isAlnum(b) || b == 0x5f || b == 0x3a || b == 0x2e)) return -1;
  let pos = s;
  let groups = 0;
  let dbl = false;
  let digit = false;
  if (at(p, len, pos) == 0x3a) {
    if (at(p, len, pos + 1) != 0x3a) return -1;
    dbl = true;
    pos += 2;
  }
  while (pos < len) {
    const hs = pos;
    while (pos < len && pos - hs < 5 && isHex(load<u8>(p + <usize>pos))) {
      if (isDigit(load<u8>(p + <usize>pos))) digit = true;
      pos++;
    }
    const n = pos - hs;
    if (n == 0) {
      if (!dbl || pos != hs) return -1;
      break; // "::" at the end
    }
    if (n > 4) return -1;
    if (at(p, len, pos) == 0x2e && isDigit(at(p, len, pos + 1))) {
      const e4 = parseDottedQuad(p, len, hs);
      if (e4 < 0 || groups > 6) return -1;
      groups += 2;
      pos = e4;
      digit = true;
      break;
    }
    groups++;
    if (at(p, len, pos) == 0x3a && at(p, len, pos + 1) == 0x3a) {
      if (dbl) return -1;
      dbl = true;
      pos += 2;
      continue;
    }
    if (at(p, len, pos) == 0x3a && isHex(at(p, len, pos + 1))) {
      pos++;
      continue;
    }
    break;
  }
  if (!digit) return -1;
  if (dbl ? groups > 7 : groups != 8) return -1;
  const a = at(p, len, pos);
  if (pos < len && (isAlnum(a) || a == 0x5f || a == 0x3a)) return -1;
  if (a == 0x2e && isDigit(at(p, len, pos + 1))) return -1;
  ipv6Start = s;
  return pos;
}
