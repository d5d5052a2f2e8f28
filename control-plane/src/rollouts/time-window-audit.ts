/**
 * Audits authorization time windows opening and closing. The controller re-translates and pushes
 * at every window transition (controller.ts arms one timer per publish) but records nothing; this
 * scheduler keeps the audit trail: at each transition it writes one audit entry per rule whose
 * window state changed — action `window-open` or `window-close`, kind `authorization-policies`,
 * actor `meshward-scheduler`, `after: { rule, open, at }`.
 *
 * Contract:
 * - Uses the same clock as the controller (inject a manual clock in tests) and the same transition
 *   computation (model/time-window.ts), so its entries coincide with the controller's pushes.
 * - Config changes are not window switches: after a store change the open/closed states are
 *   re-read without auditing (the change itself is audited by the store).
 * - Lifecycle: `start()` reads the current states and arms the timer; `stop()` cancels it.
 */
import type { Clock, ClockTimer } from '../ca/clock.js';
import type { AuthorizationPolicy } from '../model/authorization-policy.js';
import { isWithinAnyTimeWindow, nextTimeWindowTransition } from '../model/time-window.js';
import type { AuditEntry, Store } from '../store/store.js';

export const SCHEDULER_ACTOR = 'meshward-scheduler';

export interface TimeWindowAuditor {
  start(): void;
  stop(): void;
  /** When the next transition is due (undefined: no windows within 8 days). */
  nextTransition(): Date | undefined;
}

export function createTimeWindowAuditor(options: { store: Store; clock: Clock; onAudit?: (entry: AuditEntry) => void }): TimeWindowAuditor {
  const { store, clock } = options;
  let states = new Map<string, boolean>();
  let timer: ClockTimer | undefined;
  let next: Date | undefined;
  let unsubscribe: (() => void) | undefined;

  const policies = (): AuthorizationPolicy[] => store.snapshot().resources['authorization-policies'].map((r) => r.spec as AuthorizationPolicy);
  const read = (now: Date): Map<string, boolean> => {
    const out = new Map<string, boolean>();
    for (const p of policies()) p.rules.forEach((r, i) => r.when !== undefined && r.when.length > 0 && out.set(`${p.name}\u0000${i}`, isWithinAnyTimeWindow(r.when, now)));
    return out;
  };
  const arm = (): void => {
    if (timer !== undefined) clock.clearTimer(timer);
    timer = undefined;
    const windows = policies().flatMap((p) => p.rules.flatMap((r) => r.when ?? []));
    next = nextTimeWindowTransition(windows, new Date(clock.now()));
    if (next === undefined) return;
    timer = clock.setTimer(fire, next.getTime() - clock.now());
  };
  const fire = (): void => {
    timer = undefined;
    const now = new Date(clock.now());
    const current = read(now);
    for (const [key, open] of current) {
      if (states.get(key) === open) continue;
      const [policy, rule] = key.split('\u0000') as [string, string];
      const entry = store.audit.record({
        actor: SCHEDULER_ACTOR,
        action: open ? 'window-open' : 'window-close',
        kind: 'authorization-policies',
        name: policy,
        before: { rule: Number(rule), open: !open },
        after: { rule: Number(rule), open, at: now.toISOString() },
        reason: `authorization time window ${open ? 'opened' : 'closed'} on schedule`,
      });
      options.onAudit?.(entry);
    }
    states = current;
    arm();
  };

  return {
    start() {
      if (unsubscribe !== undefined) return;
      states = read(new Date(clock.now()));
      unsubscribe = store.onChange(() => {
        states = read(new Date(clock.now()));
        arm();
      });
      arm();
    },
    stop() {
      unsubscribe?.();
      unsubscribe = undefined;
      if (timer !== undefined) clock.clearTimer(timer);
      timer = undefined;
      next = undefined;
    },
    nextTransition: () => next,
  };
}
