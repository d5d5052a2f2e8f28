/**
 * The `budgets` and `model_access` sections of the plugin configuration, parsed by one pure
 * function each from the already-parsed JSON document (config/json-value.ts). Errors name the
 * JSON path and the reason, like the rest of the configuration (`$.budgets.limits[0].window: ...`).
 *
 * ```json
 * "budgets": {
 *   "limits": [{"name": "team-a", "principals": ["spiffe://corp/ns/team-a/*"], "models": ["gpt-4o*"],
 *               "routes": ["chat"], "tokens": 100000, "window": "hour", "shared": false,
 *               "on_exceed": "reject", "min_output_tokens": 16, "dry_run": false,
 *               "costs": [{"model": "gpt-4o*", "input": 1, "cached_input": 0.5, "output": 4}]}],
 *   "api_keys": {"header": "x-api-key", "keys": [{"sha256": "<64 hex>", "identity": "apikey:team-a"}]},
 *   "default_output_tokens": 1024,
 *   "lease": {"cluster": "meshward_control_plane", "authority": "meshward-cp", "path": "/v1/budget-leases",
 *             "tokens": 10000, "timeout_ms": 2000, "authorization": "Bearer ...", "release_after_ms": 30000}
 * },
 * "model_access": {"lists": [{"name": "team-a", "principals": ["spiffe://corp/ns/team-a/*"], "models": ["gpt-4o*"]}],
 *                  "check_model_header": true}
 * ```
 * Weights are kept as integer thousandths (at most 3 decimals), so every proxy computes the same
 * integer cost: cost = ceil((input × wi + cached × wc + output × wo) / 1000).
 */
import { JsonKind, JsonValue, hexValue } from "../config/json-value";
import { SectionError, checkKeys, checkObject } from "../config/field-checks";

export const WINDOW_MINUTE: i32 = 0;
export const WINDOW_HOUR: i32 = 1;
export const WINDOW_DAY: i32 = 2;

export const DEFAULT_MIN_OUTPUT_TOKENS: i64 = 16;
export const DEFAULT_OUTPUT_TOKENS: i64 = 1024;
export const DEFAULT_LEASE_TOKENS: i64 = 0; // 0 = a quarter of the budget, decided per limit
/** Default `lease.release_after_ms`: idle grants go back after 30 s. */
export const DEFAULT_RELEASE_AFTER_MS: u32 = 30000;
export const MIN_RELEASE_AFTER_MS: i64 = 1000;
export const MAX_RELEASE_AFTER_MS: i64 = 3600000;
export const MAX_BUDGET_TOKENS: f64 = 1e12;

export function windowSeconds(w: i32): i64 {
  return w == WINDOW_MINUTE ? 60 : w == WINDOW_HOUR ? 3600 : 86400;
}

export function windowName(w: i32): string {
  return w == WINDOW_MINUTE ? "minute" : w == WINDOW_HOUR ? "hour" : "day";
}

export class ModelCost {
  pattern: string = "*";
  /** Thousandths. */
  input: i64 = 1000;
  cached: i64 = 1000;
  output: i64 = 1000;
}

export class BudgetLimit {
  name: string = "";
  principals: Array<string> = [];
  /** Empty = every model. */
  models: Array<string> = [];
  /** Empty = every route. */
  routes: Array<string> = [];
  tokens: i64 = 0;
  window: i32 = WINDOW_HOUR;
  shared: bool = false;
  clamp: bool = false;
  minOutputTokens: i64 = DEFAULT_MIN_OUTPUT_TOKENS;
  dryRun: bool = false;
  costs: Array<ModelCost> = [];
  /** Index in the config (metrics and filter state use it). */
  index: i32 = 0;

  /** The weights for `model` (first matching cost entry, else 1/1/1). */
  costFor(model: string): ModelCost {
    for (let i = 0; i < this.costs.length; i++) {
      if (globMatch(this.costs[i].pattern, model)) return this.costs[i];
    }
    return DEFAULT_COST;
  }
}

const DEFAULT_COST = new ModelCost();

export class ApiKey {
  /** 32 raw bytes. */
  sha256: Uint8Array = new Uint8Array(32);
  identity: string = "";
}

