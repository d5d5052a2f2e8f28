/**
 * The fleet bound for token budgets: the control plane grants each Envoy a LEASE of a budget's
 * window (a number of cost units it may spend), never granting more in total than the budget.
 *
 * Contract
 * - Key: (budget name, counter key, window start). The counter key is the caller identity, or `*`
 *   for a `shared` budget. Windows are the budget's fixed UTC windows; a new window starts from 0.
 * - A node (one Envoy: all its worker threads share one count in shared data) asks with what it has
 *   spent so far in the window and how much more it wants; the service answers with the node's
 *   TOTAL grant for the window (it grows with each grant and shrinks only by a release) and what is left ungranted.
 * - Invariant: Σ over nodes of granted ≤ budget tokens. A node spends only up to its grant (the
 *   filter enforces that exactly across its workers), so the fleet spends at most the budget; the
 *   only excess is a prompt whose reported usage is above the filter's estimate (see docs/budgets.md).
 * - Taking back what is unused: a node that releases (`release: true`) gives back grant − spent
 *   (its grant becomes what it spent, and the filter stops spending beyond it); every grant
 *   disappears at the window's end. A grant to a node that stops reporting stays counted until the
 *   window ends (safe: the service cannot know what that node spent).
 * - Restart: with a {@link LeaseStatePort} (e.g. {@link createFileLeaseState} in the data
 *   directory) the grants survive a restart and the bound holds exactly. Without one, state is in
 *   memory and a service started in the middle of a window grants nothing for windows that began
 *   before it started (`startedAt`), so a restart never double-grants (conservative: for `day`
 *   windows, no new grants until 00:00 UTC).
 * Pure apart from the injected clock and state port; one instance per control plane.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { budgetWindowSeconds, budgetWindowStart, type Budget } from '../model/budget.js';

export interface LeaseAsk {
  readonly budget: string;
  /** The counter key: the caller identity, or `*` for a shared budget. */
  readonly key: string;
  /** What the node has spent in the current window (cost units). */
  readonly spent: number;
  /** How many more units it wants granted (0 = just report). */
  readonly want: number;
  /** Give back grant − spent. */
  readonly release?: boolean;
  /**
   * With `release`: the node's total grant it released from (what it last heard). The release
   * applies only while the node's grant is still exactly that, so a release that reaches the
   * service after a later, larger grant (a delayed or retried call) is ignored instead of taking
   * back units the node already holds again — which would break the bound. Absent: applied as is.
   */
  readonly granted?: number;
}

export interface LeaseGrant {
  readonly budget: string;
  readonly key: string;
  /** Start of the window (ms since epoch, UTC). */
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  /** The node's total grant for the window. */
  readonly granted: number;
  /** Units of the budget not granted to any node. */
  readonly available: number;
  /** Set when the budget does not exist (granted 0). */
  readonly error?: string;
}

export interface BudgetUsage {
  readonly budget: string;
  readonly key: string;
  readonly windowStartMs: number;
  readonly windowEndMs: number;
  readonly tokens: number;
  /** Σ granted over nodes. */
  readonly granted: number;
  /** Σ reported spent over nodes (a lower bound of the true spend). */
  readonly spent: number;
  /** tokens − granted: what no node holds yet. */
  readonly available: number;
  /** tokens − spent: an upper bound of what is left. */
  readonly remaining: number;
  readonly nodes: number;
}

export interface BudgetLeaseService {
  /** Handles one node's asks (in order). Budgets come from `budgets()` at call time. */
  lease(nodeId: string, asks: readonly LeaseAsk[]): LeaseGrant[];
  /** What the service knows about one counter in the current window. */
  usage(budget: string, key: string): BudgetUsage | undefined;
}

interface NodeShare {
  granted: number;
  spent: number;
}

interface Counter {
  readonly windowStartMs: number;
  readonly nodes: Map<string, NodeShare>;
  granted: number;
}

/** What survives a restart: per counter, its window and each node's grant and reported spend. */
export interface LeaseState {
  readonly counters: readonly {
    readonly budget: string;
    readonly key: string;
    readonly windowStartMs: number;
    readonly granted: number;
    readonly nodes: readonly { readonly nodeId: string; readonly granted: number; readonly spent: number }[];
  }[];
}

/** Durable storage of {@link LeaseState}; `save` runs after every change, before the answer. */
export interface LeaseStatePort {
  load(): LeaseState | undefined;
  save(state: LeaseState): void;
}

/** A JSON file (written to a temporary file and renamed, so a crash never leaves half a state). */
export function createFileLeaseState(file: string): LeaseStatePort {
  return {
    load() {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        return undefined;
      }
      const parsed = JSON.parse(text) as LeaseState;
      if (!Array.isArray(parsed.counters)) throw new Error(`${file}: not a budget lease state`);
      return parsed;
    },
    save(state) {
      mkdirSync(dirname(file), { recursive: true });
      const tmp = `${file}.tmp`;
      writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
      renameSync(tmp, file);
    },
  };
}

