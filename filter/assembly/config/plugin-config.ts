/**
 * The plugin configuration: an immutable snapshot produced by {@link parseConfig}, the one pure
 * parse-and-validate function for the WasmPlugin `pluginConfig` / Envoy `configuration` JSON.
 *
 * Shape (extend, never reshape; see filter/config.schema.json and docs/filter.md):
 *   {"mode": "enforce", "failure_mode": "open", "max_body_bytes": 1048576,
 *    "redaction": {"style": "type_tag"},
 *    "detectors": {"email": "redact", "credit_card": "block", "phone": "alert"},
 *    "custom_detectors": [{"id": "codename", "keywords": ["Project Falcon"], "action": "block"}],
 *    "principals": [{"match": "spiffe://corp.example/ns/batch/*", "detectors": {"iban": "off"}}]}
 *
 * A bad document is rejected whole: the result carries the JSON path of the offending field and
 * the reason, and the caller (the root context) keeps the previous snapshot serving.
 */
import { JsonKind, JsonValue, parseJson } from "./json-value";
import { AccessConfig, BudgetConfig, parseBudgets, parseModelAccess } from "../budget/budget-config";
import { SectionError, checkKeys, checkObject } from "./field-checks";
import {
  Action, AuditLog, Direction, FailureMode, Mode, RedactionStyle, Shape, actionName, parseAction,
  parseShape,
} from "./enums";
import {
  DETECTOR_COUNT, DETECTOR_IDS, ID_OVERSIZED_REQUEST, ID_OVERSIZED_RESPONSE, ID_REQUEST_RATE,
  builtinIndex, defaultAction,
} from "./detector-ids";

/**
 * Defaults, documented in docs/filter.md. max_body_bytes defaults to 1 MiB - 64 KiB: Envoy answers
 * 413 itself once a buffered body passes the listener's buffer limit (1 MiB by default), and it
 * checks that limit when it appends a chunk, before the filter sees it; one read (<= 64 KiB) of
 * headroom lets the filter apply failure_mode to a body without content-length first.
 */
export const DEFAULT_MAX_BODY_BYTES: i32 = 983040;
export const MAX_MAX_BODY_BYTES: i32 = 67108864;
export const DEFAULT_RATE_WINDOW_SECONDS: i32 = 60;
export const MIN_HASH_KEY_BYTES: i32 = 16;
export const MAX_KEYWORDS: i32 = 10000;
export const MAX_KEYWORD_BYTES: i32 = 256;
export const MIN_KEYWORD_BYTES: i32 = 2;
export const MAX_CUSTOM_DETECTORS: i32 = 64;
export const MAX_PRINCIPAL_RULES: i32 = 1000;

export class CustomDetector {
  id: string = "";
  keywords: Array<string> = [];
  caseSensitive: bool = false;
  /** Match whole words only (the term's edges must not touch a letter, digit or `_`). */
  wholeWord: bool = true;
}

/** A per-principal override; fields left at "unset" keep the global setting. */
export class PrincipalRule {
  match: string = "";
  /** -1 = unset, else a Mode. */
  mode: i32 = -1;
  /** One entry per detector index; -1 = unset, else an Action. */
  actions: StaticArray<i8> = new StaticArray<i8>(0);
}

export class PluginConfig {
  mode: Mode = Mode.Enforce;
  failureMode: FailureMode = FailureMode.Open;
  maxBodyBytes: i32 = DEFAULT_MAX_BODY_BYTES;
  redactionStyle: RedactionStyle = RedactionStyle.TypeTag;
  /** Key of the `hash` redaction style (UTF-8 bytes); empty unless the style needs it. */
  hashKey: string = "";
  /** Action per detector index (built-ins, then custom detectors). */
  actions: StaticArray<u8> = new StaticArray<u8>(0);
  /** Direction bit set per detector index. */
  directions: StaticArray<u8> = new StaticArray<u8>(0);
  custom: Array<CustomDetector> = [];
  principals: Array<PrincipalRule> = [];
  oversizedRequestBytes: i32 = 0;
  oversizedResponseBytes: i32 = 0;
  rateMaxRequests: i32 = 0;
  rateWindowSeconds: i32 = DEFAULT_RATE_WINDOW_SECONDS;
  requestShape: Shape = Shape.Auto;
  responseShape: Shape = Shape.Auto;
  auditLog: AuditLog = AuditLog.All;
  /** `budgets` (docs/budgets.md); disabled when it has no limits. */
  budgets: BudgetConfig = new BudgetConfig();
  /** `model_access`; disabled when it has no lists. */
  access: AccessConfig = new AccessConfig();