export class LeaseConfig {
  cluster: string = "";
  authority: string = "";
  path: string = "/v1/budget-leases";
  /** Tokens to ask per lease; 0 = a quarter of the limit. */
  tokens: i64 = DEFAULT_LEASE_TOKENS;
  timeoutMs: u32 = 2000;
  authorization: string = "";
  /**
   * A counter of this Envoy with no charge and no lease call for this long gives its unspent grant
   * back to the control plane (`release: true`), so idle Envoys do not strand the budget. 0 = never.
   */
  releaseAfterMs: u32 = DEFAULT_RELEASE_AFTER_MS;
}

export class BudgetConfig {
  limits: Array<BudgetLimit> = [];
  apiKeyHeader: string = "";
  apiKeys: Array<ApiKey> = [];
  defaultOutputTokens: i64 = DEFAULT_OUTPUT_TOKENS;
  lease: LeaseConfig | null = null;

  get enabled(): bool {
    return this.limits.length > 0;
  }
}

export class AccessList {
  name: string = "";
  principals: Array<string> = [];
  models: Array<string> = [];
}

export class AccessConfig {
  lists: Array<AccessList> = [];
  checkModelHeader: bool = true;

  get enabled(): bool {
    return this.lists.length > 0;
  }
}

/** Collects the first error (path + reason); shared with the plugin-config parser. */
export { SectionError } from "../config/field-checks";

// ---- parsing -------------------------------------------------------------------------------

/** Parses `$.budgets` into `out`; false with `err` set on the first problem. */
export function parseBudgets(x: JsonValue, out: BudgetConfig, err: SectionError): bool {
  const p = "$.budgets";
  if (!checkObject(x, p, err)) return false;
  if (!checkKeys(x, p, ["limits", "api_keys", "default_output_tokens", "lease"], err)) return false;
  const limits = x.get("limits");
  if (limits == null) return err.fail(p + ".limits", "required");
  if (limits.kind != JsonKind.Array) return err.fail(p + ".limits", "must be an array, got " + limits.kindName());
  if (limits.items.length > 1000) return err.fail(p + ".limits", "at most 1000 limits");
  for (let i = 0; i < limits.items.length; i++) {
    const l = parseLimit(limits.items[i], p + ".limits[" + i.toString() + "]", err);
    if (l == null) return false;
    for (let j = 0; j < out.limits.length; j++) {
      if (out.limits[j].name == l.name) return err.fail(p + ".limits[" + i.toString() + "].name", "duplicate name \"" + l.name + "\"");
    }
    l.index = out.limits.length;
    out.limits.push(l);
  }
  const dot = x.get("default_output_tokens");
  if (dot != null) {
    const n = intIn(dot, p + ".default_output_tokens", 1, 10000000, err);
    if (n < 0) return false;
    out.defaultOutputTokens = n;
  }
  const ak = x.get("api_keys");
  if (ak != null && !parseApiKeys(ak, p + ".api_keys", out, err)) return false;
  const ls = x.get("lease");
  if (ls != null) {
    const lc = parseLease(ls, p + ".lease", err);
    if (lc == null) return false;
    out.lease = lc;
  }
  return true;
}

