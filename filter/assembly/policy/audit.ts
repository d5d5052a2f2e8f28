/**
 * Text the filter emits about a verdict: the audit log line, the filter-state summary, and the
 * OpenAI-compatible error body of a block. None of them ever contains a matched value: only
 * detector ids, counts, actions and request metadata.
 *
 * Audit line (one JSON object per inspected message, logged at info):
 *   {"meshward":"audit","direction":"request","outcome":"redact","would":"redact","mode":"enforce",
 *    "principal":"spiffe://...","route":"chat","request_id":"...","path":"/v1/chat/completions",
 *    "model":"gpt-4o","shape":"openai_chat","bytes":2048,"stream":false,
 *    "findings":[{"detector":"email","count":2,"action":"redact"}],"errors":[]}
 * `path` never carries the query string (it may hold personal data).
 */
import { Action, actionName, modeName } from "../config/enums";
import { PluginConfig } from "../config/plugin-config";
import { ByteBuffer } from "../inspect/byte-buffer";
import { Verdict, outcomeName } from "./verdict";

/** Request metadata captured in the request headers callback. */
export class MessageContext {
  principal: string = "";
  route: string = "";
  requestId: string = "";
  path: string = "";
  model: string = "";
}

export function auditLine(
  out: ByteBuffer, direction: string, v: Verdict, cfg: PluginConfig, meta: MessageContext,
  shape: string, bytes: i32, stream: bool, errors: Array<string>,
): void {
  out.reset();
  out.pushString("{\"meshward\":\"audit\",\"direction\":\"");
  out.pushString(direction);
  out.pushString("\",\"outcome\":\"");
  out.pushString(outcomeName(v.outcome));
  out.pushString("\",\"would\":\"");
  out.pushString(outcomeName(v.would));
  out.pushString("\",\"mode\":\"");
  out.pushString(modeName(v.mode));
  out.pushString("\",\"principal\":");
  jsonString(out, meta.principal);
  out.pushString(",\"route\":");
  jsonString(out, meta.route);
  out.pushString(",\"request_id\":");
  jsonString(out, meta.requestId);
  out.pushString(",\"path\":");
  jsonString(out, meta.path);
  out.pushString(",\"model\":");
  jsonString(out, meta.model);
  out.pushString(",\"shape\":\"");
  out.pushString(shape);
  out.pushString("\",\"bytes\":");
  out.pushInt(bytes);
  out.pushString(stream ? ",\"stream\":true" : ",\"stream\":false");
  out.pushString(",\"findings\":");
  findingsArray(out, v, cfg);
  out.pushString(",\"errors\":[");
  for (let i = 0; i < errors.length; i++) {
    if (i > 0) out.pushByte(0x2c);
    jsonString(out, errors[i]);
  }
  out.pushString("]}");
}

/** `[{"detector":"email","count":2,"action":"redact"}, ...]` */
export function findingsArray(out: ByteBuffer, v: Verdict, cfg: PluginConfig): void {
  out.pushByte(0x5b);
  let first = true;
  for (let d = 0; d < v.counts.length; d++) {
    const c = unchecked(v.counts[d]);
    if (c == 0) continue;
    if (!first) out.pushByte(0x2c);
    first = false;
    out.pushString("{\"detector\":\"");
    out.pushString(cfg.idOf(d));
    out.pushString("\",\"count\":");
    out.pushInt(c);
    out.pushString(",\"action\":\"");
    out.pushString(actionName(<Action>unchecked(v.actions[d])));
    out.pushString("\"}");
  }
  out.pushByte(0x5d);
}

/**
 * The `meshward.summary` filter state:
 *   {"outcome":"redact","request":{"outcome":"redact","findings":{"email":2}},"response":{...}}
 * A direction not inspected (yet) is null.
 */
export function summaryJson(
  out: ByteBuffer, req: Verdict | null, resp: Verdict | null, cfg: PluginConfig,
): void {
  out.reset();
  let overall: Action = Action.Off;
  if (req != null && req.outcome > overall) overall = req.outcome;
  if (resp != null && resp.outcome > overall) overall = resp.outcome;
  out.pushString("{\"outcome\":\"");
  out.pushString(outcomeName(overall));
  out.pushString("\",\"request\":");
  summaryPart(out, req, cfg);
  out.pushString(",\"response\":");
  summaryPart(out, resp, cfg);
  out.pushByte(0x7d);
}

function summaryPart(out: ByteBuffer, v: Verdict | null, cfg: PluginConfig): void {
  if (v == null) {
    out.pushString("null");
    return;
  }
  out.pushString("{\"outcome\":\"");
  out.pushString(outcomeName(v.outcome));
  out.pushString("\",\"findings\":{");
  let first = true;
  for (let d = 0; d < v.counts.length; d++) {
    const c = unchecked(v.counts[d]);
    if (c == 0) continue;
    if (!first) out.pushByte(0x2c);
    first = false;
    out.pushByte(0x22);
    out.pushString(cfg.idOf(d));
    out.pushString("\":");
    out.pushInt(c);
  }
  out.pushString("}}");
}

/**
 * `{"error":{"message":...,"type":"data_loss_prevention","param":null,"code":"<detector id>"}}`.
 * The message names the detector and direction, never the value.
 */
export function blockBody(detectorId: string, direction: string, reason: string): string {
  return "{\"error\":{\"message\":\"" + reason + "\",\"type\":\"data_loss_prevention\",\"param\":null,\"code\":\"" +
    detectorId + "\"}}";
}

export function blockMessage(detectorId: string, direction: string): string {
  return "The " + direction + " was blocked by the meshward data loss prevention policy: " +
    detectorId + " detected.";
}

/** Appends `s` as a quoted JSON string. */
export function jsonString(out: ByteBuffer, s: string): void {
  out.pushByte(0x22);
  out.pushJsonEscaped(s);
  out.pushByte(0x22);
}