  /** Built-ins plus custom detectors. */
  get detectorCount(): i32 {
    return this.actions.length;
  }

  idOf(index: i32): string {
    if (index < DETECTOR_COUNT) return DETECTOR_IDS[index];
    return this.custom[index - DETECTOR_COUNT].id;
  }

  indexOf(id: string): i32 {
    const b = builtinIndex(id);
    if (b >= 0) return b;
    for (let i = 0; i < this.custom.length; i++) {
      if (this.custom[i].id == id) return DETECTOR_COUNT + i;
    }
    return -1;
  }
}

export class ConfigResult {
  config: PluginConfig | null = null;
  /** JSON path of the offending field, e.g. `$.detectors.email`. */
  errorPath: string = "";
  errorReason: string = "";

  get ok(): bool {
    return this.config != null;
  }

  /** "<path>: <reason>", for the log line that fails plugin start. */
  get message(): string {
    return this.errorPath + ": " + this.errorReason;
  }
}

/**
 * Parses and validates the plugin configuration. Pure: no host calls, no globals.
 * An empty document means "all defaults". `vmHashKey` is the `hash_key` from the VM configuration
 * (empty when none), used when `redaction.hash_key` is absent.
 */
export function parseConfig(bytes: Uint8Array, vmHashKey: string = ""): ConfigResult {
  const result = new ConfigResult();
  let root: JsonValue;
  if (isBlank(bytes)) {
    root = new JsonValue();
    root.kind = JsonKind.Object;
  } else {
    const parsed = parseJson(bytes);
    if (parsed.value == null) {
      result.errorPath = parsed.errorPath;
      result.errorReason = "invalid JSON: " + parsed.errorReason;
      return result;
    }
    root = parsed.value!;
  }
  const v = new SectionError();
  const cfg = buildConfig(root, vmHashKey, v);
  if (cfg == null) {
    result.errorPath = v.path;
    result.errorReason = v.reason;
    return result;
  }
  result.config = cfg;
  return result;
}

function isBlank(bytes: Uint8Array): bool {
  for (let i = 0; i < bytes.length; i++) {
    const c = unchecked(bytes[i]);
    if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) return false;
  }
  return true;
}

const TOP_KEYS: StaticArray<string> = [
  "mode", "failure_mode", "max_body_bytes", "redaction", "detectors", "custom_detectors",
  "principals", "inspect", "audit", "budgets", "model_access",
];