function parseLimit(x: JsonValue, p: string, err: SectionError): BudgetLimit | null {
  if (!checkObject(x, p, err)) return null;
  if (!checkKeys(x, p, ["name", "principals", "models", "routes", "tokens", "window", "shared", "on_exceed",
    "min_output_tokens", "dry_run", "costs"], err)) return null;
  const l = new BudgetLimit();
  const name = x.get("name");
  if (name == null) { err.fail(p + ".name", "required"); return null; }
  if (name.kind != JsonKind.String || !isName(name.str)) {
    err.fail(p + ".name", "must be a name of lower-case letters, digits, '-', '.', '_' (max 63)");
    return null;
  }
  l.name = name.str;
  if (!stringList(x.get("principals"), p + ".principals", true, l.principals, err)) return null;
  if (!stringList(x.get("models"), p + ".models", false, l.models, err)) return null;
  if (!stringList(x.get("routes"), p + ".routes", false, l.routes, err)) return null;
  const t = x.get("tokens");
  if (t == null) { err.fail(p + ".tokens", "required"); return null; }
  if (t.kind != JsonKind.Number || !t.isInteger || t.num < 1 || t.num > MAX_BUDGET_TOKENS) {
    err.fail(p + ".tokens", "must be an integer between 1 and 1000000000000");
    return null;
  }
  l.tokens = <i64>t.num;
  const w = x.get("window");
  if (w == null) { err.fail(p + ".window", "required (minute, hour or day)"); return null; }
  if (w.kind != JsonKind.String) { err.fail(p + ".window", "must be one of minute, hour, day; got " + w.kindName()); return null; }
  if (w.str == "minute") l.window = WINDOW_MINUTE;
  else if (w.str == "hour") l.window = WINDOW_HOUR;
  else if (w.str == "day") l.window = WINDOW_DAY;
  else { err.fail(p + ".window", "\"" + w.str + "\" is not one of minute, hour, day"); return null; }
  const sh = x.get("shared");
  if (sh != null) {
    if (sh.kind != JsonKind.Bool) { err.fail(p + ".shared", "must be true or false"); return null; }
    l.shared = sh.bool;
  }
  const dr = x.get("dry_run");
  if (dr != null) {
    if (dr.kind != JsonKind.Bool) { err.fail(p + ".dry_run", "must be true or false"); return null; }
    l.dryRun = dr.bool;
  }
  const oe = x.get("on_exceed");
  if (oe != null) {
    if (oe.kind != JsonKind.String || (oe.str != "reject" && oe.str != "clamp")) {
      err.fail(p + ".on_exceed", "must be \"reject\" or \"clamp\"");
      return null;
    }
    l.clamp = oe.str == "clamp";
  }
  const mo = x.get("min_output_tokens");
  if (mo != null) {
    const n = intIn(mo, p + ".min_output_tokens", 1, 1000000, err);
    if (n < 0) return null;
    l.minOutputTokens = n;
  }
  const cs = x.get("costs");
  if (cs != null) {
    if (cs.kind != JsonKind.Array) { err.fail(p + ".costs", "must be an array, got " + cs.kindName()); return null; }
    for (let i = 0; i < cs.items.length; i++) {
      const cp = p + ".costs[" + i.toString() + "]";
      const c = cs.items[i];
      if (!checkObject(c, cp, err)) return null;
      if (!checkKeys(c, cp, ["model", "input", "cached_input", "output"], err)) return null;
      const mc = new ModelCost();
      const m = c.get("model");
      if (m == null || m.kind != JsonKind.String || m.str.length == 0) { err.fail(cp + ".model", "required (a model pattern)"); return null; }
      mc.pattern = m.str;
      mc.input = weight(c.get("input"), cp + ".input", err);
      mc.cached = weight(c.get("cached_input"), cp + ".cached_input", err);
      mc.output = weight(c.get("output"), cp + ".output", err);
      if (err.failed) return null;
      l.costs.push(mc);
    }
  }
  return l;
}

function weight(x: JsonValue | null, p: string, err: SectionError): i64 {
  if (x == null) return 1000;
  if (x.kind != JsonKind.Number || x.num < 0 || x.num > 1000) {
    err.fail(p, "must be a number between 0 and 1000");
    return 0;
  }
  const milli = Math.round(x.num * 1000);
  if (Math.abs(milli - x.num * 1000) > 1e-6) {
    err.fail(p, "must have at most 3 decimals");
    return 0;
  }
  return <i64>milli;
}

