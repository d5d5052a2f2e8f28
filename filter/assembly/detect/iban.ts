import { isDigit, isUpper, isAlnum, at } from "./char-class";
import { ibanMod97 } from "./mod97";

/** Longest IBAN (32 characters in the registry, 34 allowed by ISO 13616) plus 8 group spaces. */
export const IBAN_MAX_LEN: i32 = 34 + 8;

// ISO 13616 registry: country code -> total IBAN length. Indexed by (c0-'A')*26 + (c1-'A').
const LENGTHS = memory.data(26 * 26);

function reg(cc: string, n: i32): void {
  const a = cc.charCodeAt(0) - 0x41;
  const b = cc.charCodeAt(1) - 0x41;
  store<u8>(LENGTHS + <usize>(a * 26 + b), <u8>n);
}

function initRegistry(): void {
  reg("AD", 24); reg("AE", 23); reg("AL", 28); reg("AT", 20); reg("AZ", 28); reg("BA", 20);
  reg("BE", 16); reg("BG", 22); reg("BH", 22); reg("BI", 27); reg("BR", 29); reg("BY", 28);
  reg("CH", 21); reg("CR", 22); reg("CY", 28); reg("CZ", 24); reg("DE", 22); reg("DJ", 27);
  reg("DK", 18); reg("DO", 28); reg("EE", 20); reg("EG", 29); reg("ES", 24); reg("FI", 18);
  reg("FK", 18); reg("FO", 18); reg("FR", 27); reg("GB", 22); reg("GE", 22); reg("GI", 23);
  reg("GL", 18); reg("GR", 27); reg("GT", 28); reg("HN", 28); reg("HR", 21); reg("HU", 28);
  reg("IE", 22); reg("IL", 23); reg("IQ", 23); reg("IS", 26); reg("IT", 27); reg("JO", 30);
  reg("KW", 30); reg("KZ", 20); reg("LB", 28); reg("LC", 32); reg("LI", 21); reg("LT", 20);
  reg("LU", 20); reg("LV", 21); reg("LY", 25); reg("MC", 27); reg("MD", 24); reg("ME", 22);
  reg("MK", 19); reg("MN", 20); reg("MR", 27); reg("MT", 31); reg("MU", 30); reg("NI", 28);
  reg("NL", 18); reg("NO", 15); reg("OM", 23); reg("PK", 24); reg("PL", 28); reg("PS", 29);
  reg("PT", 25); reg("QA", 29); reg("RO", 24); reg("RS", 22); reg("RU", 33); reg("SA", 24);
  reg("SC", 31); reg("SD", 18); reg("SE", 24); reg("SI", 19); reg("SK", 24); reg("SM", 27);
  reg("SO", 23); reg("ST", 25); reg("SV", 28); reg("TL", 23); reg("TN", 24); reg("TR", 26);
  reg("UA", 29); reg("VA", 22); reg("VG", 24); reg("XK", 20); reg("YE", 30);
}
initRegistry();

/** Registered IBAN length for the country code at `c0 c1` (upper-case ASCII), or 0. */
export function ibanLength(c0: u32, c1: u32): i32 {
  if (!isUpper(c0) || !isUpper(c1)) return 0;
  return <i32>load<u8>(LENGTHS + <usize>((c0 - 0x41) * 26 + (c1 - 0x41)));
}

const COMPACT = memory.data(40);

/**
 * IBAN whose country code starts at `s` (two upper-case letters, then the two check digits).
 * Returns the end offset or -1.
 *
 * Precision rules: the country is in the ISO 13616 registry and the IBAN has exactly that
 * country's length; BBAN characters are upper-case letters or digits; written either compact or
 * in groups of four separated by single spaces (the last group shorter); mod-97 of the
 * rearranged number is 1; not embedded in an alphanumeric token.
 */
export function matchIban(p: usize, len: i32, s: i32): i32 {
  if (s > 0 && (isAlnum(at(p, len, s - 1)) || at(p, len, s - 1) == 0x5f)) return -1;
  const L = ibanLength(at(p, len, s), at(p, len, s + 1));
  if (L == 0) return -1;
  if (!isDigit(at(p, len, s + 2)) || !isDigit(at(p, len, s + 3))) return -1;
  const grouped = at(p, len, s + 4) == 0x20;
  let pos = s;
  let n = 0;
  while (n < L) {
    if (grouped && n > 0 && (n & 3) == 0) {
      if (at(p, len, pos) != 0x20) return -1;
      pos++;
    }
    const c = at(p, len, pos);
    if (!isDigit(c) && !isUpper(c)) return -1;
    store<u8>(COMPACT + <usize>n, <u8>c);
    n++;
    pos++;
  }
  const a = at(p, len, pos);
  if (pos < len && (isAlnum(a) || a == 0x5f)) return -1;
  return ibanMod97(COMPACT, L) == 1 ? pos : -1;
}