function buildConfig(root: JsonValue, vmHashKey: string, v: SectionError): PluginConfig | null {
  if (root.kind != JsonKind.Object) {
    v.fail("$", "the configuration must be a JSON object, got " + root.kindName());
    return null;
  }
  if (!checkKeys(root, "$", TOP_KEYS, v)) return null;
  const cfg = new PluginConfig();

  let x = root.get("mode");
  if (x != null) {
    const m = enumString(x, "$.mode", ["monitor", "enforce"], v);
    if (m < 0) return null;
    cfg.mode = m == 0 ? Mode.Monitor : Mode.Enforce;
  }
  x = root.get("failure_mode");
  if (x != null) {
    const m = enumString(x, "$.failure_mode", ["open", "closed"], v);
    if (m < 0) return null;
    cfg.failureMode = m == 0 ? FailureMode.Open : FailureMode.Closed;
  }
  x = root.get("max_body_bytes");
  if (x != null) {
    const n = intInRange(x, "$.max_body_bytes", 1, MAX_MAX_BODY_BYTES, v);
    if (n < 0) return null;
    cfg.maxBodyBytes = n;
  }

  // Custom detectors first: their ids are valid keys of `detectors` and of principal overrides.
  x = root.get("custom_detectors");
  const customActions: Array<u8> = [];
  const customDirections: Array<u8> = [];
  if (x != null) {
    if (!parseCustomDetectors(x, cfg, customActions, customDirections, v)) return null;
  }
  const total = DETECTOR_COUNT + cfg.custom.length;
  cfg.actions = new StaticArray<u8>(total);
  cfg.directions = new StaticArray<u8>(total);
  for (let i = 0; i < DETECTOR_COUNT; i++) {
    cfg.actions[i] = <u8>defaultAction(i);
    cfg.directions[i] = <u8>Direction.Both;
  }
  for (let i = 0; i < cfg.custom.length; i++) {
    cfg.actions[DETECTOR_COUNT + i] = customActions[i];
    cfg.directions[DETECTOR_COUNT + i] = customDirections[i];
  }

  x = root.get("detectors");
  if (x != null) {
    if (!parseDetectors(x, cfg, v)) return null;
  }
  if (!checkAnomalyLimits(cfg, v)) return null;

  x = root.get("redaction");
  if (x != null) {
    if (!parseRedaction(x, cfg, v)) return null;
  }
  if (cfg.redactionStyle == RedactionStyle.Hash && cfg.hashKey.length == 0) {
    if (vmHashKey.length == 0) {
      v.fail("$.redaction.hash_key",
        "required when redaction.style is \"hash\" (or set hash_key in the VM configuration)");
      return null;
    }
    if (String.UTF8.byteLength(vmHashKey) < MIN_HASH_KEY_BYTES) {
      v.fail("$.redaction.hash_key", "the VM configuration's hash_key is shorter than " +
        MIN_HASH_KEY_BYTES.toString() + " bytes");
      return null;
    }
    cfg.hashKey = vmHashKey;
  }

  x = root.get("principals");
  if (x != null) {
    if (!parsePrincipals(x, cfg, v)) return null;
  }
  x = root.get("inspect");
  if (x != null) {
    if (!parseInspect(x, cfg, v)) return null;
  }
  x = root.get("audit");
  if (x != null) {
    if (!checkObject(x, "$.audit", v)) return null;
    if (!checkKeys(x, "$.audit", ["log"], v)) return null;
    const l = x.get("log");
    if (l != null) {
      const m = enumString(l, "$.audit.log", ["off", "findings", "all"], v);
      if (m < 0) return null;
      cfg.auditLog = <AuditLog>m;
    }
  }
  x = root.get("budgets");
  if (x != null) {
    const err = new SectionError();
    if (!parseBudgets(x, cfg.budgets, err)) {
      v.fail(err.path, err.reason);
      return null;
    }
  }
  x = root.get("model_access");
  if (x != null) {
    const err = new SectionError();
    if (!parseModelAccess(x, cfg.access, err)) {
      v.fail(err.path, err.reason);
      return null;
    }
  }
  return cfg;
}

function parseCustomDetectors(
  x: JsonValue, cfg: PluginConfig, actions: Array<u8>, directions: Array<u8>, v: SectionError,
): bool {
  if (x.kind != JsonKind.Array) return v.fail("$.custom_detectors", "must be an array, got " + x.kindName());
  if (x.items.length > MAX_CUSTOM_DETECTORS) {
    return v.fail("$.custom_detectors", "at most " + MAX_CUSTOM_DETECTORS.toString() + " custom detectors");
  }
  for (let i = 0; i < x.items.length; i++) {
    const p = "$.custom_detectors[" + i.toString() + "]";
    const item = x.items[i];
    if (!checkObject(item, p, v)) return false;
    if (!checkKeys(item, p, ["id", "keywords", "case_sensitive", "whole_word", "action", "directions"], v)) return false;
    const idv = item.get("id");
    if (idv == null) return v.fail(p + ".id", "required");
    if (idv.kind != JsonKind.String) return v.fail(p + ".id", "must be a string, got " + idv.kindName());
    const id = idv.str;
    if (!isValidId(id)) {
      return v.fail(p + ".id", "\"" + id + "\" is not a valid id (lower-case letter, then up to 63 of [a-z0-9_])");
    }
    if (builtinIndex(id) >= 0) return v.fail(p + ".id", "\"" + id + "\" is a built-in detector id");
    for (let k = 0; k < cfg.custom.length; k++) {
      if (cfg.custom[k].id == id) return v.fail(p + ".id", "duplicate custom detector id \"" + id + "\"");
    }
    const cd = new CustomDetector();
    cd.id = id;
    const kw = item.get("keywords");
    if (kw == null) return v.fail(p + ".keywords", "required");
    if (kw.kind != JsonKind.Array) return v.fail(p + ".keywords", "must be an array of strings, got " + kw.kindName());
    if (kw.items.length == 0) return v.fail(p + ".keywords", "must not be empty");
    if (kw.items.length > MAX_KEYWORDS) {
      return v.fail(p + ".keywords", "at most " + MAX_KEYWORDS.toString() + " keywords");
    }
    for (let k = 0; k < kw.items.length; k++) {
      const kp = p + ".keywords[" + k.toString() + "]";
      const s = kw.items[k];
      if (s.kind != JsonKind.String) return v.fail(kp, "must be a string, got " + s.kindName());
      const n = String.UTF8.byteLength(s.str);
      if (n < MIN_KEYWORD_BYTES) return v.fail(kp, "must be at least " + MIN_KEYWORD_BYTES.toString() + " bytes");
      if (n > MAX_KEYWORD_BYTES) return v.fail(kp, "longer than " + MAX_KEYWORD_BYTES.toString() + " bytes");
      cd.keywords.push(s.str);
    }
    const cs = item.get("case_sensitive");
    if (cs != null) {
      if (cs.kind != JsonKind.Bool) return v.fail(p + ".case_sensitive", "must be a boolean, got " + cs.kindName());
      cd.caseSensitive = cs.bool;
    }
    const ww = item.get("whole_word");
    if (ww != null) {
      if (ww.kind != JsonKind.Bool) return v.fail(p + ".whole_word", "must be a boolean, got " + ww.kindName());
      cd.wholeWord = ww.bool;
    }
    let action: i32 = Action.Alert;
    const a = item.get("action");
    if (a != null) {
      action = actionValue(a, p + ".action", v);
      if (action < 0) return false;
    }
    let dirs: i32 = Direction.Both;
    const d = item.get("directions");
    if (d != null) {
      dirs = directionsValue(d, p + ".directions", v);
      if (dirs < 0) return false;
    }
    cfg.custom.push(cd);
    actions.push(<u8>action);
    directions.push(<u8>dirs);
  }
  return true;
}