function parseApiKeys(x: JsonValue, p: string, out: BudgetConfig, err: SectionError): bool {
  if (!checkObject(x, p, err)) return false;
  if (!checkKeys(x, p, ["header", "keys"], err)) return false;
  const h = x.get("header");
  if (h == null || h.kind != JsonKind.String || h.str.length == 0) return err.fail(p + ".header", "required (a request header name)");
  const name = h.str.toLowerCase();
  if (name.charCodeAt(0) == 0x3a) return err.fail(p + ".header", "must not be a pseudo-header");
  out.apiKeyHeader = name;
  const ks = x.get("keys");
  if (ks == null) return err.fail(p + ".keys", "required");
  if (ks.kind != JsonKind.Array) return err.fail(p + ".keys", "must be an array, got " + ks.kindName());
  for (let i = 0; i < ks.items.length; i++) {
    const kp = p + ".keys[" + i.toString() + "]";
    const k = ks.items[i];
    if (!checkObject(k, kp, err)) return false;
    if (!checkKeys(k, kp, ["sha256", "identity"], err)) return false;
    const s = k.get("sha256");
    if (s == null || s.kind != JsonKind.String || s.str.length != 64) return err.fail(kp + ".sha256", "must be 64 hex characters (SHA-256 of the key)");
    const key = new ApiKey();
    for (let j = 0; j < 32; j++) {
      const hi = hexValue(s.str.charCodeAt(2 * j));
      const lo = hexValue(s.str.charCodeAt(2 * j + 1));
      if (hi < 0 || lo < 0) return err.fail(kp + ".sha256", "must be 64 hex characters (SHA-256 of the key)");
      key.sha256[j] = <u8>((hi << 4) | lo);
    }
    const id = k.get("identity");
    if (id == null || id.kind != JsonKind.String || id.str.length == 0 || id.str.length > 2048) {
      return err.fail(kp + ".identity", "required (the identity budgets and access lists match, e.g. apikey:team-a)");
    }
    key.identity = id.str;
    out.apiKeys.push(key);
  }
  return true;
}

function parseLease(x: JsonValue, p: string, err: SectionError): LeaseConfig | null {
  if (!checkObject(x, p, err)) return null;
  if (!checkKeys(x, p, ["cluster", "authority", "path", "tokens", "timeout_ms", "authorization", "release_after_ms"], err)) return null;
  const l = new LeaseConfig();
  const c = x.get("cluster");
  if (c == null || c.kind != JsonKind.String || c.str.length == 0) { err.fail(p + ".cluster", "required (the Envoy cluster of the lease service)"); return null; }
  l.cluster = c.str;
  const a = x.get("authority");
  if (a == null || a.kind != JsonKind.String || a.str.length == 0) { err.fail(p + ".authority", "required"); return null; }
  l.authority = a.str;
  const pa = x.get("path");
  if (pa != null) {
    if (pa.kind != JsonKind.String || pa.str.length == 0 || pa.str.charCodeAt(0) != 0x2f) { err.fail(p + ".path", "must start with /"); return null; }
    l.path = pa.str;
  }
  const t = x.get("tokens");
  if (t != null) {
    const n = intIn(t, p + ".tokens", 1, 1000000000, err);
    if (n < 0) return null;
    l.tokens = n;
  }
  const to = x.get("timeout_ms");
  if (to != null) {
    const n = intIn(to, p + ".timeout_ms", 1, 60000, err);
    if (n < 0) return null;
    l.timeoutMs = <u32>n;
  }
  const au = x.get("authorization");
  if (au != null) {
    if (au.kind != JsonKind.String) { err.fail(p + ".authorization", "must be a string"); return null; }
    l.authorization = au.str;
  }
  const ra = x.get("release_after_ms");
  if (ra != null) {
    if (ra.kind != JsonKind.Number || !ra.isInteger || (ra.num != 0 && (ra.num < <f64>MIN_RELEASE_AFTER_MS || ra.num > <f64>MAX_RELEASE_AFTER_MS))) {
      err.fail(p + ".release_after_ms", "must be 0 (never release) or an integer between " + MIN_RELEASE_AFTER_MS.toString() + " and " + MAX_RELEASE_AFTER_MS.toString());
      return null;
    }
    l.releaseAfterMs = <u32>ra.num;
  }
  return l;
}

