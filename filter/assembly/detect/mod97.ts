import { isDigit, isUpper } from "./char-class";

/**
 * ISO 7064 MOD 97-10 as ISO 13616 (IBAN) uses it, over `n` upper-case alphanumeric ASCII bytes
 * at `s` (separators already removed): the first four characters move to the end, letters
 * count as 10..35, and the remainder of the resulting number modulo 97 is returned (1 = valid).
 * Returns -1 when a byte is neither a digit nor an upper-case letter.
 */
export function ibanMod97(s: usize, n: i32): i32 {
  let r: u32 = 0;
  for (let k = 0; k < n; k++) {
    const c = <u32>load<u8>(s + <usize>((k + 4) % n));
    if (isDigit(c)) {
      r = (r * 10 + (c - 0x30)) % 97;
    } else if (isUpper(c)) {
      r = (r * 100 + (c - 0x41 + 10)) % 97;
    } else {
      return -1;
    }
  }
  return <i32>r;
}
