import { isAlnum, isDigit, isUpper, at, lower, ascii, matchLowerAt, cls, C_B64STD, isSpace } from "./char-class";

export const AWS_KEY_ID_LEN: i32 = 20;
export const AWS_SECRET_LEN: i32 = 40;
/** How far before a 40-character secret a context keyword is looked for (bytes). */
export const AWS_SECRET_CONTEXT_WINDOW: i32 = 64;

/**
 * AWS access key id at `s` (the 'A'): AKIA (long-term), ASIA (STS temporary), ABIA, ACCA or
 * A3T[A-Z0-9] prefix, then upper-case letters/digits to exactly 20 characters, with alphanumeric
 * boundaries on both sides. Returns the end offset or -1.
 */
export function matchAwsAccessKey(p: usize, len: i32, s: i32): i32 {
  if (s + AWS_KEY_ID_LEN > len) return -1;
  if (s > 0 && (isAlnum(at(p, len, s - 1)) || at(p, len, s - 1) == 0x2f || at(p, len, s - 1) == 0x2b)) return -1;
  const c1 = at(p, len, s + 1);
  const c2 = at(p, len, s + 2);
  const c3 = at(p, len, s + 3);
  let ok = false;
  if (c1 == 0x4b && c2 == 0x49 && c3 == 0x41) ok = true; // AKIA
  else if (c1 == 0x53 && c2 == 0x49 && c3 == 0x41) ok = true; // ASIA
  else if (c1 == 0x42 && c2 == 0x49 && c3 == 0x41) ok = true; // ABIA
  else if (c1 == 0x43 && c2 == 0x43 && c3 == 0x41) ok = true; // ACCA
  else if (c1 == 0x33 && c2 == 0x54 && (isUpper(c3) || isDigit(c3))) ok = true; // A3T?
  if (!ok) return -1;
  for (let k = 4; k < AWS_KEY_ID_LEN; k++) {
    const c = at(p, len, s + k);
    if (!isUpper(c) && !isDigit(c)) return -1;
  }
  const e = s + AWS_KEY_ID_LEN;
  if (e < len && (isAlnum(at(p, len, e)) || at(p, len, e) == 0x2f || at(p, len, e) == 0x2b)) return -1;
  return e;
}

/** Context keywords that announce a secret access key (lower-case, '_' also matches ' ' and '-'). */
export const AWS_SECRET_KEYWORDS: StaticArray<string> = [
  "aws_secret_access_key", "secret_access_key", "secretaccesskey", "aws_secret_key", "aws_secret",
];

/**
 * AWS secret access key following a context keyword that ends at `kwEnd`: after the keyword,
 * up to 24 bytes of quotes, spaces, '=', ':' and similar, then exactly 40 characters of
 * [A-Za-z0-9/+] with at least one digit and one letter of each case, bounded by a byte outside
 * that alphabet. Returns the end offset and sets `awsSecretStart`, or returns -1.
 */
export function matchAwsSecretAfter(p: usize, len: i32, kwEnd: i32): i32 {
  let i = kwEnd;
  const stop = min(len, kwEnd + 24);
  // skip the rest of an identifier (e.g. "AWS_SECRET_ACCESS_KEY_ID") and the assignment punctuation
  while (i < stop && (isAlnum(at(p, len, i)) || at(p, len, i) == 0x5f)) i++;
  while (i < stop) {
    const c = at(p, len, i);
    if (c == 0x3d || c == 0x3a || c == 0x22 || c == 0x27 || c == 0x60 || isSpace(c) || c == 0x2c || c == 0x3e) i++;
    else break;
  }
  if (i + AWS_SECRET_LEN > len) return -1;
  let up = false;
  let lo = false;
  let dg = false;
  for (let k = 0; k < AWS_SECRET_LEN; k++) {
    const c = at(p, len, i + k);
    if ((cls(c) & C_B64STD) == 0) return -1;
    if (isUpper(c)) up = true;
    else if (isDigit(c)) dg = true;
    else if (c - 0x61 < 26) lo = true;
  }
  const e = i + AWS_SECRET_LEN;
  if (e < len && ((cls(at(p, len, e)) & C_B64STD) != 0 || at(p, len, e) == 0x3d)) return -1;
  if (!(up && lo && dg)) return -1;
  awsSecretStart = i;
  return e;
}
export let awsSecretStart: i32 = 0;
