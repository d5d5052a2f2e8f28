import { isAlnum, isDigit, at, ascii, matchAt } from "./char-class";

export const SLACK_TOKEN_MAX_LEN: i32 = 255;
export const SLACK_WEBHOOK_MAX_LEN: i32 = 255;
const HOOKS = ascii("hooks.slack.com");
const SERVICES = ascii("services/");
const WORKFLOWS = ascii("workflows/");
const TRIGGERS = ascii("triggers/");
const HTTPS = ascii("https://");
const HTTP = ascii("http://");
const XAPP = ascii("xapp-");

/** Set by the matchers on success: start of the token or URL. */
export let slackStart: i32 = 0;

// @ts-ignore: decorator
@inline function isBody(c: u32): bool {
  return isAlnum(c) || c == 0x2d;
}

/**
 * Slack token at `s` (the 'x'): "xox" + one of b (bot), p (user), a (app), r (refresh),
 * s, e, o + '-', or "xapp-" (app-level), or the rotating "xoxe.xoxp-" form; then a body of
 * [A-Za-z0-9-] of at least 10 characters containing a digit; total <= 255; bounded by a
 * byte outside [A-Za-z0-9_-] on both sides (trailing dashes are not part of the token).
 * Returns the end offset and sets `slackStart`, or -1.
 */
export function matchSlackToken(p: usize, len: i32, s: i32): i32 {
  if (s > 0) {
    const b = at(p, len, s - 1);
    if (isAlnum(b) || b == 0x5f || b == 0x2d || b == 0x2e) return -1;
  }
  let bs = -1;
  if (at(p, len, s + 1) == 0x6f && at(p, len, s + 2) == 0x78) {
    let k = s + 3;
    if (at(p, len, k) == 0x65 && at(p, len, k + 1) == 0x2e && at(p, len, k + 2) == 0x78 && at(p, len, k + 3) == 0x6f && at(p, len, k + 4) == 0x78) {
      k += 5; // xoxe.xoxp-
    }
    const t = at(p, len, k);
    if ((t == 0x62 || t == 0x70 || t == 0x61 || t == 0x72 || t == 0x73 || t == 0x65 || t == 0x6f) && at(p, len, k + 1) == 0x2d) bs = k + 2;
  } else if (matchAt(p, len, s, XAPP, 5)) {
    bs = s + 5;
  }
  if (bs < 0) return -1;
  let e = bs;
  let digit = false;
  while (e < len && e - s <= SLACK_TOKEN_MAX_LEN && isBody(load<u8>(p + <usize>e))) {
    if (isDigit(load<u8>(p + <usize>e))) digit = true;
    e++;
  }
  if (e < len && at(p, len, e) == 0x5f) return -1;
  if (e - s > SLACK_TOKEN_MAX_LEN) return -1;
  while (e > bs && at(p, len, e - 1) == 0x2d) e--;
  if (e - bs < 10 || !digit) return -1;
  slackStart = s;
  return e;
}

/**
 * Slack incoming-webhook / workflow URL whose "/" after "hooks.slack.com" is at `slash`:
 * [http[s]://]hooks.slack.com/(services|workflows|triggers)/ followed by at least 20
 * characters of [A-Za-z0-9/_-] (services URLs: T.../B.../secret). The finding starts at the
 * scheme when present. Returns the end offset and sets `slackStart`, or -1.
 */
export function matchSlackWebhook(p: usize, len: i32, slash: i32): i32 {
  const hs = slash - 15;
  if (!matchAt(p, len, hs, HOOKS, 15)) return -1;
  let s = hs;
  if (matchAt(p, len, hs - 8, HTTPS, 8)) s = hs - 8;
  else if (matchAt(p, len, hs - 7, HTTP, 7)) s = hs - 7;
  else if (s > 0 && (isAlnum(at(p, len, s - 1)) || at(p, len, s - 1) == 0x2e)) return -1;
  let bs = slash + 1;
  if (matchAt(p, len, bs, SERVICES, 9)) bs += 9;
  else if (matchAt(p, len, bs, WORKFLOWS, 10)) bs += 10;
  else if (matchAt(p, len, bs, TRIGGERS, 9)) bs += 9;
  else return -1;
  let e = bs;
  while (e < len && e - s <= SLACK_WEBHOOK_MAX_LEN) {
    const c = <u32>load<u8>(p + <usize>e);
    if (isAlnum(c) || c == 0x2f || c == 0x5f || c == 0x2d) e++;
    else break;
  }
  while (e > bs && at(p, len, e - 1) == 0x2f) e--;
  if (e - bs < 20) return -1;
  slackStart = s;
  return e;
}
