/**
 * The public, stable detector ids (config keys, metric names, audit logs, the REST API) and
 * their default actions. Ids never change once shipped.
 *
 * Index order is the filter's internal numbering: built-in content detectors first, then the
 * anomaly signals computed by the filter itself, then the operator's custom detectors
 * (index = DETECTOR_COUNT + position in `custom_detectors`).
 */
import { Action } from "./enums";

export const DETECTOR_IDS: StaticArray<string> = [
  "email",
  "phone",
  "credit_card",
  "us_ssn",
  "iban",
  "ip_address",
  "aws_access_key",
  "github_token",
  "slack_token",
  "google_api_key",
  "stripe_key",
  "openai_api_key",
  "jwt",
  "private_key",
  "prompt_injection",
  // Anomaly signals computed by the filter (not by a content detector).
  "oversized_request",
  "oversized_response",
  "request_rate",
];

/** Number of content detectors (ids before the anomaly signals). */
export const CONTENT_DETECTOR_COUNT: i32 = 15;
export const ID_PROMPT_INJECTION: i32 = 14;
export const ID_OVERSIZED_REQUEST: i32 = 15;
export const ID_OVERSIZED_RESPONSE: i32 = 16;
export const ID_REQUEST_RATE: i32 = 17;
/** All built-in ids (content detectors + anomaly signals). */
export const DETECTOR_COUNT: i32 = 18;

/**
 * Default action of each built-in id when the config does not name it: everything is recorded
 * (`alert`) and nothing is changed, except `ip_address` (too common in logs and tool output to be
 * useful by default) and the anomaly signals that need a limit to mean anything (`off` until
 * configured with one).
 */
export function defaultAction(index: i32): Action {
  if (index == 5) return Action.Off; // ip_address
  if (index >= ID_OVERSIZED_REQUEST) return Action.Off;
  return Action.Alert;
}

export function builtinIndex(id: string): i32 {
  for (let i = 0; i < DETECTOR_COUNT; i++) {
    if (unchecked(DETECTOR_IDS[i]) == id) return i;
  }
  return -1;
}
