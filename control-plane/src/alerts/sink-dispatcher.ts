/**
 * Delivers alert events to every sink without ever blocking the loop.
 *
 * Contract:
 * - `dispatch()` is synchronous and never throws: it puts the event on each sink's own bounded
 *   queue (default 1000 events) and returns. One slow or dead sink never delays another.
 * - Each sink has one worker: events go out in order; a failed send is retried with exponential
 *   backoff (`baseDelayMs` · 2^attempt, capped at `maxDelayMs`, ±20 % jitter unless disabled) up
 *   to `maxAttempts` attempts. A {@link PermanentSinkError} is not retried.
 * - Nothing is lost silently: an event dropped because a queue is full or its attempts are
 *   exhausted is counted (`meshward_alert_deliveries_total{result="dropped"}`) and logged with the
 *   alert id, rule and reason. (The alert itself is already in the database: the API still has it.)
 * - `flush()` resolves once every queue is empty (tests, shutdown); `close()` stops the workers
 *   after a bounded flush and closes the sinks.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { PermanentSinkError, type AlertEvent, type AlertSink } from './alert-sink.js';

export interface SinkDispatcherOptions {
  readonly sinks: readonly AlertSink[];
  /** Per sink. Defaults to 1000 events. */
  readonly queueCapacity?: number;
  /** Attempts per event, first included. Defaults to 5. */
  readonly maxAttempts?: number;
  /** Defaults to 200 ms. */
  readonly baseDelayMs?: number;
  /** Defaults to 30 s. */
  readonly maxDelayMs?: number;
  /** Defaults to true. */
  readonly jitter?: boolean;
  readonly registry?: Registry;
  readonly log?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  /** Waits; injectable for tests. Defaults to setTimeout. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface SinkStats {
  readonly delivered: number;
  readonly retries: number;
  readonly dropped: number;
  readonly queued: number;
}

export interface SinkDispatcher {
  dispatch(event: AlertEvent): void;
  flush(): Promise<void>;
  close(timeoutMs?: number): Promise<void>;
  stats(): Readonly<Record<string, SinkStats>>;
}

interface Lane {
  readonly sink: AlertSink;
  readonly queue: AlertEvent[];
  running: boolean;
  delivered: number;
  retries: number;
  dropped: number;
  idle: (() => void)[];
}

export function createSinkDispatcher(options: SinkDispatcherOptions): SinkDispatcher {
  const capacity = options.queueCapacity ?? 1000;
  const maxAttempts = options.maxAttempts ?? 5;
  const base = options.baseDelayMs ?? 200;
  const maxDelay = options.maxDelayMs ?? 30_000;
  const jitter = options.jitter ?? true;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref()));
  const registry = options.registry ?? new Registry();
  const names = new Set<string>();
  for (const s of options.sinks) {
    if (names.has(s.name)) throw new RangeError(`sinks: two sinks are named ${s.name}`);
    names.add(s.name);
  }
  const lanes: Lane[] = options.sinks.map((sink) => ({ sink, queue: [], running: false, delivered: 0, retries: 0, dropped: 0, idle: [] }));
  let closed = false;

  const deliveries = new Counter({
    name: 'meshward_alert_deliveries_total',
    help: 'Alert events per sink and result (delivered, dropped after retries or on a full queue).',
    labelNames: ['sink', 'result'] as const,
    registers: [registry],
  });
  const retries = new Counter({ name: 'meshward_alert_delivery_retries_total', help: 'Retried alert deliveries per sink.', labelNames: ['sink'] as const, registers: [registry] });
  new Gauge({
    name: 'meshward_alert_sink_queue_depth',
    help: 'Alert events waiting per sink.',
    labelNames: ['sink'] as const,
    registers: [registry],
    collect() {
      for (const l of lanes) this.set({ sink: l.sink.name }, l.queue.length);
    },
  });

  const drop = (lane: Lane, event: AlertEvent, reason: string): void => {
    lane.dropped++;
    deliveries.inc({ sink: lane.sink.name, result: 'dropped' });
    options.log?.error({ sink: lane.sink.name, alertId: event.alert.id, rule: event.alert.rule, event: event.type, reason }, `alert event dropped by sink ${lane.sink.name}: ${reason}`);
  };

  const work = async (lane: Lane): Promise<void> => {
    lane.running = true;
    while (lane.queue.length > 0) {
      const event = lane.queue[0]!;
      for (let attempt = 1; ; attempt++) {
        try {
          await lane.sink.send(event);
          lane.delivered++;
          deliveries.inc({ sink: lane.sink.name, result: 'delivered' });
          break;
        } catch (err) {
          const why = err instanceof Error ? err.message : String(err);
          if (err instanceof PermanentSinkError || attempt >= maxAttempts || closed) {
            drop(lane, event, err instanceof PermanentSinkError ? `permanent failure: ${why}` : `${attempt} attempts failed, last: ${why}`);
            break;
          }
          lane.retries++;
          retries.inc({ sink: lane.sink.name });
          let delay = Math.min(maxDelay, base * 2 ** (attempt - 1));
          if (jitter) delay = delay * (0.8 + 0.4 * Math.random());
          options.log?.warn({ sink: lane.sink.name, alertId: event.alert.id, attempt, retryInMs: Math.round(delay) }, `alert delivery failed, retrying: ${why}`);
          await sleep(delay);
        }
      }
      lane.queue.shift();
    }
    lane.running = false;
    const idle = lane.idle;
    lane.idle = [];
    for (const f of idle) f();
  };

  return {
    dispatch(event) {
      for (const lane of lanes) {
        if (closed) {
          drop(lane, event, 'the dispatcher is closed');
          continue;
        }
        if (lane.queue.length >= capacity) {
          drop(lane, event, `queue full (${capacity} events)`);
          continue;
        }
        lane.queue.push(event);
        if (!lane.running) void work(lane);
      }
    },
    async flush() {
      await Promise.all(lanes.map((l) => (l.running ? new Promise<void>((r) => l.idle.push(r)) : Promise.resolve())));
    },
    async close(timeoutMs = 2000) {
      await Promise.race([this.flush(), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
      closed = true;
      for (const l of lanes) {
        // Whatever is still queued after the bounded flush is counted, not forgotten.
        for (const e of l.queue.slice(l.running ? 1 : 0)) drop(l, e, 'shutdown before delivery');
        l.queue.length = l.running ? 1 : 0;
      }
      await Promise.all(lanes.map((l) => l.sink.close?.().catch(() => undefined)));
    },
    stats: () => Object.fromEntries(lanes.map((l) => [l.sink.name, { delivered: l.delivered, retries: l.retries, dropped: l.dropped, queued: l.queue.length }])),
  };
}
