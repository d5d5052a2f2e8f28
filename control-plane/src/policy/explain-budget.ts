/**
 * "May identity X call model M now, and how much budget is left?" — the model access lists and
 * budgets of model/budget.ts evaluated in plain TypeScript, with the same matching rules as the
 * filter (principal patterns as in authorization rules, `*` model wildcards, route = ModelService
 * name). Pure: usage comes from the caller (the lease service's view, when there is one).
 */
import {
  budgetWindowSeconds,
  budgetWindowStart,
  modelPatternMatches,
  parsePrincipalPattern,
  principalMatches,
  type MeshModel,
} from '../model/index.js';

export interface ModelAccessExplanation {
  /** `unrestricted`: no access list matches the caller. */
  readonly decision: 'allowed' | 'denied' | 'unrestricted';
  /** Lists whose principals match the caller. */
  readonly matchingLists: readonly string[];
  /** The list whose models include the model (when allowed). */
  readonly allowedBy: string | undefined;
  readonly reason: string;
}

export interface BudgetExplanation {
  readonly budget: string;
  readonly window: string;
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly tokens: number;
  /** The counter: the caller, or `*` for a shared budget. */
  readonly key: string;
  /** What the control plane knows was spent (lease reports); undefined without a lease service. */
  readonly spent: number | undefined;
  /** tokens − spent (an upper bound: proxies report spend when they renew leases). */
  readonly remaining: number | undefined;
  readonly onExceed: 'reject' | 'clamp';
  readonly dryRun: boolean;
}

/** What the lease service knows about one counter (see budget/budget-lease-service.ts). */
export type BudgetUsageLookup = (budget: string, key: string) => { readonly spent: number } | undefined;

const matches = (patterns: readonly string[], caller: string | undefined): boolean =>
  patterns.some((p) => {
    const parsed = parsePrincipalPattern(p);
    return typeof parsed !== 'string' && principalMatches(parsed, caller);
  });

export function explainModelAccess(mesh: MeshModel, caller: string | undefined, model: string): ModelAccessExplanation {
  const lists = [...(mesh.modelAccessLists ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const matching = lists.filter((l) => matches(l.principals, caller));
  if (matching.length === 0) {
    return { decision: 'unrestricted', matchingLists: [], allowedBy: undefined, reason: 'no model access list names this caller: any model' };
  }
  const by = matching.find((l) => l.models.some((m) => modelPatternMatches(m, model)));
  return {
    decision: by ? 'allowed' : 'denied',
    matchingLists: matching.map((l) => l.name),
    allowedBy: by?.name,
    reason: by
      ? `model '${model}' is allowed by access list ${by.name}`
      : `model '${model}' is not in the access lists naming this caller (${matching.map((l) => l.name).join(', ')}): the filter answers 403`,
  };
}

/** The budgets that apply to a call of `model` on `route` (ModelService name) by `caller` at `now`. */
export function explainBudgets(
  mesh: MeshModel,
  caller: string | undefined,
  model: string,
  route: string | undefined,
  now: Date,
  usage?: BudgetUsageLookup,
): BudgetExplanation[] {
  const out: BudgetExplanation[] = [];
  for (const b of [...(mesh.budgets ?? [])].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))) {
    if (caller === undefined || !matches(b.principals, caller)) continue;
    if (b.models !== undefined && !b.models.some((m) => modelPatternMatches(m, model))) continue;
    if (b.routes !== undefined && (route === undefined || !b.routes.includes(route))) continue;
    const key = b.shared === true ? '*' : caller;
    const start = budgetWindowStart(b.window, now.getTime());
    const u = usage?.(b.name, key);
    out.push({
      budget: b.name,
      window: b.window,
      windowStart: new Date(start).toISOString(),
      windowEnd: new Date(start + budgetWindowSeconds(b.window) * 1000).toISOString(),
      tokens: b.tokens,
      key,
      spent: u?.spent,
      remaining: u === undefined ? undefined : Math.max(0, b.tokens - u.spent),
      onExceed: b.onExceed ?? 'reject',
      dryRun: b.dryRun === true,
    });
  }
  return out;
}
