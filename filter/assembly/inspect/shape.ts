/**
 * Which payload shape a message has, from `:path` and `content-type` (or the config override), and
 * which JSON strings of each shape carry prompt or completion text.
 *
 * A selector is a path of object keys and array steps: `*` is any array element, `**` (last only)
 * is any value at any depth below. A selector marked `concat` is streamed text (a delta) that joins
 * the previous delta without a separator.
 */
import { Shape } from "../config/enums";

export class Selector {
  steps: Array<Uint8Array> = [];
  /** Step kinds: 0 key, 1 any array element, 2 any depth below (last step only). */
  kinds: Array<i32> = [];
  concat: bool = false;
}

export const STEP_KEY: i32 = 0;
export const STEP_ELEMENT: i32 = 1;
export const STEP_DEEP: i32 = 2;

function sel(path: string, concat: bool = false): Selector {
  const s = new Selector();
  s.concat = concat;
  const parts = path.split(".");
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p == "*") {
      s.kinds.push(STEP_ELEMENT);
      s.steps.push(new Uint8Array(0));
    } else if (p == "**") {
      s.kinds.push(STEP_DEEP);
      s.steps.push(new Uint8Array(0));
    } else {
      s.kinds.push(STEP_KEY);
      s.steps.push(Uint8Array.wrap(String.UTF8.encode(p)));
    }
  }
  return s;
}

let chatSelectors: Array<Selector> | null = null;
let completionsSelectors: Array<Selector> | null = null;
let embeddingsSelectors: Array<Selector> | null = null;
let responsesSelectors: Array<Selector> | null = null;
let kserveSelectors: Array<Selector> | null = null;
let anthropicSelectors: Array<Selector> | null = null;
const noSelectors: Array<Selector> = [];

/**
 * Selectors of a shape; requests and responses (incl. streamed events) of one API share a list
 * because their keys do not collide. `Json`, `Text` and `None` have none (handled by the reader).
 */
export function selectorsFor(shape: Shape): Array<Selector> {
  switch (shape) {
    case Shape.OpenAiChat: {
      if (chatSelectors == null) {
        chatSelectors = [
          sel("messages.*.content"),
          sel("messages.*.content.*.text"),
          sel("messages.*.tool_calls.*.function.arguments"),
          sel("choices.*.message.content"),
          sel("choices.*.message.refusal"),
          sel("choices.*.message.tool_calls.*.function.arguments"),
          sel("choices.*.delta.content", true),
          sel("choices.*.delta.refusal", true),
          sel("choices.*.delta.tool_calls.*.function.arguments", true),
        ];
      }
      return chatSelectors!;
    }
    case Shape.OpenAiCompletions: {
      if (completionsSelectors == null) {
        completionsSelectors = [
          sel("prompt"),
          sel("prompt.*"),
          sel("suffix"),
          sel("choices.*.text", true),
        ];
      }
      return completionsSelectors!;
    }
    case Shape.OpenAiEmbeddings: {
      if (embeddingsSelectors == null) {
        embeddingsSelectors = [sel("input"), sel("input.*")];
      }
      return embeddingsSelectors!;
    }
    case Shape.OpenAiResponses: {
      if (responsesSelectors == null) {
        responsesSelectors = [
          sel("input"),
          sel("instructions"),
          sel("input.*.content"),
          sel("input.*.content.*.text"),
          sel("input.*.output"),
          sel("input.*.arguments"),
          sel("output.*.content.*.text"),
          sel("output.*.arguments"),
          // Streamed events: deltas join; the `.done` / `.completed` events repeat the full text.
          sel("delta", true),
          sel("text"),
          sel("arguments"),
          sel("part.text"),
          sel("item.content.*.text"),
          sel("item.arguments"),
          sel("response.output.*.content.*.text"),
          sel("response.output.*.arguments"),
        ];
      }
      return responsesSelectors!;
    }
    case Shape.KServeV2: {
      if (kserveSelectors == null) {
        kserveSelectors = [
          sel("inputs.*.data.**"),
          sel("outputs.*.data.**"),
          // Triton's generate extension (/generate, /generate_stream): text in, text deltas out.
          sel("text_input"),
          sel("text_output", true),
        ];
      }
      return kserveSelectors!;
    }
    case Shape.AnthropicMessages: {
      if (anthropicSelectors == null) {
        anthropicSelectors = [
          sel("system"),
          sel("system.*.text"),
          sel("messages.*.content"),
          sel("messages.*.content.*.text"),
          sel("messages.*.content.*.content"),
          sel("messages.*.content.*.content.*.text"),
          sel("content.*.text"),
          // Streamed content_block_delta events: text and tool input JSON join across events.
          sel("delta.text", true),
          sel("delta.partial_json", true),
        ];
      }
      return anthropicSelectors!;
    }
    default:
      return noSelectors;
  }
}

/**
 * Picks a shape from the request `:path` (query string ignored) and the message's content-type.
 * JSON content types with an unknown path read every string value; text/* reads the whole body;
 * anything else (binary, multipart, gRPC) is not inspected.
 */
export function detectShape(path: string, contentType: string): Shape {
  const ct = contentType.toLowerCase();
  const isJson = ct.length == 0 || ct.includes("json");
  const isSse = ct.startsWith("text/event-stream");
  if (!isJson && !isSse) {
    if (ct.startsWith("text/")) return Shape.Text;
    return Shape.None;
  }
  let p = path;
  const q = p.indexOf("?");
  if (q >= 0) p = p.substring(0, q);
  if (p.endsWith("/")) p = p.substring(0, p.length - 1);
  if (p.endsWith("/chat/completions")) return Shape.OpenAiChat;
  if (p.endsWith("/v1/messages")) return Shape.AnthropicMessages;
  if (p.endsWith("/completions")) return Shape.OpenAiCompletions;
  if (p.endsWith("/embeddings")) return Shape.OpenAiEmbeddings;
  if (p.endsWith("/responses")) return Shape.OpenAiResponses;
  if (p.startsWith("/v2/models/") &&
      (p.endsWith("/infer") || p.endsWith("/generate") || p.endsWith("/generate_stream"))) {
    return Shape.KServeV2;
  }
  if (isSse) return Shape.Json;
  return Shape.Json;
}

/** True when a content-type announces a server-sent event stream. */
export function isEventStream(contentType: string): bool {
  return contentType.toLowerCase().startsWith("text/event-stream");
}
