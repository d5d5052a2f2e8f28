import {
  DETECTOR_EMAIL, DETECTOR_PHONE, DETECTOR_CREDIT_CARD, DETECTOR_US_SSN, DETECTOR_IBAN, DETECTOR_IP_ADDRESS,
  DETECTOR_AWS_ACCESS_KEY, DETECTOR_GITHUB_TOKEN, DETECTOR_SLACK_TOKEN, DETECTOR_GOOGLE_API_KEY,
  DETECTOR_STRIPE_KEY, DETECTOR_OPENAI_API_KEY, DETECTOR_JWT, DETECTOR_PRIVATE_KEY, DETECTOR_PROMPT_INJECTION,
} from "./detector-ids";
import {
  cls, isAlnum, isDigit, isUpper, isLower, isSpace, lower, ascii, at, C_DIGIT, C_NUMSEP, C_EMAIL_LOCAL, C_HEX,
  C_B64URL, C_ALNUM, C_B64STD,
} from "./char-class";
import { EMAIL_MAX_LEN } from "./email";
import { ibanLength, IBAN_MAX_LEN } from "./iban";
import { IPV6_MAX_LEN } from "./ip-address";
import { JWT_MAX_LEN } from "./jwt";
import { GITHUB_TOKEN_MAX_LEN } from "./github-token";
import { SLACK_TOKEN_MAX_LEN, SLACK_WEBHOOK_MAX_LEN } from "./slack-token";
import { STRIPE_KEY_MAX_LEN } from "./stripe-key";
import { OPENAI_KEY_MAX_LEN } from "./openai-api-key";
import { matchPrivateKey, pemTerminated, PEM_BEGIN_MAX_LEN } from "./private-key";
import { AWS_SECRET_LEN } from "./aws-access-key";
import { matchPhrase, phrasePatternCount, phraseAnchorCount, phraseAnchor, PHRASE_MAX_LEN, unicodeKind, U_NONE } from "./prompt-injection";
import { Scanner } from "./scanner";

/** Longest numeric token (phone / card / SSN / IPv4) including separators. */
export const NUMERIC_MAX_LEN: i32 = 40;
/**
 * Longest unterminated PEM block held back (bytes): an 8192-bit RSA key is about 6.4 KiB. The
 * bound caps the re-scan work per streamed piece. An open block that grows past it has been
 * reported (BEGIN to the end of the scanned text) and is then released; bytes after that point
 * are no longer private_key findings (an integrator that wants to keep redacting keeps its own
 * "inside a key" state).
 */
export const PEM_MAX_HOLD: i32 = 16 * 1024;
/** Longest invisible-character run held back (bytes). */
export const UNICODE_RUN_MAX_HOLD: i32 = 256;
/**
 * Bytes of already-reported text a stream carry keeps in front of the held-back part as
 * look-behind context (word boundaries, "ssn"/"aws_secret_access_key" context keywords).
 */
export const LOOKBEHIND_BYTES: i32 = 128;

/** Upper bound of `len - holdBack()` for any input (the PEM bound dominates). */
export const MAX_HOLD_BACK: i32 = PEM_MAX_HOLD;

const PFX_HTTPS = ascii("https://hooks.slack.com/");
const PFX_HTTP = ascii("http://hooks.slack.com/");
const PFX_HOOKS = ascii("hooks.slack.com/");
const PFX_BEGIN = ascii("-----BEGIN ");
const PFX_GHP = ascii("ghp_");
const PFX_GHO = ascii("gho_");
const PFX_GHU = ascii("ghu_");
const PFX_GHS = ascii("ghs_");
const PFX_GHR = ascii("ghr_");
const PFX_GHPAT = ascii("github_pat_");
const PFX_SKL = ascii("sk_live_");
const PFX_SKT = ascii("sk_test_");
const PFX_RKL = ascii("rk_live_");
const PFX_RKT = ascii("rk_test_");
const PFX_SK = ascii("sk-");
const PFX_XOX = ascii("xox");
const PFX_XAPP = ascii("xapp-");
const PFX_AIZA = ascii("AIza");
const PFX_EYJ = ascii("eyJ");
const PFX_AKIA = ascii("AKIA");
const PFX_ASIA = ascii("ASIA");
const PFX_ABIA = ascii("ABIA");
const PFX_ACCA = ascii("ACCA");
const PFX_A3T = ascii("A3T");

