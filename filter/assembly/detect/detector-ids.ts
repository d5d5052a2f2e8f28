/**
 * The detector registry: stable public ids, their numeric indices and overlap priorities.
 *
 * Indices are part of the API (bit `i` of an enabled mask is detector `i`); they only ever grow,
 * an index is never reused. `DETECTOR_CUSTOM` is the index reported for operator keyword
 * findings, whose `aux` is the operator's group number (the position of the custom detector in
 * the config); it has no id string of its own here, the custom detector's id comes from config.
 */

export const DETECTOR_EMAIL: i32 = 0;
export const DETECTOR_PHONE: i32 = 1;
export const DETECTOR_CREDIT_CARD: i32 = 2;
export const DETECTOR_US_SSN: i32 = 3;
export const DETECTOR_IBAN: i32 = 4;
export const DETECTOR_IP_ADDRESS: i32 = 5;
export const DETECTOR_AWS_ACCESS_KEY: i32 = 6;
export const DETECTOR_GITHUB_TOKEN: i32 = 7;
export const DETECTOR_SLACK_TOKEN: i32 = 8;
export const DETECTOR_GOOGLE_API_KEY: i32 = 9;
export const DETECTOR_STRIPE_KEY: i32 = 10;
export const DETECTOR_OPENAI_API_KEY: i32 = 11;
export const DETECTOR_JWT: i32 = 12;
export const DETECTOR_PRIVATE_KEY: i32 = 13;
export const DETECTOR_PROMPT_INJECTION: i32 = 14;
/** Operator keyword lists (`custom_detectors`); `aux` carries the operator's group number. */
export const DETECTOR_CUSTOM: i32 = 15;
/** Number of built-in detectors with an id (indices 0 .. BUILTIN_COUNT-1). */
export const BUILTIN_COUNT: i32 = 15;
/** Enabled mask with every built-in detector on. */
export const ALL_BUILTIN: u32 = (1 << 15) - 1;

/** `aux` values of `aws_access_key` findings. */
export const AWS_AUX_ACCESS_KEY_ID: i32 = 0;
export const AWS_AUX_SECRET_ACCESS_KEY: i32 = 1;
/** `aux` values of `slack_token` findings. */
export const SLACK_AUX_TOKEN: i32 = 0;
export const SLACK_AUX_WEBHOOK: i32 = 1;
/** `aux` values of `ip_address` findings. */
export const IP_AUX_V4: i32 = 4;
export const IP_AUX_V6: i32 = 6;
/** `aux` values of `prompt_injection` findings (the signal kind). */
export const INJECTION_AUX_PHRASE: i32 = 0;
export const INJECTION_AUX_TAG_CHARS: i32 = 1;
export const INJECTION_AUX_BIDI: i32 = 2;
export const INJECTION_AUX_ZERO_WIDTH: i32 = 3;
/** `aux` value of a `us_ssn` finding without separators (accepted only near a context keyword). */
export const SSN_AUX_FORMATTED: i32 = 0;
export const SSN_AUX_UNFORMATTED: i32 = 1;

const IDS: StaticArray<string> = [
  "email", "phone", "credit_card", "us_ssn", "iban", "ip_address", "aws_access_key",
  "github_token", "slack_token", "google_api_key", "stripe_key", "openai_api_key", "jwt",
  "private_key", "prompt_injection",
];

/**
 * Overlap priority (higher wins). Secrets with unambiguous prefixes beat structured PII, which
 * beats the looser numeric formats; prompt-injection signals lose to everything because they
 * are not values to protect.
 */
const PRIORITY: StaticArray<i32> = [
  /* email */ 60, /* phone */ 20, /* credit_card */ 50, /* us_ssn */ 40, /* iban */ 45,
  /* ip_address */ 30, /* aws_access_key */ 80, /* github_token */ 80, /* slack_token */ 80,
  /* google_api_key */ 80, /* stripe_key */ 80, /* openai_api_key */ 80, /* jwt */ 90,
  /* private_key */ 100, /* prompt_injection */ 10, /* custom */ 70,
];

/** The public id of built-in detector `index`, or "" when out of range (custom included). */
export function detectorId(index: i32): string {
  return <u32>index < <u32>BUILTIN_COUNT ? unchecked(IDS[index]) : "";
}

/** The index of the built-in detector with public id `id`, or -1. */
export function detectorIndex(id: string): i32 {
  for (let i = 0; i < BUILTIN_COUNT; i++) if (unchecked(IDS[i]) == id) return i;
  return -1;
}

/** Overlap priority of detector `index` (custom included); higher wins. */
// @ts-ignore: decorator
@inline export function detectorPriority(index: i32): i32 {
  return <u32>index <= <u32>DETECTOR_CUSTOM ? unchecked(PRIORITY[index]) : 0;
}
