/**
 * The meshward detectors written as JavaScript RegExps plus JS validation (Luhn, ISO 13616
 * mod-97, SSN rules, IP octets, JWT header decoding). The benchmark baseline the wasm scanner
 * must beat; the rules follow filter/assembly/detect as closely as RegExps allow.
 *
 * Offsets are UTF-16 code-unit offsets into the scanned string (JS strings), not bytes.
 */
import { isIPv6 } from 'node:net';

export interface RegexFinding {
  detector: string;
  start: number;
  end: number;
}

export interface RegexDetectorOptions {
  /** Detector ids to enable (default: all built-ins). */
  enabled?: readonly string[];
  /** Custom keyword terms, matched case-insensitively on word boundaries. */
  keywords?: readonly string[];
}

export interface RegexDetectors {
  /** Finds, validates and resolves overlaps (union, highest priority wins). */
  scan(text: string): RegexFinding[];
}

const PRIORITY: Record<string, number> = {
  email: 60, phone: 20, credit_card: 50, us_ssn: 40, iban: 45, ip_address: 30, aws_access_key: 80, github_token: 80,
  slack_token: 80, google_api_key: 80, stripe_key: 80, openai_api_key: 80, jwt: 90, private_key: 100,
  prompt_injection: 10, custom: 70,
};

const IBAN_LENGTHS: Record<string, number> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21, CR: 22, CY: 28,
  CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23,
  GL: 18, GR: 27, GT: 28, HN: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28,
  LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28,
  NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31, SD: 18, SE: 24,
  SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
};

export function luhn(digits: string): boolean {
  let sum = 0;
  let dbl = false;
  let n = 0;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) continue;
    n++;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    dbl = !dbl;
  }
  return n > 0 && sum % 10 === 0;
}

export function ibanValid(compact: string): boolean {
  if (IBAN_LENGTHS[compact.slice(0, 2)] !== compact.length) return false;
  const s = compact.slice(4) + compact.slice(0, 4);
  let r = 0;
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (c >= 48 && c <= 57) r = (r * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) r = (r * 100 + (c - 55)) % 97;
    else return false;
  }
  return r === 1;
}

function issuer(d: string): boolean {
  const n = d.length;
  const p2 = Number(d.slice(0, 2));
  const p3 = Number(d.slice(0, 3));
  const p4 = Number(d.slice(0, 4));
  const p6 = Number(d.slice(0, 6));
  if (d[0] === '4') return n === 13 || n === 16 || n === 19;
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n === 16;
  if (p2 === 34 || p2 === 37) return n === 15;
  if (p4 === 6011 || (p3 >= 644 && p3 <= 649) || p2 === 65 || (p6 >= 622126 && p6 <= 622925)) return n >= 16 && n <= 19;
  if (p4 >= 3528 && p4 <= 3589) return n >= 16 && n <= 19;
  if ((p3 >= 300 && p3 <= 305) || p4 === 3095 || p2 === 36 || p2 === 38 || p2 === 39) return n >= 14 && n <= 19;
  if (p2 === 62 || p2 === 81) return n >= 16 && n <= 19;
  return false;
}

type Rule = { id: string; re: RegExp; valid?: (m: RegExpExecArray) => boolean; group?: number };

const digitsOf = (s: string): string => s.replace(/\D/g, '');