function parseDetectors(x: JsonValue, cfg: PluginConfig, v: SectionError): bool {
  if (!checkObject(x, "$.detectors", v)) return false;
  for (let i = 0; i < x.keys.length; i++) {
    const id = x.keys[i];
    const p = "$.detectors." + id;
    const idx = cfg.indexOf(id);
    if (idx < 0) return v.fail(p, "unknown detector id \"" + id + "\" (known: " + knownIds(cfg) + ")");
    const val = x.values[i];
    if (val.kind == JsonKind.String) {
      const a = actionValue(val, p, v);
      if (a < 0) return false;
      cfg.actions[idx] = <u8>a;
      continue;
    }
    if (val.kind != JsonKind.Object) {
      return v.fail(p, "must be an action string or an object with \"action\", got " + val.kindName());
    }
    let allowed: StaticArray<string> = ["action", "directions"];
    if (idx == ID_OVERSIZED_REQUEST || idx == ID_OVERSIZED_RESPONSE) allowed = ["action", "max_bytes"];
    else if (idx == ID_REQUEST_RATE) allowed = ["action", "max_requests", "window_seconds"];
    if (!checkKeys(val, p, allowed, v)) return false;
    const av = val.get("action");
    if (av == null) return v.fail(p + ".action", "required");
    const a = actionValue(av, p + ".action", v);
    if (a < 0) return false;
    cfg.actions[idx] = <u8>a;
    const d = val.get("directions");
    if (d != null) {
      const dirs = directionsValue(d, p + ".directions", v);
      if (dirs < 0) return false;
      cfg.directions[idx] = <u8>dirs;
    }
    if (idx == ID_OVERSIZED_REQUEST || idx == ID_OVERSIZED_RESPONSE) {
      const mb = val.get("max_bytes");
      if (mb != null) {
        const n = intInRange(mb, p + ".max_bytes", 1, i32.MAX_VALUE, v);
        if (n < 0) return false;
        if (idx == ID_OVERSIZED_REQUEST) cfg.oversizedRequestBytes = n;
        else cfg.oversizedResponseBytes = n;
      }
    } else if (idx == ID_REQUEST_RATE) {
      const mr = val.get("max_requests");
      if (mr != null) {
        const n = intInRange(mr, p + ".max_requests", 1, 1000000000, v);
        if (n < 0) return false;
        cfg.rateMaxRequests = n;
      }
      const ws = val.get("window_seconds");
      if (ws != null) {
        const n = intInRange(ws, p + ".window_seconds", 1, 86400, v);
        if (n < 0) return false;
        cfg.rateWindowSeconds = n;
      }
    }
  }
  return true;
}