/**
 * True when the bytes [q, len) could be the beginning of something that starts with the
 * literal `lit` and continues with bytes of class `body`, within `maxLen` bytes in all.
 */
function viable(p: usize, len: i32, q: i32, lit: usize, litLen: i32, body: u16, maxLen: i32): bool {
  const n = len - q;
  if (n > maxLen) return false;
  const k = min(n, litLen);
  for (let i = 0; i < k; i++) if (load<u8>(p + <usize>(q + i)) != load<u8>(lit + <usize>i)) return false;
  for (let i = q + k; i < len; i++) if ((cls(load<u8>(p + <usize>i)) & body) == 0) return false;
  return true;
}

/** Start of the run of bytes that are in `mask` (or equal `extra`) ending at `len`, at most `maxBack` long. */
function tailRun(p: usize, len: i32, mask: u16, extra: u32, extra2: u32, maxBack: i32): i32 {
  let s = len;
  const stop = max(0, len - maxBack);
  while (s > stop) {
    const c = <u32>load<u8>(p + <usize>(s - 1));
    if ((cls(c) & mask) != 0 || c == extra || c == extra2) s--;
    else break;
  }
  return s;
}

/**
 * The hold-back point (see Scanner.holdBack): the minimum over the enabled detectors of the
 * earliest offset where a match could start that bytes after `len` could still complete,
 * extend or invalidate:
 * - an incomplete UTF-8 sequence at the end;
 * - numeric detectors: the first digit, '+' or '(' of the trailing run of digits and separators
 *   (<= 40 bytes);
 * - email: the trailing run of local-part/domain characters and '@' (<= 318 bytes);
 * - iban: the first upper-case letter of the trailing [A-Z0-9 ] run that is a viable IBAN prefix;
 * - ip_address (v6): the trailing run of hex digits, ':' and '.' (<= 46 bytes) when it holds a ':';
 * - token detectors: the start of the trailing token run when it is a viable prefix of the
 *   token's literal prefix (AKIA.., ghp_.., xox.., AIza.., sk_live_.., sk-.., eyJ..) within the
 *   token's maximum length;
 * - aws secret keys: the trailing base64 run (<= 40) after a context keyword;
 * - private_key: an unterminated "-----BEGIN ... PRIVATE KEY-----" within the last 16 KiB, or a
 *   viable prefix of such a header line;
 * - prompt_injection: a trailing run of invisible characters (<= 256 bytes), or a phrase that
 *   is still matching when the text ends;
 * - keywords: a proper prefix of a term (or a word-boundary term ending exactly at `len`).
 * Runs longer than a detector's maximum are cut to it (a longer run cannot hold a match that
 * needs a boundary before it).
 */
