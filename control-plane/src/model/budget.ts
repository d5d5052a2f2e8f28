/**
 * Token budgets and model access lists, enforced by the meshward filter inside Envoy (delivered in
 * the global DLP policy's ECDS config, see translate/budget-config.ts).
 *
 * Budgets
 * - A budget is `tokens` cost units per `window` for each caller identity its `principals` match
 *   (or, with `shared: true`, one pot for all of them), optionally only for some models (the body's
 *   `model` field, wildcards) and some routes (ModelService names).
 * - Windows are FIXED and aligned to UTC (minute: :00 s, hour: :00, day: 00:00 UTC). A fixed window
 *   is the only kind a proxy can enforce exactly with one counter; sliding windows are estimates.
 * - Cost of a call = ceil(input × weights.input + cachedInput × weights.cachedInput + output ×
 *   weights.output) with the first `costs` entry whose `model` pattern matches, else weight 1 each.
 * - Admission (before the model): estimated prompt tokens + the requested maximum output. If the
 *   budget cannot cover it: `onExceed: reject` (default) answers 429 + Retry-After; `clamp` lowers
 *   the request's max_tokens / max_completion_tokens / max_output_tokens to what is left.
 * - Output is charged as it streams; a stream that exhausts the budget is ended cleanly.
 * - `dryRun`: counted and reported, never rejected or cut.
 *
 * Model access lists
 * - An identity matched by at least one list may call only the models of the lists matching it
 *   (union); an identity matched by none is unrestricted. A list with principals `['*']` and the
 *   models everyone may use makes the default deny for every mTLS caller.
 */

/** Fixed UTC-aligned windows. */
export type BudgetWindow = 'minute' | 'hour' | 'day';
export const BUDGET_WINDOWS: readonly BudgetWindow[] = ['minute', 'hour', 'day'];

/** Length of a window in seconds. */
export function budgetWindowSeconds(w: BudgetWindow): number {
  return w === 'minute' ? 60 : w === 'hour' ? 3600 : 86_400;
}

export type BudgetOnExceed = 'reject' | 'clamp';
export const BUDGET_ON_EXCEED: readonly BudgetOnExceed[] = ['reject', 'clamp'];

/** Weights of the cost formula; each 0..1000, defaults 1. */
export interface CostWeights {
  readonly input?: number;
  readonly cachedInput?: number;
  readonly output?: number;
}

/** Cost weights for the models matching `model` (a model name, `*` wildcards allowed). */
export interface ModelCost extends CostWeights {
  readonly model: string;
}

export interface Budget {
  /** Unique in the mesh; `[a-z0-9]([-a-z0-9._]*[a-z0-9])?`, max 63. Also the counter's key. */
  readonly name: string;
  /** Caller patterns (as in authorization rules: exact SPIFFE ID, `spiffe://td/ns/<ns>/*`, `spiffe://td/*`, `*`). At least one. */
  readonly principals: readonly string[];
  /** Body `model` patterns (`gpt-4o*`) the budget counts; absent = every model. */
  readonly models?: readonly string[];
  /** ModelService names whose routes the budget counts; absent = every route. */
  readonly routes?: readonly string[];
  /** Cost units per window, 1..10^12. */
  readonly tokens: number;
  readonly window: BudgetWindow;
  /** One counter for all matched identities (a team pot). Defaults to false: one per identity. */
  readonly shared?: boolean;
  /** Defaults to `reject`. */
  readonly onExceed?: BudgetOnExceed;
  /** The smallest output allowance `clamp` will grant; below it the call is rejected. Defaults to 16. */
  readonly minOutputTokens?: number;
  /** First match wins; absent or no match: weight 1 for every kind. */
  readonly costs?: readonly ModelCost[];
  /** Count and report, never reject or cut. Defaults to false. */
  readonly dryRun?: boolean;
}

export interface ModelAccessList {
  /** Unique in the mesh; same format as other resource names. */
  readonly name: string;
  /** Caller patterns (see Budget.principals). At least one. */
  readonly principals: readonly string[];
  /** Body `model` patterns the callers may use; may be empty (nothing). */
  readonly models: readonly string[];
}

/** Model-name patterns: printable ASCII without spaces, `*` matching any run of characters. */
export const MODEL_PATTERN = /^[\x21-\x7e]{1,256}$/;

/** True when `model` matches `pattern` (`*` = any run, everything else literal, case-sensitive). */
export function modelPatternMatches(pattern: string, model: string): boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === model;
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (!model.startsWith(first) || model.length < first.length + last.length || !model.endsWith(last)) return false;
  let pos = first.length;
  const end = model.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const p = parts[i]!;
    const at = model.indexOf(p, pos);
    if (at < 0 || at + p.length > end) return false;
    pos = at + p.length;
  }
  return true;
}

/** The weights applying to `model` under a budget (first matching `costs` entry, defaults 1). */
export function costWeightsFor(b: Budget, model: string): Required<CostWeights> {
  const c = b.costs?.find((x) => modelPatternMatches(x.model, model));
  return { input: c?.input ?? 1, cachedInput: c?.cachedInput ?? 1, output: c?.output ?? 1 };
}

/** Cost units of a call: ceil of the weighted sum (the filter computes the same). */
export function budgetCost(w: Required<CostWeights>, input: number, cachedInput: number, output: number): number {
  return Math.ceil(input * w.input + cachedInput * w.cachedInput + output * w.output - 1e-9);
}

/** Start (ms since epoch) of the fixed window containing `nowMs`. */
export function budgetWindowStart(w: BudgetWindow, nowMs: number): number {
  const len = budgetWindowSeconds(w) * 1000;
  return Math.floor(nowMs / len) * len;
}
