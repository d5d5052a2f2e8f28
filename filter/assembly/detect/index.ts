/**
 * meshward detectors: pure functions over raw UTF-8 bytes. No host calls, no imports from
 * abi/ or host/. Everything here is safe to run in any AssemblyScript 0.28 module (SIMD on).
 *
 * ## API (stable; F integrates through these names only)
 *
 * Registry (detector-ids.ts)
 *   DETECTOR_EMAIL = 0, DETECTOR_PHONE = 1, DETECTOR_CREDIT_CARD = 2, DETECTOR_US_SSN = 3,
 *   DETECTOR_IBAN = 4, DETECTOR_IP_ADDRESS = 5, DETECTOR_AWS_ACCESS_KEY = 6,
 *   DETECTOR_GITHUB_TOKEN = 7, DETECTOR_SLACK_TOKEN = 8, DETECTOR_GOOGLE_API_KEY = 9,
 *   DETECTOR_STRIPE_KEY = 10, DETECTOR_OPENAI_API_KEY = 11, DETECTOR_JWT = 12,
 *   DETECTOR_PRIVATE_KEY = 13, DETECTOR_PROMPT_INJECTION = 14   (BUILTIN_COUNT = 15),
 *   DETECTOR_CUSTOM = 15 (operator keywords; aux = the operator's group number).
 *   detectorId(index: i32): string          "" for custom/out of range
 *   detectorIndex(id: string): i32          -1 when unknown
 *   ALL_BUILTIN: u32                        enabled mask with every built-in on (bit i = index i)
 *   aux values: AWS_AUX_ACCESS_KEY_ID 0 / AWS_AUX_SECRET_ACCESS_KEY 1; SLACK_AUX_TOKEN 0 /
 *   SLACK_AUX_WEBHOOK 1; IP_AUX_V4 4 / IP_AUX_V6 6; SSN_AUX_FORMATTED 0 / SSN_AUX_UNFORMATTED 1;
 *   INJECTION_AUX_PHRASE 0 / _TAG_CHARS 1 / _BIDI 2 / _ZERO_WIDTH 3; 0 otherwise.
 *
 * Findings (finding-list.ts)
 *   class FindingList(initialCapacity = 64)
 *     count: i32; reset(); push(detector, start, end, aux);
 *     detector(i): i32; start(i): i32; end(i): i32; aux(i): i32   (byte offsets, end exclusive)
 *     dataPtr(): usize  (flat i32 quads: detector, start, end, aux)
 *   Caller-owned and reused; a warm list allocates nothing.
 *
 * Configuration, once per plugin configuration (scanner.ts)
 *   class ScanOptions { enabled: u32 = ALL_BUILTIN; ssnUnformattedWithContext = true;
 *                       awsSecretWithContext = true; zeroWidthMinRun = 3 }
 *   class Scanner(options: ScanOptions | null = null)
 *     addKeyword(ptr: usize, len: i32, group: i32, flags: i32): i32     >= 0 ok, else KW_ERR_*
 *     addKeywordString(term: string, group: i32, flags: i32): i32
 *       flags: KW_CASE_INSENSITIVE 1 | KW_WORD_BOUNDARY 2 | KW_WHITESPACE_TOLERANT 4
 *       KW_CASE_INSENSITIVE folds ASCII and the letters with a two-byte case pair (unicode-case.ts:
 *       Latin-1/Extended, Greek, Cyrillic, Armenian), any number of them: the letters starting in
 *       the first 4 bytes by registering each case variant as a term (at most
 *       KW_MAX_CASE_VARIANTS = 9), the later ones at verification (KW_UNICODE_FOLD 8, set by
 *       addKeyword itself).
 *       errors: KW_ERR_TOO_SHORT -1 (< 2 bytes), KW_ERR_TOO_LONG -2 (> 256 bytes),
 *               KW_ERR_ALREADY_BUILT -3, KW_ERR_TOO_MANY -4 (keywords + case variants >
 *               customTermLimit(), 65536 less the built-in terms), KW_ERR_BAD_BYTE -5
 *               (NUL, or leading/trailing whitespace)
 *     build(): void               freezes; the first scan/holdBack calls it implicitly
 *   A Scanner is immutable after build(); keep one per configuration, share it across HTTP
 *   contexts; on reconfigure build a new one and drop the old.
 *
 * Per message
 *   scanner.scan(ptr: usize, len: i32, out: FindingList, reportFrom: i32 = 0, mask: u32 = 0xffffffff): i32
 *     Resets `out`, fills it with findings sorted by start and NON-OVERLAPPING, offsets relative
 *     to ptr; returns out.count. reportFrom: bytes before it are look-behind context only
 *     (findings are clipped to start >= reportFrom; those ending before it are dropped).
 *     mask: narrows the configured detectors for this call (per-principal overrides); bit i =
 *     built-in i, bit 15 (DETECTOR_CUSTOM) = all custom keywords. Build the Scanner with the
 *     union of what any principal may need, then pass each principal's mask.
 *   Overlap resolution (resolve-overlaps.ts): overlapping findings merge into one finding that
 *   spans their union, labelled with the highest-priority member: private_key > jwt >
 *   {aws_access_key, github_token, slack_token, google_api_key, stripe_key, openai_api_key} >
 *   custom keywords > email > credit_card > iban > us_ssn > ip_address > phone >
 *   prompt_injection; ties: longer span, then earlier start.
 *
 * Streaming
 *   scanner.holdBack(ptr: usize, len: i32, mask: u32 = 0xffffffff): i32
 *     The smallest offset from which a still-incomplete match could start (bytes [h, len) must be
 *     carried into the next scan); len when nothing is open. len - h <= MAX_HOLD_BACK (16 KiB, only
 *     reached by an unterminated PEM block; every other detector holds <= its max length, e.g.
 *     40 bytes for numbers, 318 for email, 8 KiB for JWT). See hold-back.ts for the rules.
 *   LOOKBEHIND_BYTES = 128: context a carry keeps before h (boundaries, context keywords).
 *   class StreamCarry(scanner, mask = 0xffffffff)   (stream-carry.ts) — the reference carry loop:
 *     push(ptr: usize, len: i32, endOfStream: bool, out: FindingList): i32
 *       appends the findings that became final to `out` (not reset) with STREAM offsets and
 *       returns the stream offset up to which text is final; finalOffset, heldBytes, reset().
 *   Writing your own carry (what StreamCarry does): held = unreleased bytes preceded by up to
 *   LOOKBEHIND_BYTES already-reported bytes (ctx); buf = held + piece;
 *   h = max(holdBack(buf), ctx); scan(buf, out, reportFrom = ctx); if a finding crosses h, move
 *   h back to its start (while buf.len - start <= MAX_HOLD_BACK); findings with start < h are
 *   final (end clipped to h); keep buf[max(0, h - LOOKBEHIND_BYTES)..] with ctx = h - that
 *   offset. At end of stream scan everything (reportFrom = ctx) and report all. Tested: a
 *   value split at any byte is found exactly once, and any split of a corpus gives the findings
 *   of the whole-text scan.
 *
 * Helpers: luhnValid(p, start, end) (luhn.ts), ibanMod97(p, n) (mod97.ts),
 * base64urlDecode (base64url.ts), KeywordMatcher (keyword-matcher.ts, usable stand-alone).
 *
 * Precision rules per detector are documented on each matcher (one detector per file). In short:
 * a value embedded in a longer alphanumeric token is never a finding; numbers must be
 * checksum-valid (Luhn, mod-97) and in a valid range (card issuers, SSN area/group/serial, IP
 * octets); grouped numbers need one consistent separator and must not continue into another
 * group; versions (1.2.3.4.5, Chrome/120.0.0.0), dates, times, UUIDs, SHAs and bare digit runs
 * are not phones/IPs; tokens need their vendor prefix, exact length/alphabet and boundaries;
 * JWT headers must decode to JSON naming "alg"; unformatted 9-digit SSNs need a nearby
 * "ssn"/"social security" keyword; AWS secret keys need an "aws_secret_access_key"-style keyword.
 * Thread/VM model: module-level scratch state; a scan never yields, so one VM thread is safe.
 */
export * from "./detector-ids";
export { FindingList } from "./finding-list";
export { Scanner, ScanOptions, customTermLimit } from "./scanner";
export { StreamCarry } from "./stream-carry";
export { LOOKBEHIND_BYTES, MAX_HOLD_BACK } from "./hold-back";
export {
  KeywordMatcher, KW_CASE_INSENSITIVE, KW_WORD_BOUNDARY, KW_WHITESPACE_TOLERANT, KW_ERR_TOO_SHORT,
  KW_ERR_TOO_LONG, KW_ERR_ALREADY_BUILT, KW_ERR_TOO_MANY, KW_ERR_BAD_BYTE, KW_UNICODE_FOLD, KW_MIN_LEN,
  KW_MAX_LEN, KW_MAX_TERMS, KW_MAX_CASE_VARIANTS,
} from "./keyword-matcher";
export {
  caseForms, caseLetterCount, caseVariantCount, caseHeadVariantCount, lowerCase2, twoByteAt, CASE_FORMS_MAX,
} from "./unicode-case";
export { luhnValid } from "./luhn";
export { ibanMod97 } from "./mod97";
export { resolveOverlaps } from "./resolve-overlaps";