export function holdBackPoint(sc: Scanner, en: u32, custom: bool, p: usize, len: i32): i32 {
  if (len <= 0) return 0;
  let h = len;
  // incomplete UTF-8 sequence
  for (let k = 1; k <= 3 && k <= len; k++) {
    const c = <u32>load<u8>(p + <usize>(len - k));
    if (c < 0x80) break;
    if (c >= 0xc0) {
      const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      if (need > k) h = len - k;
      break;
    }
  }
  // numeric family
  if (en & ((1 << DETECTOR_PHONE) | (1 << DETECTOR_CREDIT_CARD) | (1 << DETECTOR_US_SSN) | (1 << DETECTOR_IP_ADDRESS))) {
    const s = tailRun(p, len, C_DIGIT | C_NUMSEP, 0, 0, NUMERIC_MAX_LEN);
    for (let i = s; i < len; i++) {
      const c = <u32>load<u8>(p + <usize>i);
      if (isDigit(c) || c == 0x2b || c == 0x28) {
        if (i < h) h = i;
        break;
      }
    }
  }
  if (en & (1 << DETECTOR_EMAIL)) {
    const s = tailRun(p, len, C_EMAIL_LOCAL, 0x40, 0, EMAIL_MAX_LEN);
    // skip leading punctuation: the address starts at an alphanumeric byte
    let i = s;
    while (i < len && !isAlnum(load<u8>(p + <usize>i))) i++;
    if (i < len && i < h) h = i;
  }
  if (en & (1 << DETECTOR_IBAN)) {
    const s = tailRun(p, len, C_DIGIT, 0x20, 0, IBAN_MAX_LEN);
    const s2 = tailRunUpperDigitSpace(p, len, IBAN_MAX_LEN);
    const from = min(s, s2);
    for (let i = from; i < len; i++) {
      if (i < h && ibanViable(p, len, i)) {
        h = i;
        break;
      }
    }
  }
  if (en & (1 << DETECTOR_IP_ADDRESS)) {
    const s = tailRun(p, len, C_HEX, 0x3a, 0x2e, IPV6_MAX_LEN + 1);
    let colon = false;
    for (let i = s; i < len; i++) if (load<u8>(p + <usize>i) == 0x3a) colon = true;
    if (colon && s < h) h = s;
  }
  // tokens: each can only start where its run starts (the byte before is outside its alphabet)
  if (en & (1 << DETECTOR_AWS_ACCESS_KEY)) {
    const s = tailRun(p, len, C_ALNUM, 0x2f, 0x2b, 21);
    if (s < h && (viable(p, len, s, PFX_AKIA, 4, C_ALNUM, 20) || viable(p, len, s, PFX_ASIA, 4, C_ALNUM, 20) ||
        viable(p, len, s, PFX_ABIA, 4, C_ALNUM, 20) || viable(p, len, s, PFX_ACCA, 4, C_ALNUM, 20) ||
        viable(p, len, s, PFX_A3T, 3, C_ALNUM, 20))) h = s;
  }
  if (en & (1 << DETECTOR_GOOGLE_API_KEY)) {
    const s = tailRun(p, len, C_B64URL, 0, 0, 40);
    if (s < h && viable(p, len, s, PFX_AIZA, 4, C_B64URL, 39)) h = s;
  }
  if (en & ((1 << DETECTOR_GITHUB_TOKEN) | (1 << DETECTOR_STRIPE_KEY))) {
    const s = tailRun(p, len, C_ALNUM, 0x5f, 0, GITHUB_TOKEN_MAX_LEN + 1);
    const m = C_ALNUM;
    if (s < h && (en & (1 << DETECTOR_GITHUB_TOKEN)) && (viable(p, len, s, PFX_GHP, 4, m, 255) || viable(p, len, s, PFX_GHO, 4, m, 255) ||
        viable(p, len, s, PFX_GHU, 4, m, 255) || viable(p, len, s, PFX_GHS, 4, m, 255) || viable(p, len, s, PFX_GHR, 4, m, 255) ||
        viable(p, len, s, PFX_GHPAT, 11, m | 0, 255) || viableUnderscore(p, len, s, PFX_GHPAT, 11, 255))) h = s;
    if (s < h && (en & (1 << DETECTOR_STRIPE_KEY)) && (viable(p, len, s, PFX_SKL, 8, m, STRIPE_KEY_MAX_LEN) ||
        viable(p, len, s, PFX_SKT, 8, m, STRIPE_KEY_MAX_LEN) || viable(p, len, s, PFX_RKL, 8, m, STRIPE_KEY_MAX_LEN) ||
        viable(p, len, s, PFX_RKT, 8, m, STRIPE_KEY_MAX_LEN))) h = s;
  }
  if (en & (1 << DETECTOR_OPENAI_API_KEY)) {
    const s = tailRun(p, len, C_B64URL, 0, 0, OPENAI_KEY_MAX_LEN + 1);
    if (s < h && viable(p, len, s, PFX_SK, 3, C_B64URL, OPENAI_KEY_MAX_LEN)) h = s;
  }
  if (en & (1 << DETECTOR_SLACK_TOKEN)) {
    const s = tailRun(p, len, C_B64URL, 0x2e, 0, SLACK_TOKEN_MAX_LEN + 1);
    if (s < h && (viable(p, len, s, PFX_XOX, 3, C_B64URL | 0, SLACK_TOKEN_MAX_LEN) || viableDot(p, len, s) ||
        viable(p, len, s, PFX_XAPP, 5, C_B64URL, SLACK_TOKEN_MAX_LEN))) h = s;
    const u2 = tailRunUrl(p, len, SLACK_WEBHOOK_MAX_LEN + 1);
    for (let i = u2; i < h && i < len; i++) {
      if (i > u2 && isAlnum(load<u8>(p + <usize>(i - 1)))) continue;
      if (viableUrl(p, len, i, PFX_HTTPS, 24) || viableUrl(p, len, i, PFX_HTTP, 23) || viableUrl(p, len, i, PFX_HOOKS, 16)) {
        h = i;
        break;
      }
    }
  }
  if (en & (1 << DETECTOR_JWT)) {
    const s = tailRun(p, len, C_B64URL, 0x2e, 0, JWT_MAX_LEN + 1);
    if (s < h && viableJwt(p, len, s)) h = s;
  }
  if ((en & (1 << DETECTOR_AWS_ACCESS_KEY)) && sc.awsSecret) {
    const s = tailRun(p, len, C_B64STD, 0, 0, AWS_SECRET_LEN + 1);
    if (s < len && s < h && len - s <= AWS_SECRET_LEN && awsContextBefore(sc, p, len, s)) h = s;
  }
  if (en & (1 << DETECTOR_PRIVATE_KEY)) {
    const ph = pemHold(p, len);
    if (ph < h) h = ph;
  }
  if (en & (1 << DETECTOR_PROMPT_INJECTION)) {
    // trailing run of invisible characters (before any incomplete sequence at the very end)
    let s = h < len && len - h <= 3 ? h : len;
    while (s >= 3 && len - s < UNICODE_RUN_MAX_HOLD) {
      if (s >= 4 && unicodeKind(p, s, s - 4) != U_NONE) s -= 4;
      else if (unicodeKind(p, s, s - 3) != U_NONE) s -= 3;
      else break;
    }
    if (s < h) h = s;
    const ph = phraseHold(p, len);
    if (ph < h) h = ph;
  }
  if (sc.keywords.termCount > 0 && (custom || (en & ((1 << DETECTOR_PROMPT_INJECTION) | (1 << DETECTOR_AWS_ACCESS_KEY))) != 0)) {
    const kh = sc.keywords.holdBack(p, len);
    if (kh < h) h = kh;
  }
  return h;
}

