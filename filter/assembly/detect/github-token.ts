import { isAlnum, at, ascii, matchAt } from "./char-class";

export const GITHUB_TOKEN_MAX_LEN: i32 = 255;
const GITHUB = ascii("github_pat_");

// @ts-ignore: decorator
@inline function isTokenByte(c: u32): bool {
  return isAlnum(c) || c == 0x5f;
}

/**
 * GitHub token whose '_' is at `u`. Returns the end offset and sets `githubStart`, or -1.
 *
 * Classic tokens: ghp_ (personal), gho_ (OAuth), ghu_ (user-to-server), ghs_ (server-to-server),
 * ghr_ (refresh) followed by at least 36 (at most 251) alphanumerics. Fine-grained personal
 * tokens: github_pat_ followed by at least 50 characters of [A-Za-z0-9_]. Both need a byte
 * outside [A-Za-z0-9_] on each side.
 */
export function matchGithubToken(p: usize, len: i32, u: i32): i32 {
  // classic: "gh?_" with the '_' at u
  const c = at(p, len, u - 1);
  if (u >= 3 && at(p, len, u - 3) == 0x67 && at(p, len, u - 2) == 0x68 &&
      (c == 0x70 || c == 0x6f || c == 0x75 || c == 0x73 || c == 0x72)) {
    const s = u - 3;
    if (s > 0 && isTokenByte(at(p, len, s - 1))) return -1;
    let e = u + 1;
    while (e < len && e - s <= GITHUB_TOKEN_MAX_LEN && isAlnum(load<u8>(p + <usize>e))) e++;
    const n = e - (u + 1);
    if (n < 36 || e - s > GITHUB_TOKEN_MAX_LEN) return -1;
    if (e < len && isTokenByte(at(p, len, e))) return -1;
    githubStart = s;
    return e;
  }
  // fine-grained: "github_pat_" with the first '_' at u
  if (u >= 6 && matchAt(p, len, u - 6, GITHUB, 11)) {
    const s = u - 6;
    if (s > 0 && isTokenByte(at(p, len, s - 1))) return -1;
    let e = s + 11;
    while (e < len && e - s <= GITHUB_TOKEN_MAX_LEN && isTokenByte(load<u8>(p + <usize>e))) e++;
    if (e - (s + 11) < 50 || e - s > GITHUB_TOKEN_MAX_LEN) return -1;
    githubStart = s;
    return e;
  }
  return -1;
}
export let githubStart: i32 = 0;
