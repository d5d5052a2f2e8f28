/**
 * Luhn (mod 10) check over the ASCII digits of [start, end), skipping any non-digit byte
 * (separators of a grouped card number). Returns false when there are no digits.
 */
export function luhnValid(p: usize, start: i32, end: i32): bool {
  let sum: u32 = 0;
  let dbl = false;
  let n = 0;
  for (let i = end - 1; i >= start; i--) {
    let d = <u32>load<u8>(p + <usize>i) - 0x30;
    if (d >= 10) continue;
    n++;
    if (dbl) {
      d <<= 1;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return n > 0 && sum % 10 == 0;
}