function tailRunUpperDigitSpace(p: usize, len: i32, maxBack: i32): i32 {
  let s = len;
  const stop = max(0, len - maxBack);
  while (s > stop) {
    const c = <u32>load<u8>(p + <usize>(s - 1));
    if (isUpper(c) || isDigit(c) || c == 0x20) s--;
    else break;
  }
  return s;
}

function tailRunUrl(p: usize, len: i32, maxBack: i32): i32 {
  let s = len;
  const stop = max(0, len - maxBack);
  while (s > stop) {
    const c = <u32>load<u8>(p + <usize>(s - 1));
    if (isAlnum(c) || c == 0x2f || c == 0x2e || c == 0x3a || c == 0x5f || c == 0x2d) s--;
    else break;
  }
  return s;
}

/** IBAN prefix at `q`: CC, check digits, then BBAN characters compact or in groups of 4, within the country's length. */
function ibanViable(p: usize, len: i32, q: i32): bool {
  if (q > 0 && (isAlnum(load<u8>(p + <usize>(q - 1))) || load<u8>(p + <usize>(q - 1)) == 0x5f)) return false;
  const c0 = <u32>load<u8>(p + <usize>q);
  if (!isUpper(c0)) return false;
  if (q + 1 >= len) return true;
  const c1 = <u32>load<u8>(p + <usize>(q + 1));
  const L = ibanLength(c0, c1);
  if (L == 0) return false;
  let n = 2;
  let i = q + 2;
  let grouped = false;
  let spaced = false;
  while (i < len) {
    const c = <u32>load<u8>(p + <usize>i);
    if (n == 4 && !grouped && c == 0x20) {
      grouped = true;
      spaced = true;
      i++;
      continue;
    }
    if (grouped && !spaced && (n & 3) == 0) {
      if (c != 0x20) return false;
      spaced = true;
      i++;
      continue;
    }
    spaced = false;
    if (n < 4 ? !isDigit(c) : !(isDigit(c) || isUpper(c))) return false;
    n++;
    i++;
    if (n > L) return false;
  }
  return true; // includes n == L: the next byte decides the boundary
}

