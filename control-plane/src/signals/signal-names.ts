/**
 * The signals the loop computes per caller identity, per model and per model version, by their
 * public names (used in alert rules, the REST API, metrics and reports; stable once shipped).
 *
 * Counts are over the window asked for; `_rate` signals are per second, `_ratio` signals are a
 * fraction of the window's requests (NaN when the window has no requests, so a rule never fires on
 * an empty window). `dlp_findings:<detector>` is the findings of one detector (`email`, ...).
 */
export const SIGNAL_NAMES = [
  'requests',
  'request_rate',
  'denials',
  'denial_ratio',
  'rbac_denials',
  'mtls_failures',
  'shadow_denials',
  'rate_limited',
  'errors',
  'error_ratio',
  'dlp_findings',
  'dlp_finding_ratio',
  'dlp_alerted',
  'dlp_redacted',
  'dlp_blocked',
  'request_bytes',
  'response_bytes',
  'latency_ms_mean',
  'latency_ms_p95',
  'tokens_input',
  'tokens_output',
] as const;
export type FixedSignalName = (typeof SIGNAL_NAMES)[number];
/** A fixed signal or `dlp_findings:<detector id>`. */
export type SignalName = FixedSignalName | `dlp_findings:${string}`;

export const DIMENSIONS = ['identity', 'model', 'version'] as const;
/** `identity`: the caller's SPIFFE ID; `model`: the model service; `version`: `<model>|<version>`. */
export type Dimension = (typeof DIMENSIONS)[number];

const DETECTOR_ID = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

export function isSignalName(s: string): s is SignalName {
  if ((SIGNAL_NAMES as readonly string[]).includes(s)) return true;
  return s.startsWith('dlp_findings:') && DETECTOR_ID.test(s.slice('dlp_findings:'.length));
}

export function isDimension(s: string): s is Dimension {
  return (DIMENSIONS as readonly string[]).includes(s);
}

/** The series key of a model version. */
export function versionKey(model: string, version: string): string {
  return `${model}|${version}`;
}