export interface BudgetLeaseServiceOptions {
  /** The current budgets (e.g. from the store's latest snapshot). */
  readonly budgets: () => readonly Budget[];
  readonly now?: () => Date;
  /** Largest grant per ask, as a fraction of the budget (0 < f ≤ 1). Defaults to 0.25. */
  readonly maxGrantFraction?: number;
  /** Durable state; absent: in memory, conservative after a restart (see the module comment). */
  readonly state?: LeaseStatePort;
}

export function createBudgetLeaseService(options: BudgetLeaseServiceOptions): BudgetLeaseService {
  const now = options.now ?? (() => new Date());
  const startedAt = now().getTime();
  const fraction = options.maxGrantFraction ?? 0.25;
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError('maxGrantFraction must be in (0, 1]');
  const counters = new Map<string, Counter>();
  const persisted = options.state?.load();
  if (persisted !== undefined) {
    for (const c of persisted.counters) {
      counters.set(`${c.budget}\u0000${c.key}`, {
        windowStartMs: c.windowStartMs,
        granted: c.granted,
        nodes: new Map(c.nodes.map((n) => [n.nodeId, { granted: n.granted, spent: n.spent }])),
      });
    }
  }
  const save = (): void => {
    if (options.state === undefined) return;
    const t = now().getTime();
    const live: LeaseState['counters'][number][] = [];
    for (const [id, c] of counters) {
      if (c.windowStartMs + 86_400_000 < t) continue; // older than any window
      const [budget, key] = id.split('\u0000') as [string, string];
      live.push({ budget, key, windowStartMs: c.windowStartMs, granted: c.granted, nodes: [...c.nodes].map(([nodeId, n]) => ({ nodeId, granted: n.granted, spent: n.spent })) });
    }
    options.state.save({ counters: live });
  };

  const counterOf = (b: Budget, key: string, t: number): Counter => {
    const ws = budgetWindowStart(b.window, t);
    const id = `${b.name}\u0000${key}`;
    let c = counters.get(id);
    if (c === undefined || c.windowStartMs !== ws) {
      // Without durable state, a window that began before this service started may already be
      // (partly) granted by a previous instance: treat it as fully granted.
      const unknownPast = options.state === undefined && ws < startedAt;
      c = { windowStartMs: ws, nodes: new Map(), granted: unknownPast ? b.tokens : 0 };
      counters.set(id, c);
    }
    return c;
  };

  return {
    lease(nodeId, asks) {
      const t = now().getTime();
      const byName = new Map(options.budgets().map((b) => [b.name, b]));
      const out = asks.map((a): LeaseGrant => {
        const b = byName.get(a.budget);
        if (b === undefined) {
          return { budget: a.budget, key: a.key, windowStartMs: 0, windowEndMs: 0, granted: 0, available: 0, error: `budget '${a.budget}' does not exist` };
        }
        const c = counterOf(b, a.key, t);
        let share = c.nodes.get(nodeId);
        if (share === undefined) {
          share = { granted: 0, spent: 0 };
          c.nodes.set(nodeId, share);
        }
        share.spent = Math.max(share.spent, Math.max(0, Math.floor(a.spent)));
        if (a.release === true) {
          const current = a.granted === undefined || Math.floor(a.granted) === share.granted;
          if (current && share.granted > share.spent) {
            c.granted -= share.granted - share.spent;
            share.granted = share.spent;
          }
        } else {
          const available = Math.max(0, b.tokens - c.granted);
          const cap = Math.max(1, Math.floor(b.tokens * fraction));
          const give = Math.min(available, Math.max(0, Math.floor(a.want)), cap);
          share.granted += give;
          c.granted += give;
        }
        const windowEndMs = c.windowStartMs + budgetWindowSeconds(b.window) * 1000;
        return { budget: b.name, key: a.key, windowStartMs: c.windowStartMs, windowEndMs, granted: share.granted, available: Math.max(0, b.tokens - c.granted) };
      });
      save();
      return out;
    },
    usage(budget, key) {
      const b = options.budgets().find((x) => x.name === budget);
      if (b === undefined) return undefined;
      const c = counterOf(b, key, now().getTime());
      let spent = 0;
      for (const s of c.nodes.values()) spent += s.spent;
      return {
        budget,
        key,
        windowStartMs: c.windowStartMs,
        windowEndMs: c.windowStartMs + budgetWindowSeconds(b.window) * 1000,
        tokens: b.tokens,
        granted: c.granted,
        spent,
        available: Math.max(0, b.tokens - c.granted),
        remaining: Math.max(0, b.tokens - spent),
        nodes: c.nodes.size,
      };
    },
  };
}
