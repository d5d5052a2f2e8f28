/**
 * Decodes up to `maxOut` bytes of base64url (also accepts '+' and '/') from `n` characters at
 * `src` into `dst`; stops at the first byte outside the alphabet or at '='. Returns the
 * number of bytes written. Used only to peek into short JWT headers.
 */
export function base64urlDecode(src: usize, n: i32, dst: usize, maxOut: i32): i32 {
  let acc: u32 = 0;
  let bits = 0;
  let out = 0;
  for (let i = 0; i < n && out < maxOut; i++) {
    const c = <u32>load<u8>(src + <usize>i);
    let v: i32 = 0;
    if (c - 0x41 < 26) v = <i32>(c - 0x41);
    else if (c - 0x61 < 26) v = <i32>(c - 0x61) + 26;
    else if (c - 0x30 < 10) v = <i32>(c - 0x30) + 52;
    else if (c == 0x2d || c == 0x2b) v = 62;
    else if (c == 0x5f || c == 0x2f) v = 63;
    else break;
    acc = (acc << 6) | <u32>v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      store<u8>(dst + <usize>out, <u8>(acc >> <u32>bits));
      out++;
    }
  }
  return out;
}