function checkAnomalyLimits(cfg: PluginConfig, v: SectionError): bool {
  if (cfg.actions[ID_OVERSIZED_REQUEST] != Action.Off && cfg.oversizedRequestBytes == 0) {
    return v.fail("$.detectors.oversized_request.max_bytes", "required when the action is not \"off\"");
  }
  if (cfg.actions[ID_OVERSIZED_RESPONSE] != Action.Off && cfg.oversizedResponseBytes == 0) {
    return v.fail("$.detectors.oversized_response.max_bytes", "required when the action is not \"off\"");
  }
  if (cfg.actions[ID_REQUEST_RATE] == Action.Redact) {
    return v.fail("$.detectors.request_rate.action", "\"redact\" does not apply to a rate (use off, alert or block)");
  }
  if (cfg.actions[ID_OVERSIZED_REQUEST] == Action.Redact) {
    return v.fail("$.detectors.oversized_request.action", "\"redact\" does not apply to a size (use off, alert or block)");
  }
  if (cfg.actions[ID_OVERSIZED_RESPONSE] == Action.Redact) {
    return v.fail("$.detectors.oversized_response.action", "\"redact\" does not apply to a size (use off, alert or block)");
  }
  if (cfg.actions[ID_REQUEST_RATE] != Action.Off && cfg.rateMaxRequests == 0) {
    return v.fail("$.detectors.request_rate.max_requests", "required when the action is not \"off\"");
  }
  return true;
}

function parseRedaction(x: JsonValue, cfg: PluginConfig, v: SectionError): bool {
  if (!checkObject(x, "$.redaction", v)) return false;
  if (!checkKeys(x, "$.redaction", ["style", "hash_key"], v)) return false;
  const s = x.get("style");
  if (s != null) {
    const m = enumString(s, "$.redaction.style", ["type_tag", "mask", "hash"], v);
    if (m < 0) return false;
    cfg.redactionStyle = <RedactionStyle>m;
  }
  const k = x.get("hash_key");
  if (k != null) {
    if (k.kind != JsonKind.String) return v.fail("$.redaction.hash_key", "must be a string, got " + k.kindName());
    if (String.UTF8.byteLength(k.str) < MIN_HASH_KEY_BYTES) {
      return v.fail("$.redaction.hash_key", "must be at least " + MIN_HASH_KEY_BYTES.toString() + " bytes");
    }
    cfg.hashKey = k.str;
  }
  return true;
}

function parsePrincipals(x: JsonValue, cfg: PluginConfig, v: SectionError): bool {
  if (x.kind != JsonKind.Array) return v.fail("$.principals", "must be an array, got " + x.kindName());
  if (x.items.length > MAX_PRINCIPAL_RULES) {
    return v.fail("$.principals", "at most " + MAX_PRINCIPAL_RULES.toString() + " rules");
  }
  for (let i = 0; i < x.items.length; i++) {
    const p = "$.principals[" + i.toString() + "]";
    const item = x.items[i];
    if (!checkObject(item, p, v)) return false;
    if (!checkKeys(item, p, ["match", "mode", "detectors"], v)) return false;
    const rule = new PrincipalRule();
    const m = item.get("match");
    if (m == null) return v.fail(p + ".match", "required");
    if (m.kind != JsonKind.String) return v.fail(p + ".match", "must be a string, got " + m.kindName());
    if (m.str.length == 0) return v.fail(p + ".match", "must not be empty (use \"*\" to match every caller)");
    rule.match = m.str;
    const mode = item.get("mode");
    if (mode != null) {
      const mm = enumString(mode, p + ".mode", ["monitor", "enforce"], v);
      if (mm < 0) return false;
      rule.mode = mm;
    }
    rule.actions = new StaticArray<i8>(cfg.detectorCount);
    for (let k = 0; k < rule.actions.length; k++) rule.actions[k] = -1;
    const d = item.get("detectors");
    if (d != null) {
      if (!checkObject(d, p + ".detectors", v)) return false;
      for (let k = 0; k < d.keys.length; k++) {
        const id = d.keys[k];
        const dp = p + ".detectors." + id;
        const idx = cfg.indexOf(id);
        if (idx < 0) return v.fail(dp, "unknown detector id \"" + id + "\" (known: " + knownIds(cfg) + ")");
        const val = d.values[k];
        let av: JsonValue | null = val;
        let ap = dp;
        if (val.kind == JsonKind.Object) {
          if (!checkKeys(val, dp, ["action"], v)) return false;
          av = val.get("action");
          ap = dp + ".action";
          if (av == null) return v.fail(ap, "required");
        }
        const a = actionValue(av!, ap, v);
        if (a < 0) return false;
        if (a == Action.Redact && idx >= ID_OVERSIZED_REQUEST && idx <= ID_REQUEST_RATE) {
          return v.fail(ap, "\"redact\" does not apply to " + id + " (use off, alert or block)");
        }
        if (a != Action.Off) {
          if (idx == ID_OVERSIZED_REQUEST && cfg.oversizedRequestBytes == 0 ||
              idx == ID_OVERSIZED_RESPONSE && cfg.oversizedResponseBytes == 0 ||
              idx == ID_REQUEST_RATE && cfg.rateMaxRequests == 0) {
            return v.fail(ap, "enabling " + id + " needs its limit set in $.detectors." + id);
          }
        }
        rule.actions[idx] = <i8>a;
      }
    }
    cfg.principals.push(rule);
  }
  return true;
}

