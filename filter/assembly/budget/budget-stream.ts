/**
 * Charges a streamed (SSE) response event by event and ends it cleanly when the budget runs out.
 *
 * Contract: `push(bytes, end)` takes the bytes the filter would forward and leaves in `out` what
 * to forward instead: every complete event whose output tokens fit; an incomplete trailing event
 * is held until its end arrives (at most one event, flushed at end of stream). When an event does
 * not fit, it is dropped and replaced by the ending:
 *   - Chat Completions: `data: {"id":…,"object":"chat.completion.chunk","created":…,"model":…,
 *     "choices":[{"index":0,"delta":{},"finish_reason":"length"}],
 *     "meshward":{"budget_exhausted":true,"budget":"<limit name>"}}` (plus `usage` with the counted
 *     tokens when the client asked for `stream_options.include_usage`), then `data: [DONE]`;
 *   - Completions: the same with `"object":"text_completion"` and `"text":""` in the choice;
 *   - Responses API (events with a `type`): `event: response.incomplete` whose response has
 *     `status: "incomplete"` and `incomplete_details.reason: "max_output_tokens"`.
 * Everything after the ending is dropped (`cut` stays true): the HTTP response then ends when the
 * upstream's does, so SDKs read a normal end of stream (an Envoy reset would surface as an error).
 *
 * Output tokens, per event: from `usage` when the event carries it (authoritative: settles the
 * plan), else the running estimate max(text events, ceil(ASCII/4) + non-ASCII) over the delta text.
 */
import { ByteBuffer } from "../inspect/byte-buffer";
import { JsonWalker } from "./json-walk";
import { ResponseFacts } from "./response-facts";
import { BudgetPlan } from "./budget-plan";

const MAX_HELD_EVENT: i32 = 1 << 20;

export class BudgetStream {
  readonly out: ByteBuffer = new ByteBuffer(1024);
  private held: ByteBuffer = new ByteBuffer(512);
  private facts: ResponseFacts = new ResponseFacts();
  cut: bool = false;
  /** The stream already carried `data: [DONE]` or a finish (no ending needed after it). */
  done: bool = false;
  textEvents: i64 = 0;
  asciiChars: i64 = 0;
  nonAsciiChars: i64 = 0;
  usageSeen: bool = false;
  /** Responses API events (`type` field) were seen. */
  responsesApi: bool = false;
  private id: string = "";
  private model: string = "";
  private created: string = "";
  private object: string = "";

  constructor(public plan: BudgetPlan, public walker: JsonWalker, public enforce: bool, public includeUsage: bool) {}

  /** Estimated output tokens so far. */
  get estimatedOutput(): i64 {
    const byText = (this.asciiChars + 3) / 4 + this.nonAsciiChars;
    return byText > this.textEvents ? byText : this.textEvents;
  }

  push(src: usize, n: i32, end: bool): void {
    const out = this.out;
    out.reset();
    if (this.cut) return;
    const held = this.held;
    held.pushBytes(src, n);
    let start = 0;
    const base = held.ptr;
    const len = held.length;
    let i = 0;
    while (i < len) {
      // An event ends at a blank line: \n\n, \r\n\r\n or \r\r.
      const c = load<u8>(base + <usize>i);
      let stop = -1;
      if (c == 0x0a && i + 1 < len && load<u8>(base + <usize>(i + 1)) == 0x0a) stop = i + 2;
      else if (c == 0x0a && i + 2 < len && load<u8>(base + <usize>(i + 1)) == 0x0d && load<u8>(base + <usize>(i + 2)) == 0x0a) stop = i + 3;
      else if (c == 0x0d && i + 1 < len && load<u8>(base + <usize>(i + 1)) == 0x0d) stop = i + 2;
      if (stop < 0) {
        i++;
        continue;
      }
      if (!this.event(base, start, stop)) {
        this.writeEnding();
        this.cut = true;
        held.reset();
        return;
      }
      out.pushBytes(base + <usize>start, stop - start);
      start = stop;
      i = stop;
    }
    if (end) {
      // A last event without its blank line: judge it too.
      if (start < len) {
        if (!this.event(base, start, len)) {
          this.writeEnding();
          this.cut = true;
          held.reset();
          return;
        }
        out.pushBytes(base + <usize>start, len - start);
      }
      held.reset();
      return;
    }
    held.consume(start);
    if (held.length > MAX_HELD_EVENT) {
      // Not SSE as we know it: stop holding (forward as is, counted as text).
      this.asciiChars += <i64>held.length;
      out.pushBytes(held.ptr, held.length);
      held.reset();
    }
  }

