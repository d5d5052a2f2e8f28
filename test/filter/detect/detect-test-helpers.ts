/** Shared helpers for the detector suites (not a test file). */
import type { DetectHarness, Finding } from '../../fixtures/detect-harness/load-harness.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Scans `text` and returns [detector, matched text] pairs in order. */
export function spans(h: DetectHarness, text: string): Array<[string, string]> {
  const b = enc.encode(text);
  return h.scan(b).map((f: Finding) => [f.detector, dec.decode(b.subarray(f.start, f.end))]);
}

/** Detector ids found in `text`. */
export function ids(h: DetectHarness, text: string): string[] {
  return h.scan(text).map((f) => f.detector);
}

/** Appends a Luhn check digit to `body` (digits only); shared with the benchmark corpus. */
export { withLuhn } from '../../bench/corpus.js';

/** Computes the two IBAN check digits for country `cc` and BBAN `bban` (ISO 7064 MOD 97-10). */
export function makeIban(cc: string, bban: string): string {
  const rearranged = bban + cc + '00';
  let r = 0;
  for (const ch of rearranged) {
    const v = /[0-9]/.test(ch) ? ch : String(ch.charCodeAt(0) - 55);
    for (const d of v) r = (r * 10 + Number(d)) % 97;
  }
  const check = String(98 - r).padStart(2, '0');
  return cc + check + bban;
}

/** Deterministic pseudo-random alphanumeric string. */
export function alnum(n: number, seed = 1): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let x = seed >>> 0 || 1;
  let s = '';
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    s += chars[x % chars.length];
  }
  return s;
}