/** Parses `$.model_access` into `out`. */
export function parseModelAccess(x: JsonValue, out: AccessConfig, err: SectionError): bool {
  const p = "$.model_access";
  if (!checkObject(x, p, err)) return false;
  if (!checkKeys(x, p, ["lists", "check_model_header"], err)) return false;
  const ls = x.get("lists");
  if (ls == null) return err.fail(p + ".lists", "required");
  if (ls.kind != JsonKind.Array) return err.fail(p + ".lists", "must be an array, got " + ls.kindName());
  for (let i = 0; i < ls.items.length; i++) {
    const lp = p + ".lists[" + i.toString() + "]";
    const item = ls.items[i];
    if (!checkObject(item, lp, err)) return false;
    if (!checkKeys(item, lp, ["name", "principals", "models"], err)) return false;
    const l = new AccessList();
    const n = item.get("name");
    if (n == null || n.kind != JsonKind.String || !isName(n.str)) return err.fail(lp + ".name", "must be a name of lower-case letters, digits, '-', '.', '_' (max 63)");
    l.name = n.str;
    if (!stringList(item.get("principals"), lp + ".principals", true, l.principals, err)) return false;
    const m = item.get("models");
    if (m == null) return err.fail(lp + ".models", "required (may be empty: no model)");
    if (!stringListAllowEmpty(m, lp + ".models", l.models, err)) return false;
    out.lists.push(l);
  }
  const c = x.get("check_model_header");
  if (c != null) {
    if (c.kind != JsonKind.Bool) return err.fail(p + ".check_model_header", "must be true or false");
    out.checkModelHeader = c.bool;
  }
  return true;
}

// ---- helpers -------------------------------------------------------------------------------

/** `*` matches any run of characters (also empty); everything else is literal. */
export function globMatch(pattern: string, s: string): bool {
  const star = pattern.indexOf("*");
  if (star < 0) return pattern == s;
  if (pattern == "*") return true;
  // Iterative wildcard match with backtracking to the last star.
  let p = 0;
  let i = 0;
  let lastStar = -1;
  let mark = 0;
  const pn = pattern.length;
  const sn = s.length;
  while (i < sn) {
    if (p < pn && pattern.charCodeAt(p) == 0x2a) {
      lastStar = p++;
      mark = i;
    } else if (p < pn && pattern.charCodeAt(p) == s.charCodeAt(i)) {
      p++;
      i++;
    } else if (lastStar >= 0) {
      p = lastStar + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pn && pattern.charCodeAt(p) == 0x2a) p++;
  return p == pn;
}

/** A caller pattern: `*` matches any non-empty identity; otherwise {@link globMatch}. */
export function principalMatch(pattern: string, identity: string): bool {
  if (identity.length == 0) return false;
  return globMatch(pattern, identity);
}

function stringList(x: JsonValue | null, p: string, required: bool, out: Array<string>, err: SectionError): bool {
  if (x == null) return required ? err.fail(p, "required") : true;
  if (x.kind != JsonKind.Array) return err.fail(p, "must be an array of strings, got " + x.kindName());
  if (x.items.length == 0) return err.fail(p, required ? "must not be empty" : "must not be empty (omit it to match everything)");
  return stringListAllowEmpty(x, p, out, err);
}

function stringListAllowEmpty(x: JsonValue, p: string, out: Array<string>, err: SectionError): bool {
  if (x.kind != JsonKind.Array) return err.fail(p, "must be an array of strings, got " + x.kindName());
  for (let i = 0; i < x.items.length; i++) {
    const s = x.items[i];
    if (s.kind != JsonKind.String || s.str.length == 0) return err.fail(p + "[" + i.toString() + "]", "must be a non-empty string");
    out.push(s.str);
  }
  return true;
}

function intIn(x: JsonValue, p: string, min: i64, max: i64, err: SectionError): i64 {
  if (x.kind != JsonKind.Number || !x.isInteger || x.num < <f64>min || x.num > <f64>max) {
    err.fail(p, "must be an integer between " + min.toString() + " and " + max.toString());
    return -1;
  }
  return <i64>x.num;
}

function isName(s: string): bool {
  const n = s.length;
  if (n == 0 || n > 63) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    const alnum = (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39);
    if ((i == 0 || i == n - 1) && !alnum) return false;
    if (!(alnum || c == 0x2d || c == 0x2e || c == 0x5f)) return false;
  }
  return true;
}