  /** Accounts one event [start, stop); false when it does not fit the budget. */
  private event(base: usize, start: i32, stop: i32): bool {
    // Each `data:` line is one payload (OpenAI sends one per event).
    let i = start;
    while (i < stop) {
      let e = i;
      while (e < stop && load<u8>(base + <usize>e) != 0x0a && load<u8>(base + <usize>e) != 0x0d) e++;
      if (e - i >= 5 && load<u8>(base + <usize>i) == 0x64 && load<u32>(base + <usize>(i + 1)) == 0x3a617461) {
        let p = i + 5;
        if (p < e && load<u8>(base + <usize>p) == 0x20) p++;
        if (!this.payload(base, p, e)) return false;
      } else if (e - i >= 6 && load<u8>(base + <usize>i) == 0x65 && load<u32>(base + <usize>(i + 1)) == 0x746e6576) {
        this.responsesApi = true; // `event:` lines are used by the Responses API
      }
      i = e + 1;
    }
    return true;
  }

  private payload(base: usize, p: i32, e: i32): bool {
    if (e - p == 6 && load<u8>(base + <usize>p) == 0x5b && load<u32>(base + <usize>(p + 1)) == 0x454e4f44) {
      this.done = true; // [DONE]
      return true;
    }
    const f = this.facts;
    if (!f.read(this.walker, base, p, e)) return true; // not JSON: nothing to count
    if (this.id.length == 0 && f.idStart >= 0) this.id = str(base, f.idStart, f.idEnd);
    if (this.model.length == 0 && f.modelStart >= 0) this.model = str(base, f.modelStart, f.modelEnd);
    if (this.created.length == 0 && f.createdStart >= 0) this.created = str(base, f.createdStart, f.createdEnd);
    if (this.object.length == 0 && f.objectStart >= 0) this.object = str(base, f.objectStart, f.objectEnd);
    const plan = this.plan;
    if (f.hasUsage) {
      this.usageSeen = true;
      plan.settle(f.promptTokens, f.cachedTokens, f.completionTokens);
      return true;
    }
    if (!f.hasText) {
      if (f.finished) this.done = true;
      return true;
    }
    this.textEvents++;
    this.asciiChars += f.asciiChars;
    this.nonAsciiChars += f.nonAsciiChars;
    const ok = plan.chargeOutputTo(this.estimatedOutput, this.enforce);
    if (!ok) {
      // Not delivered: not counted.
      this.textEvents--;
      this.asciiChars -= f.asciiChars;
      this.nonAsciiChars -= f.nonAsciiChars;
      return false;
    }
    if (f.finished) this.done = true;
    return true;
  }

  private writeEnding(): void {
    const out = this.out;
    const plan = this.plan;
    const name = plan.decisive >= 0 && plan.decisive < plan.entries.length ? plan.entries[plan.decisive].limit.name : "";
    if (this.responsesApi) {
      out.pushString("event: response.incomplete\ndata: {\"type\":\"response.incomplete\",\"response\":{\"id\":\"");
      out.pushString(this.id); // raw JSON string content, already escaped
      out.pushString("\",\"object\":\"response\",\"status\":\"incomplete\",\"incomplete_details\":{\"reason\":\"max_output_tokens\"}},");
      this.marker(name);
      out.pushString("}\n\n");
      return;
    }
    const completion = this.object == "text_completion";
    out.pushString("data: {\"id\":\"");
    out.pushString(this.id.length > 0 ? this.id : "meshward-budget");
    out.pushString("\",\"object\":\"");
    out.pushString(completion ? "text_completion" : "chat.completion.chunk");
    out.pushString("\",\"created\":");
    out.pushString(this.created.length > 0 ? this.created : "0");
    out.pushString(",\"model\":\"");
    out.pushString(this.model);
    out.pushString(completion
      ? "\",\"choices\":[{\"index\":0,\"text\":\"\",\"logprobs\":null,\"finish_reason\":\"length\"}],"
      : "\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"length\"}],");
    if (this.includeUsage) {
      out.pushString("\"usage\":{\"prompt_tokens\":");
      out.pushInt(plan.promptTokens);
      out.pushString(",\"completion_tokens\":");
      out.pushInt(plan.outputTokens);
      out.pushString(",\"total_tokens\":");
      out.pushInt(plan.promptTokens + plan.outputTokens);
      out.pushString("},");
    }
    this.marker(name);
    out.pushString("}\n\ndata: [DONE]\n\n");
  }

  private marker(name: string): void {
    const out = this.out;
    out.pushString("\"meshward\":{\"budget_exhausted\":true,\"budget\":\"");
    out.pushJsonEscaped(name);
    out.pushString("\"}");
  }
}

function str(base: usize, start: i32, end: i32): string {
  return String.UTF8.decodeUnsafe(base + <usize>start, <usize>(end - start));
}
