/**
 * Time as the CA sees it. Everything in ca/ that reads the time or waits goes through a Clock, so
 * tests (and the benchmark) drive rotation, expiry and token lifetimes deterministically.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Runs `fn` once, `delayMs` from now (clamped to >= 0). Returns a handle for {@link clearTimer}.
   * `fn` may return a promise: the manual clock awaits it before firing the next timer; the system
   * clock ignores it (callers handle their own errors).
   */
  setTimer(fn: TimerCallback, delayMs: number): ClockTimer;
  clearTimer(timer: ClockTimer): void;
}

export type TimerCallback = () => void | Promise<void>;

/** Opaque timer handle. */
export interface ClockTimer {
  readonly id: number;
}

/** Node's timers cap a delay at 2^31-1 ms; longer waits are chained. */
const MAX_NODE_DELAY = 2_147_483_647;

/** The real clock. Timers are unref'd: a pending rotation never keeps the process alive. */
export function createSystemClock(): Clock {
  let nextId = 1;
  const live = new Map<number, NodeJS.Timeout>();
  const arm = (id: number, fn: TimerCallback, dueAt: number): void => {
    const delay = Math.min(Math.max(0, dueAt - Date.now()), MAX_NODE_DELAY);
    const t = setTimeout(() => {
      if (Date.now() < dueAt) {
        arm(id, fn, dueAt);
        return;
      }
      live.delete(id);
      // Callers handle their own errors; a rejection that escapes must not crash the process.
      Promise.resolve()
        .then(fn)
        .catch((err: unknown) => process.emitWarning(`meshward CA timer callback failed: ${err instanceof Error ? err.message : String(err)}`));
    }, delay);
    t.unref();
    live.set(id, t);
  };
  return {
    now: () => Date.now(),
    setTimer(fn, delayMs) {
      const id = nextId++;
      arm(id, fn, Date.now() + Math.max(0, delayMs));
      return { id };
    },
    clearTimer(timer) {
      const t = live.get(timer.id);
      if (t !== undefined) clearTimeout(t);
      live.delete(timer.id);
    },
  };
}

/** A clock that only moves when told to; for tests and benchmarks. */
export interface ManualClock extends Clock {
  /** Sets the time (ms since epoch) without firing timers. */
  set(epochMs: number): void;
  /**
   * Moves time forward by `ms`, firing every timer that falls due, in due order, each with
   * `now()` equal to its due time, awaiting the promise a callback returns before the next fires.
   */
  advance(ms: number): Promise<void>;
  /** Number of timers still pending. */
  pendingTimers(): number;
}

export function createManualClock(startEpochMs: number = Date.now()): ManualClock {
  let now = startEpochMs;
  let nextId = 1;
  const timers = new Map<number, { dueAt: number; seq: number; fn: TimerCallback }>();
  const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  return {
    now: () => now,
    set(epochMs) {
      now = epochMs;
    },
    setTimer(fn, delayMs) {
      const id = nextId++;
      timers.set(id, { dueAt: now + Math.max(0, delayMs), seq: id, fn });
      return { id };
    },
    clearTimer(timer) {
      timers.delete(timer.id);
    },
    async advance(ms) {
      const target = now + ms;
      for (;;) {
        let pick: [number, { dueAt: number; seq: number; fn: TimerCallback }] | undefined;
        for (const entry of timers) {
          if (entry[1].dueAt > target) continue;
          if (pick === undefined || entry[1].dueAt < pick[1].dueAt || (entry[1].dueAt === pick[1].dueAt && entry[1].seq < pick[1].seq)) pick = entry;
        }
        if (pick === undefined) break;
        timers.delete(pick[0]);
        now = Math.max(now, pick[1].dueAt);
        await pick[1].fn();
        await settle();
      }
      now = target;
      await settle();
    },
    pendingTimers: () => timers.size,
  };
}