function viableUnderscore(p: usize, len: i32, q: i32, lit: usize, litLen: i32, maxLen: i32): bool {
  return viable(p, len, q, lit, litLen, C_ALNUM, maxLen) || (len - q > litLen && viableWithUnderscore(p, len, q, lit, litLen, maxLen));
}
function viableWithUnderscore(p: usize, len: i32, q: i32, lit: usize, litLen: i32, maxLen: i32): bool {
  if (len - q > maxLen) return false;
  for (let i = 0; i < litLen; i++) if (load<u8>(p + <usize>(q + i)) != load<u8>(lit + <usize>i)) return false;
  for (let i = q + litLen; i < len; i++) {
    const c = <u32>load<u8>(p + <usize>i);
    if (!isAlnum(c) && c != 0x5f) return false;
  }
  return true;
}

function viableDot(p: usize, len: i32, q: i32): bool {
  // "xoxe.xoxp-..."
  return len - q > 4 && load<u8>(p + <usize>q) == 0x78 && load<u8>(p + <usize>(q + 1)) == 0x6f && load<u8>(p + <usize>(q + 2)) == 0x78 &&
    load<u8>(p + <usize>(q + 3)) == 0x65 && load<u8>(p + <usize>(q + 4)) == 0x2e && len - q <= SLACK_TOKEN_MAX_LEN;
}

function viableUrl(p: usize, len: i32, q: i32, lit: usize, litLen: i32): bool {
  const n = len - q;
  if (n > SLACK_WEBHOOK_MAX_LEN) return false;
  const k = min(n, litLen);
  for (let i = 0; i < k; i++) if (load<u8>(p + <usize>(q + i)) != load<u8>(lit + <usize>i)) return false;
  return true;
}

function viableJwt(p: usize, len: i32, s: i32): bool {
  if (len - s > JWT_MAX_LEN) return false;
  const k = min(len - s, 3);
  for (let i = 0; i < k; i++) if (load<u8>(p + <usize>(s + i)) != load<u8>(PFX_EYJ + <usize>i)) return false;
  // at most two dots so far, and the payload (if started) must start with eyJ
  let dots = 0;
  for (let i = s; i < len; i++) {
    if (load<u8>(p + <usize>i) == 0x2e) {
      dots++;
      if (dots > 2) return false;
      if (dots == 1) {
        const r = len - (i + 1);
        const m = min(r, 3);
        for (let j = 0; j < m; j++) if (load<u8>(p + <usize>(i + 1 + j)) != load<u8>(PFX_EYJ + <usize>j)) return false;
      }
    }
  }
  return true;
}

