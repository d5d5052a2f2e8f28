/** Closed vocabularies of the plugin configuration, with their public spellings. */

/** What happens when a detector finds something. Ordered by severity: a higher value wins. */
export const enum Action {
  Off = 0,
  Alert = 1,
  Redact = 2,
  Block = 3,
}

export const enum Mode {
  Monitor = 0,
  Enforce = 1,
}

export const enum FailureMode {
  Open = 0,
  Closed = 1,
}

export const enum RedactionStyle {
  TypeTag = 0,
  Mask = 1,
  Hash = 2,
}

/** Which direction(s) a detector applies to. Bit set. */
export const enum Direction {
  Request = 1,
  Response = 2,
  Both = 3,
}

/** Audit log verbosity. */
export const enum AuditLog {
  Off = 0,
  Findings = 1,
  All = 2,
}

/**
 * Payload shapes the inspector understands. `Auto` picks one from `:path` and `content-type`.
 */
export const enum Shape {
  Auto = 0,
  OpenAiChat = 1,
  OpenAiCompletions = 2,
  OpenAiEmbeddings = 3,
  OpenAiResponses = 4,
  KServeV2 = 5,
  Json = 6,
  Text = 7,
  /** Not inspected at all (binary, or an operator's explicit choice). */
  None = 8,
  /** Anthropic Messages API (`/v1/messages`), incl. its SSE stream. */
  AnthropicMessages = 9,
}

export function actionName(a: Action): string {
  switch (a) {
    case Action.Off: return "off";
    case Action.Alert: return "alert";
    case Action.Redact: return "redact";
    default: return "block";
  }
}

export function parseAction(s: string): i32 {
  if (s == "off") return Action.Off;
  if (s == "alert") return Action.Alert;
  if (s == "redact") return Action.Redact;
  if (s == "block") return Action.Block;
  return -1;
}

export function modeName(m: Mode): string {
  return m == Mode.Monitor ? "monitor" : "enforce";
}

export function shapeName(s: Shape): string {
  switch (s) {
    case Shape.Auto: return "auto";
    case Shape.OpenAiChat: return "openai_chat";
    case Shape.OpenAiCompletions: return "openai_completions";
    case Shape.OpenAiEmbeddings: return "openai_embeddings";
    case Shape.OpenAiResponses: return "openai_responses";
    case Shape.KServeV2: return "kserve_v2";
    case Shape.Json: return "json";
    case Shape.Text: return "text";
    case Shape.AnthropicMessages: return "anthropic_messages";
    default: return "none";
  }
}

export function parseShape(s: string): i32 {
  for (let i = 0; i <= 9; i++) {
    if (shapeName(<Shape>i) == s) return i;
  }
  return -1;
}

export function directionName(d: Direction): string {
  return d == Direction.Request ? "request" : "response";
}
