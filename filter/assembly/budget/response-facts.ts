/**
 * What charging needs from one response JSON document (a whole body, or the `data:` payload of
 * one SSE event): the output text it carries (measured like the prompt, see request-facts.ts), the
 * `usage` numbers when present, and the `id` / `created` / `model` that a final event must repeat.
 *
 * Output text: `choices[].delta.content|refusal|reasoning_content`,
 * `choices[].delta.tool_calls[].function.arguments`, `choices[].text` (completions),
 * `choices[].message.content|refusal` and `choices[].message.tool_calls[].function.arguments`
 * (whole bodies), a Responses API `delta` string (`response.output_text.delta` and friends), and
 * `output[].content[].text` (Responses API whole bodies).
 * Usage: `usage.prompt_tokens|completion_tokens|prompt_tokens_details.cached_tokens` (Chat,
 * Completions, Embeddings) and `usage.input_tokens|output_tokens|input_tokens_details.cached_tokens`
 * (Responses API), at the top level or under `response` (the Responses API's final event).
 */
import {
  JsonWalker, WalkVisitor, parseNonNegInt,
  K_ARGUMENTS, K_CACHED_TOKENS, K_CHOICES, K_COMPLETION_TOKENS, K_CONTENT, K_CREATED, K_DELTA, K_ELEMENT,
  K_FINISH_REASON, K_FUNCTION, K_ID, K_INPUT_TOKENS, K_INPUT_TOKENS_DETAILS, K_MESSAGE, K_MODEL, K_OBJECT,
  K_OUTPUT, K_OUTPUT_TOKENS, K_PROMPT_TOKENS, K_PROMPT_TOKENS_DETAILS, K_REASONING_CONTENT, K_REFUSAL,
  K_RESPONSE, K_TEXT, K_TOOL_CALLS, K_USAGE,
  V_NUMBER, V_STRING,
} from "./json-walk";

export class ResponseFacts extends WalkVisitor {
  ok: bool = false;
  asciiChars: i64 = 0;
  nonAsciiChars: i64 = 0;
  /** -1 when absent. */
  promptTokens: i64 = -1;
  completionTokens: i64 = -1;
  cachedTokens: i64 = -1;
  idStart: i32 = -1;
  idEnd: i32 = -1;
  modelStart: i32 = -1;
  modelEnd: i32 = -1;
  objectStart: i32 = -1;
  objectEnd: i32 = -1;
  createdStart: i32 = -1;
  createdEnd: i32 = -1;
  /** A choice carried a non-null finish_reason. */
  finished: bool = false;

  reset(): void {
    this.ok = false;
    this.asciiChars = 0;
    this.nonAsciiChars = 0;
    this.promptTokens = -1;
    this.completionTokens = -1;
    this.cachedTokens = -1;
    this.idStart = -1;
    this.idEnd = -1;
    this.modelStart = -1;
    this.modelEnd = -1;
    this.objectStart = -1;
    this.objectEnd = -1;
    this.createdStart = -1;
    this.createdEnd = -1;
    this.finished = false;
  }

  get hasUsage(): bool {
    return this.promptTokens >= 0 || this.completionTokens >= 0;
  }

  get hasText(): bool {
    return this.asciiChars + this.nonAsciiChars > 0;
  }

  /** Estimated tokens of the output text: ceil(A / 4) + N. */
  get textTokens(): i64 {
    return (this.asciiChars + 3) / 4 + this.nonAsciiChars;
  }

  read(walker: JsonWalker, base: usize, start: i32, end: i32): bool {
    this.reset();
    this.ok = walker.walk(base, start, end, this);
    return this.ok;
  }

  override scalar(w: JsonWalker, kind: i32, start: i32, end: i32): void {
    const d = w.depth;
    if (d == 0) return;
    const top = w.keyAt(1);
    if (d == 1) {
      if (kind == V_STRING) {
        if (top == K_ID) { this.idStart = start; this.idEnd = end; }
        else if (top == K_MODEL) { this.modelStart = start; this.modelEnd = end; }
        else if (top == K_OBJECT) { this.objectStart = start; this.objectEnd = end; }
        else if (top == K_DELTA) this.addText(w);
      } else if (kind == V_NUMBER && top == K_CREATED) {
        this.createdStart = start;
        this.createdEnd = end;
      }
      return;
    }
    // usage at the top level, or under `response` (Responses API final event).
    let u = 0;
    if (top == K_USAGE) u = 1;
    else if (top == K_RESPONSE && d >= 3 && w.keyAt(2) == K_USAGE) u = 2;
    if (u > 0) {
      if (kind != V_NUMBER) return;
      const n = parseNonNegInt(w.base, start, end);
      if (n < 0) return;
      const k = w.keyAt(u + 1);
      if (d == u + 1) {
        if (k == K_PROMPT_TOKENS || k == K_INPUT_TOKENS) this.promptTokens = n;
        else if (k == K_COMPLETION_TOKENS || k == K_OUTPUT_TOKENS) this.completionTokens = n;
      } else if (d == u + 2 && (k == K_PROMPT_TOKENS_DETAILS || k == K_INPUT_TOKENS_DETAILS) && w.keyAt(u + 2) == K_CACHED_TOKENS) {
        this.cachedTokens = n;
      }
      return;
    }
    if (kind != V_STRING) return;
    if (top == K_CHOICES && w.keyAt(2) == K_ELEMENT) {
      if (d == 3) {
        const k = w.keyAt(3);
        if (k == K_TEXT) this.addText(w);
        else if (k == K_FINISH_REASON) this.finished = true;
        return;
      }
      const holder = w.keyAt(3);
      if (holder != K_DELTA && holder != K_MESSAGE) return;
      if (d == 4) {
        const k = w.keyAt(4);
        if (k == K_CONTENT || k == K_REFUSAL || k == K_REASONING_CONTENT) this.addText(w);
        return;
      }
      if (d == 7 && w.keyAt(4) == K_TOOL_CALLS && w.keyAt(5) == K_ELEMENT && w.keyAt(6) == K_FUNCTION && w.keyAt(7) == K_ARGUMENTS) {
        this.addText(w);
      }
      return;
    }
    if (top == K_OUTPUT && d == 5 && w.keyAt(2) == K_ELEMENT && w.keyAt(3) == K_CONTENT && w.keyAt(4) == K_ELEMENT && w.keyAt(5) == K_TEXT) {
      this.addText(w);
    }
  }

  private addText(w: JsonWalker): void {
    this.asciiChars += <i64>w.asciiBytes;
    this.nonAsciiChars += <i64>w.nonAscii;
  }
}