function awsContextBefore(sc: Scanner, p: usize, len: i32, s: i32): bool {
  // a context keyword must end within 24 + 21 bytes before the secret; look for "secret" words
  const from = max(0, s - 64);
  for (let i = from; i + 6 <= s; i++) {
    if (lower(load<u8>(p + <usize>i)) == 0x73 && lower(load<u8>(p + <usize>(i + 1))) == 0x65 &&
        lower(load<u8>(p + <usize>(i + 2))) == 0x63 && lower(load<u8>(p + <usize>(i + 3))) == 0x72 &&
        lower(load<u8>(p + <usize>(i + 4))) == 0x65 && lower(load<u8>(p + <usize>(i + 5))) == 0x74) return true;
  }
  return false;
}

function pemHold(p: usize, len: i32): i32 {
  // viable prefix of a BEGIN line in the tail
  const tailFrom = max(0, len - PEM_BEGIN_MAX_LEN);
  let h = len;
  for (let i = tailFrom; i < len; i++) {
    if (load<u8>(p + <usize>i) != 0x2d) continue;
    const n = len - i;
    if (n <= 11) {
      if (viable(p, len, i, PFX_BEGIN, 11, 0, 11)) {
        h = i;
        break;
      }
    } else if (headerInProgress(p, len, i)) {
      h = i;
      break;
    }
  }
  // an unterminated block within the window
  const from = max(0, len - PEM_MAX_HOLD);
  for (let i = from; i + 11 <= len && i < h; i++) {
    if (load<u8>(p + <usize>i) != 0x2d) continue;
    if (load<u32>(p + <usize>i) != 0x2d2d2d2d || load<u8>(p + <usize>(i + 5)) != 0x42) continue;
    const e = matchPrivateKey(p, len, i);
    if (e < 0) continue;
    if (!pemTerminated) return i;
    i = e - 1;
  }
  return h;
}

/** "-----BEGIN " followed by an incomplete header line ([A-Z ]* without the closing dashes). */
function headerInProgress(p: usize, len: i32, i: i32): bool {
  for (let k = 0; k < 11; k++) if (load<u8>(p + <usize>(i + k)) != load<u8>(PFX_BEGIN + <usize>k)) return false;
  for (let k = i + 11; k < len; k++) {
    const c = <u32>load<u8>(p + <usize>k);
    if (!isUpper(c) && c != 0x20 && c != 0x2d) return false;
  }
  return len - i < PEM_BEGIN_MAX_LEN;
}

const ANCHOR_FIRST = memory.data(256);
const ANCHOR_SCRATCH = memory.data(64);
let anchorInit = false;

function phraseHold(p: usize, len: i32): i32 {
  const np = phrasePatternCount();
  if (!anchorInit) {
    anchorInit = true;
    // first bytes of all anchors
    for (let pi = 0; pi < np; pi++) {
      const na = phraseAnchorCount(pi);
      for (let k = 0; k < na; k++) {
        if (phraseAnchor(pi, k, ANCHOR_SCRATCH) > 0) store<u8>(ANCHOR_FIRST + <usize>load<u8>(ANCHOR_SCRATCH), 1);
      }
    }
  }
  const from = max(0, len - PHRASE_MAX_LEN);
  for (let q = from; q < len; q++) {
    const c = lower(load<u8>(p + <usize>q));
    if (load<u8>(ANCHOR_FIRST + <usize>c) == 0) continue;
    if (q > 0 && (isUpper(load<u8>(p + <usize>(q - 1))) || isLower(load<u8>(p + <usize>(q - 1))))) continue;
    for (let pi = 0; pi < np; pi++) {
      if (matchPhrase(p, len, q, pi, true) == -2) return q;
    }
  }
  return len;
}