const RULES: Rule[] = [
  {
    id: 'private_key',
    re: /-----BEGIN ((?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY|PGP PRIVATE KEY BLOCK)-----[\s\S]*?(?:-----END \1-----|$(?![\s\S]))/g,
  },
  {
    id: 'jwt',
    re: /(?<![\w.-])eyJ[\w-]{7,}\.eyJ[\w-]+\.[\w-]*(?![\w-]|\.[\w-])/g,
    valid: (m) => Buffer.from(m[0].slice(0, m[0].indexOf('.')), 'base64url').toString('latin1').includes('"alg"'),
  },
  { id: 'aws_access_key', re: /(?<![A-Za-z0-9/+])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}(?![A-Za-z0-9/+])/g },
  {
    id: 'aws_access_key',
    re: /(?:secret_access_key|secretaccesskey|secret access key|aws_secret)\w*["'`\s:=,>]{0,24}([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/gi,
    group: 1,
    valid: (m) => /[a-z]/.test(m[1]!) && /[A-Z]/.test(m[1]!) && /\d/.test(m[1]!),
  },
  { id: 'github_token', re: /(?<!\w)(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_\w{50,244})(?!\w)/g },
  {
    id: 'slack_token',
    re: /(?<![\w.-])(?:xox[bparseo]-|xoxe\.xox[bparseo]-|xapp-)(?=[A-Za-z0-9-]*\d)[A-Za-z0-9-]{10,}(?![\w])/g,
  },
  { id: 'slack_token', re: /(?:https?:\/\/)?(?<![\w.])hooks\.slack\.com\/(?:services|workflows|triggers)\/[\w/-]{20,}/g },
  { id: 'google_api_key', re: /(?<![\w-])AIza[\w-]{35}(?![\w-])/g },
  { id: 'stripe_key', re: /(?<!\w)[sr]k_(?:live|test)_[A-Za-z0-9]{16,247}(?!\w)/g },
  {
    id: 'openai_api_key',
    re: /(?<![\w-])sk-(?!ant-)(proj-|svcacct-|admin-|None-)?([\w-]{20,})(?![\w-])/g,
    valid: (m) => (m[2]!.includes('T3BlbkFJ') && m[2]!.length >= 32) || (!!m[1] && m[2]!.length >= 40) || (!m[1] && /^[A-Za-z0-9]{48}$/.test(m[2]!)),
  },
  {
    id: 'email',
    re: /(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]+)(?![\w@-])/g,
    valid: (m) => !/^\.|\.\.|\.@/.test(m[0]) && !/\.(png|jpe?g|gif|svg|webp|css|js|ts|json|html?)$/i.test(m[0]),
  },
  {
    id: 'credit_card',
    re: /(?<![\w.,])(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{1,4}(?:\1\d{1,3})?|\d{4}([ -])\d{6}\2\d{4,5})(?![\w]|[.,]\d|[ -]\d)/g,
    valid: (m) => luhn(m[0]) && issuer(digitsOf(m[0])),
  },
  {
    id: 'iban',
    re: /(?<!\w)[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)(?!\w)/g,
    valid: (m) => ibanValid(m[0].replace(/ /g, '')),
  },
  {
    id: 'us_ssn',
    re: /(?<![\w.-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\w]|[- .]\d)/g,
  },
  {
    id: 'us_ssn',
    re: /(?:\bssn\b|social security|soc sec)[^\n]{0,40}?(?<![\w.-])((?!000|666|9\d\d)\d{3}(?!00)\d{2}(?!0000)\d{4})(?!\w)/gi,
    group: 1,
  },
  {
    id: 'ip_address',
    re: /(?<![\w.]|\w\/)(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\w]|\.\d)/g,
  },
  {
    id: 'ip_address',
    re: /(?<![\w:.])(?:[0-9A-Fa-f]{1,4}|:)?(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.\d{1,3}){0,3}(?![\w:])/g,
    valid: (m) => isIPv6(m[0]) && /\d/.test(m[0]),
  },
  {
    id: 'phone',
    re: /(?<![\w+])\+[1-9][\d ().-]{6,22}\d(?!\w)/g,
    valid: (m) => {
      const d = digitsOf(m[0].replace('(0)', ''));
      return d.length >= 8 && d.length <= 15;
    },
  },
  { id: 'phone', re: /(?<![\w.+])(?:1([-. ]))?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}([-. ]))\d{3}[-. ]\d{4}(?![\w]|[-. ]\d)/g },
  {
    id: 'phone',
    re: /(?<![\w.+])\(?0[1-9]\d{0,4}\)?[ /.-]\d{2,8}(?:[ .-]\d{2,8}){0,3}(?![\w]|[ .-]\d)/g,
    valid: (m) => {
      const d = digitsOf(m[0]).length;
      return d >= 10 && d <= 12;
    },
  },
  {
    id: 'prompt_injection',
    re: /(?<![a-z])(?:ignore\s+(?:(?:all|any|every)\s+)?(?:of\s+)?(?:(?:the|your|my|these|those)\s+)?(?:previous|prior|above|earlier|preceding|former|system|original)\s+(?:instructions?|prompts?|directions|rules|guidelines|commands|context|messages)|disregard\s+(?:(?:all|any)\s+)?(?:(?:the|your)\s+)?(?:previous|prior|above|earlier|preceding|system|original)(?:\s+(?:instructions?|prompts?|rules|guidelines|messages|text))?|forget\s+(?:(?:all|everything)\s+)?(?:(?:the|your)\s+)?(?:previous|prior|above|earlier|original|system)\s+(?:instructions?|prompts?|rules|context)|you\s+are\s+now\s+(?:dan|in\s+developer\s+mode|jailbroken|unrestricted)|do\s+anything\s+now|system\s+prompt\s*:|(?:reveal|show|print|display|repeat|leak)\s+(?:me\s+)?(?:your|the)\s+(?:(?:full|entire|original|hidden|initial|secret)\s+)?(?:system\s+prompt|system\s+message|initial\s+prompt|hidden\s+instructions|instructions)|(?:enable|activate|enter)\s+(?:developer|dev|god|jailbreak|dan)\s+mode|<\|im_start\|>system|<<sys>>)(?![a-z])/gi,
  },
  { id: 'prompt_injection', re: /[\u{E0000}-\u{E007F}]+/gu },
  { id: 'prompt_injection', re: /[\u202A-\u202E\u2066-\u2069]+/g },
  { id: 'prompt_injection', re: /[\u200B-\u200D\u2060\uFEFF]{3,}/g },
];

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Builds the RegExp detector set. */
export function createRegexDetectors(options: RegexDetectorOptions = {}): RegexDetectors {
  const enabled = new Set(options.enabled ?? Object.keys(PRIORITY).filter((k) => k !== 'custom'));
  const rules = RULES.filter((r) => enabled.has(r.id)).map((r) => ({ ...r, re: new RegExp(r.re.source, r.re.flags) }));
  if (options.keywords && options.keywords.length > 0) {
    const alt = [...options.keywords].sort((a, b) => b.length - a.length).map(escapeRe).join('|');
    rules.push({ id: 'custom', re: new RegExp(`(?<![\\w])(?:${alt})(?![\\w])`, 'gi') });
  }
  return {
    scan(text: string): RegexFinding[] {
      const found: RegexFinding[] = [];
      for (const r of rules) {
        r.re.lastIndex = 0;
        let m: RegExpExecArray | null;
        while ((m = r.re.exec(text)) !== null) {
          if (m[0].length === 0) {
            r.re.lastIndex++;
            continue;
          }
          if (r.valid && !r.valid(m)) continue;
          let start = m.index;
          let end = m.index + m[0].length;
          if (r.group !== undefined) {
            start = m.index + m[0].lastIndexOf(m[r.group]!);
            end = start + m[r.group]!.length;
          }
          found.push({ detector: r.id, start, end });
        }
      }
      found.sort((a, b) => a.start - b.start || b.end - a.end);
      const out: RegexFinding[] = [];
      for (const f of found) {
        const last = out[out.length - 1];
        if (last && f.start < last.end) {
          last.end = Math.max(last.end, f.end);
          if (PRIORITY[f.detector]! > PRIORITY[last.detector]!) last.detector = f.detector;
        } else out.push({ ...f });
      }
      return out;
    },
  };
}
