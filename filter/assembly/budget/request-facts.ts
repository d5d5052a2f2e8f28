/**
 * What admission needs from a request body, read in one pass: the `model`, `stream`,
 * `stream_options.include_usage`, the requested output maximum (`max_tokens`,
 * `max_completion_tokens` or `max_output_tokens`, with its raw byte range so it can be clamped in
 * place) and the prompt's estimated tokens.
 *
 * The token estimator (documented in docs/budgets.md; the control plane's explain uses the same):
 *   prompt tokens = ceil(A / 4) + N + 4 × messages + (3 when there are messages) + T
 * where A is the number of ASCII characters and N the number of non-ASCII characters in the
 * text-bearing strings of `messages`, `prompt`, `input`, `instructions` and `system` (string
 * content and content parts; escapes count as the character they encode), and T the number of
 * integers in `prompt` / `input` token arrays. Not counted: the values of `role`, `type`, `id`,
 * `call_id`, `file_id`, `url`, `detail`, `image_url`, `file_data`, `b64_json` and `data` (image and
 * file payloads are priced by the provider differently). ASCII text averages about 4 characters per
 * token for GPT-style BPE vocabularies; a non-ASCII character is counted as a whole token, which
 * over-estimates accented Latin text and is about right for CJK.
 */
import {
  JsonWalker, WalkVisitor, parseNonNegInt,
  K_B64_JSON, K_CALL_ID, K_DATA, K_DETAIL, K_ELEMENT, K_FILE_DATA, K_FILE_ID, K_ID, K_IMAGE_URL,
  K_INCLUDE_USAGE, K_INPUT, K_INSTRUCTIONS, K_MAX_COMPLETION_TOKENS, K_MAX_OUTPUT_TOKENS, K_MAX_TOKENS,
  K_MESSAGES, K_MODEL, K_PROMPT, K_ROLE, K_STREAM, K_STREAM_OPTIONS, K_SYSTEM, K_TYPE, K_URL,
  V_NUMBER, V_STRING, V_TRUE,
} from "./json-walk";

export const MESSAGE_OVERHEAD_TOKENS: i64 = 4;
export const PRIMING_TOKENS: i64 = 3;

export class RequestFacts extends WalkVisitor {
  ok: bool = false;
  modelStart: i32 = -1;
  modelEnd: i32 = -1;
  stream: bool = false;
  includeUsage: bool = false;
  /** K_MAX_TOKENS / K_MAX_COMPLETION_TOKENS / K_MAX_OUTPUT_TOKENS, or -1 when none was given. */
  maxField: i32 = -1;
  maxStart: i32 = -1;
  maxEnd: i32 = -1;
  /** The requested maximum; -1 when absent or not a non-negative integer. */
  maxTokens: i64 = -1;
  asciiChars: i64 = 0;
  nonAsciiChars: i64 = 0;
  tokenIds: i64 = 0;
  messages: i64 = 0;

  reset(): void {
    this.ok = false;
    this.modelStart = -1;
    this.modelEnd = -1;
    this.stream = false;
    this.includeUsage = false;
    this.maxField = -1;
    this.maxStart = -1;
    this.maxEnd = -1;
    this.maxTokens = -1;
    this.asciiChars = 0;
    this.nonAsciiChars = 0;
    this.tokenIds = 0;
    this.messages = 0;
  }

  /** Estimated prompt tokens (see the module comment). */
  get promptTokens(): i64 {
    let t = (this.asciiChars + 3) / 4 + this.nonAsciiChars + this.tokenIds + this.messages * MESSAGE_OVERHEAD_TOKENS;
    if (this.messages > 0) t += PRIMING_TOKENS;
    return t;
  }

  /** Reads a JSON request body at [base+start, base+end). False (and `ok` false) when it is not JSON. */
  read(walker: JsonWalker, base: usize, start: i32, end: i32): bool {
    this.reset();
    this.ok = walker.walk(base, start, end, this);
    return this.ok;
  }

  override enter(w: JsonWalker, isArray: bool): void {
    // An object directly inside `messages` (chat) or `input` (Responses API items) is a message.
    if (!isArray && w.depth == 2 && w.keyAt(2) == K_ELEMENT) {
      const top = w.keyAt(1);
      if (top == K_MESSAGES || top == K_INPUT) this.messages++;
    }
  }

  override scalar(w: JsonWalker, kind: i32, start: i32, end: i32): void {
    const d = w.depth;
    if (d == 0) return;
    const top = w.keyAt(1);
    if (d == 1) {
      if (top == K_MODEL && kind == V_STRING) {
        this.modelStart = start;
        this.modelEnd = end;
        return;
      }
      if (top == K_STREAM) {
        this.stream = kind == V_TRUE;
        return;
      }
      if ((top == K_MAX_TOKENS || top == K_MAX_COMPLETION_TOKENS || top == K_MAX_OUTPUT_TOKENS) && kind == V_NUMBER) {
        if (this.maxField < 0) {
          this.maxField = top;
          this.maxStart = start;
          this.maxEnd = end;
          this.maxTokens = parseNonNegInt(w.base, start, end);
        }
        return;
      }
    }
    if (d == 2 && top == K_STREAM_OPTIONS && w.keyAt(2) == K_INCLUDE_USAGE) {
      this.includeUsage = kind == V_TRUE;
      return;
    }
    if (!(top == K_MESSAGES || top == K_PROMPT || top == K_INPUT || top == K_INSTRUCTIONS || top == K_SYSTEM)) return;
    if (kind == V_NUMBER) {
      // Token-id arrays: `prompt: [1, 2]`, `input: [[1, 2], [3]]`.
      if (top != K_MESSAGES && w.keyAt(d) == K_ELEMENT) {
        let allElements = true;
        for (let k = 2; k <= d; k++) if (w.keyAt(k) != K_ELEMENT) allElements = false;
        if (allElements) this.tokenIds++;
      }
      return;
    }
    if (kind != V_STRING) return;
    for (let k = 2; k <= d; k++) {
      const key = w.keyAt(k);
      if (key == K_ROLE || key == K_TYPE || key == K_ID || key == K_CALL_ID || key == K_FILE_ID || key == K_URL ||
          key == K_DETAIL || key == K_IMAGE_URL || key == K_FILE_DATA || key == K_B64_JSON || key == K_DATA) return;
    }
    this.asciiChars += <i64>w.asciiBytes;
    this.nonAsciiChars += <i64>w.nonAscii;
  }
}
