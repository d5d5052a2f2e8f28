import { isAlnum, at, ascii, matchAt, cls, C_B64URL } from "./char-class";

export const OPENAI_KEY_MAX_LEN: i32 = 256;
const MARKER = ascii("T3BlbkFJ"); // base64 of "OpenAI"
const PROJ = ascii("proj-");
const SVCACCT = ascii("svcacct-");
const ADMIN = ascii("admin-");
const NONE = ascii("None-");
const ANT = ascii("ant-");

/**
 * OpenAI API key whose '-' (after "sk") is at `dash`. Returns the end offset and sets
 * `openaiStart`, or -1.
 *
 * Forms: "sk-proj-", "sk-svcacct-", "sk-admin-", "sk-None-" and legacy "sk-", followed by a
 * body of [A-Za-z0-9_-]. Accepted when the body contains the "T3BlbkFJ" marker (base64 "OpenAI")
 * and is >= 32 characters; or, for the prefixed forms, when the body is >= 40 characters; or,
 * for legacy keys, when the body is exactly 48 alphanumerics. Bounded by a byte outside
 * [A-Za-z0-9_-] on both sides. Stripe keys ("sk_") never reach here; Anthropic keys
 * ("sk-ant-") are excluded.
 */
export function matchOpenaiApiKey(p: usize, len: i32, dash: i32): i32 {
  if (dash < 2 || at(p, len, dash - 1) != 0x6b || at(p, len, dash - 2) != 0x73) return -1;
  const s = dash - 2;
  if (s > 0 && (cls(at(p, len, s - 1)) & C_B64URL) != 0) return -1;
  let bs = dash + 1;
  let prefixed = false;
  if (matchAt(p, len, bs, PROJ, 5)) { bs += 5; prefixed = true; }
  else if (matchAt(p, len, bs, SVCACCT, 8)) { bs += 8; prefixed = true; }
  else if (matchAt(p, len, bs, ADMIN, 6)) { bs += 6; prefixed = true; }
  else if (matchAt(p, len, bs, NONE, 5)) { bs += 5; prefixed = true; }
  else if (matchAt(p, len, bs, ANT, 4)) return -1;
  let e = bs;
  let alnumOnly = true;
  let marker = false;
  while (e < len && e - s <= OPENAI_KEY_MAX_LEN) {
    const c = <u32>load<u8>(p + <usize>e);
    if ((cls(c) & C_B64URL) == 0) break;
    if (!isAlnum(c)) alnumOnly = false;
    if (c == 0x54 && !marker && matchAt(p, len, e, MARKER, 8)) marker = true;
    e++;
  }
  if (e - s > OPENAI_KEY_MAX_LEN) return -1;
  const n = e - bs;
  let ok = false;
  if (marker && n >= 32) ok = true;
  else if (prefixed && n >= 40) ok = true;
  else if (!prefixed && n == 48 && alnumOnly) ok = true;
  if (!ok) return -1;
  openaiStart = s;
  return e;
}
export let openaiStart: i32 = 0;