function parseInspect(x: JsonValue, cfg: PluginConfig, v: SectionError): bool {
  if (!checkObject(x, "$.inspect", v)) return false;
  if (!checkKeys(x, "$.inspect", ["request_shape", "response_shape"], v)) return false;
  const names: StaticArray<string> = [
    "auto", "openai_chat", "openai_completions", "openai_embeddings", "openai_responses", "kserve_v2",
    "json", "text", "none", "anthropic_messages",
  ];
  const rq = x.get("request_shape");
  if (rq != null) {
    const s = enumString(rq, "$.inspect.request_shape", names, v);
    if (s < 0) return false;
    cfg.requestShape = <Shape>parseShape(names[s]);
  }
  const rs = x.get("response_shape");
  if (rs != null) {
    const s = enumString(rs, "$.inspect.response_shape", names, v);
    if (s < 0) return false;
    cfg.responseShape = <Shape>parseShape(names[s]);
  }
  return true;
}

// ---- small helpers -------------------------------------------------------------------------

function enumString(x: JsonValue, path: string, names: StaticArray<string>, v: SectionError): i32 {
  if (x.kind != JsonKind.String) {
    v.fail(path, "must be one of " + names.join(", ") + "; got " + x.kindName());
    return -1;
  }
  for (let i = 0; i < names.length; i++) {
    if (names[i] == x.str) return i;
  }
  v.fail(path, "\"" + x.str + "\" is not one of " + names.join(", "));
  return -1;
}

function actionValue(x: JsonValue, path: string, v: SectionError): i32 {
  if (x.kind != JsonKind.String) {
    v.fail(path, "must be one of off, alert, redact, block; got " + x.kindName());
    return -1;
  }
  const a = parseAction(x.str);
  if (a < 0) v.fail(path, "\"" + x.str + "\" is not an action (off, alert, redact, block)");
  return a;
}

function directionsValue(x: JsonValue, path: string, v: SectionError): i32 {
  if (x.kind != JsonKind.Array) {
    v.fail(path, "must be an array of \"request\" / \"response\", got " + x.kindName());
    return -1;
  }
  if (x.items.length == 0) {
    v.fail(path, "must not be empty (use action \"off\" to disable a detector)");
    return -1;
  }
  let bits = 0;
  for (let i = 0; i < x.items.length; i++) {
    const d = enumString(x.items[i], path + "[" + i.toString() + "]", ["request", "response"], v);
    if (d < 0) return -1;
    bits |= d == 0 ? Direction.Request : Direction.Response;
  }
  return bits;
}

function intInRange(x: JsonValue, path: string, min: i32, max: i32, v: SectionError): i32 {
  if (x.kind != JsonKind.Number || !x.isInteger) {
    v.fail(path, "must be an integer, got " + (x.kind == JsonKind.Number ? "a fraction" : x.kindName()));
    return -1;
  }
  if (x.num < <f64>min || x.num > <f64>max) {
    v.fail(path, "must be between " + min.toString() + " and " + max.toString());
    return -1;
  }
  return <i32>x.num;
}

function isValidId(id: string): bool {
  const n = id.length;
  if (n == 0 || n > 64) return false;
  for (let i = 0; i < n; i++) {
    const c = id.charCodeAt(i);
    const lower = c >= 0x61 && c <= 0x7a;
    if (i == 0 && !lower) return false;
    if (!(lower || (c >= 0x30 && c <= 0x39) || c == 0x5f)) return false;
  }
  return true;
}

function knownIds(cfg: PluginConfig): string {
  let s = "";
  for (let i = 0; i < cfg.detectorCount; i++) {
    if (i > 0) s += ", ";
    s += cfg.idOf(i);
  }
  return s;
}

/** Action name for logs (re-exported for convenience). */
export function actionString(a: i32): string {
  return actionName(<Action>a);
}
