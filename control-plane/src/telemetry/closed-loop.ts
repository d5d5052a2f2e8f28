/**
 * The closed loop, composed: Envoy access logs in (ALS), signals and baselines, alert rules, sinks,
 * guarded rollouts, time-window audit, call rollups for reports — one object with one lifecycle,
 * for the composition root (control-plane.ts) and the end-to-end tests.
 *
 *   ALS stream ─▶ ingest queue ─▶ signal engine ─(each closed bucket)─▶ alert engine ─▶ sinks
 *                              └▶ call rollups ─▶ SQLite            └──▶ rollout guard ─▶ store commit
 *                                                                                  ─▶ controller ─▶ ADS
 *
 * Lifecycle: `start()` binds the ALS server (when `als` is given) and arms the timers (signal
 * buckets, rollup flush, time-window audit); `stop()` stops accepting logs, flushes the rollups,
 * gives the sinks a bounded time to deliver, and closes them. The store belongs to the caller and
 * stays open. Everything time-based uses the injected clock.
 */
import type { ServerCredentials } from '@grpc/grpc-js';
import { Gauge, Registry } from 'prom-client';
import type { Clock, ClockTimer } from '../ca/clock.js';
import type { CandidateValidator } from '../store/store.js';
import type { SqliteStore } from '../store/sqlite-store.js';
import { createAlertEngine, type AlertEngine } from '../alerts/alert-engine.js';
import type { AlertSink } from '../alerts/alert-sink.js';
import { createAlertStore, type Alert } from '../alerts/alert-store.js';
import { createSinkDispatcher, type SinkDispatcher } from '../alerts/sink-dispatcher.js';
import { buildAuditReport, reportPeriod, type AuditReport } from '../reports/audit-report.js';
import { createCallRollups, type CallRollups } from '../reports/call-rollups.js';
import { createRolloutGuard, type RolloutGuard } from '../rollouts/rollout-guard.js';
import { createTimeWindowAuditor, type TimeWindowAuditor } from '../rollouts/time-window-audit.js';
import type { DetectorOptions } from '../signals/baseline-detector.js';
import { createSignalEngine, DEFAULT_DETECTED_SIGNALS, type SignalEngine } from '../signals/signal-engine.js';
import type { SignalName } from '../signals/signal-names.js';
import type { AccessRecord } from './access-record.js';
import { createAlsServer, type AlsServer, type AlsServerOptions } from './als-server.js';

export interface ClosedLoopLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface ClosedLoopOptions {
  readonly store: SqliteStore;
  readonly clock: Clock;
  /** The API's candidate check, applied to the rollout guard's commits. */
  readonly validate?: CandidateValidator;
  readonly sinks?: readonly AlertSink[];
  /**
   * Where the ALS server listens on its own port. Absent: it does not listen; serve it on the ADS
   * port by passing `closedLoop.als.service` in the xDS server's `listen({ extraServices })` (either
   * transport; or `closedLoop.als.addTo(server)` on a grpc-js server of your own) — one port, as the
   * bootstraps in envoy/ expect — or feed records with `ingest`.
   */
  readonly als?: { readonly host: string; readonly port: number; readonly credentials?: ServerCredentials };
  /** Admits or refuses each ALS stream (see `AlsServerOptions.authenticate`). Defaults to admitting all. */
  readonly alsAuthenticate?: AlsServerOptions['authenticate'];
  /** Ingestion queue capacity in access-log entries. Defaults to 65,536. */
  readonly alsQueueCapacity?: number;
  readonly signals?: {
    readonly bucketMs?: number;
    readonly windowBuckets?: number;
    readonly maxSeries?: number;
    readonly detectedSignals?: readonly SignalName[];
    readonly detector?: DetectorOptions;
  };
  readonly dispatcher?: { readonly maxAttempts?: number; readonly baseDelayMs?: number; readonly maxDelayMs?: number; readonly queueCapacity?: number; readonly jitter?: boolean };
  /** How often call rollups are written. Defaults to 10 s. */
  readonly rollupFlushMs?: number;
  readonly log?: ClosedLoopLog;
  /** Called after each alert is recorded (before sinks deliver it). */
  readonly onAlert?: (event: { type: 'fired' | 'resolved'; alert: Alert }) => void;
}

export interface ClosedLoop {
  start(): Promise<{ alsPort: number | undefined }>;
  stop(): Promise<void>;
  /** Feeds records as the ALS server does (tests, replays). */
  ingest(records: readonly AccessRecord[]): void;
  report(since: string | undefined, until: string | undefined): AuditReport;
  readonly signals: SignalEngine;
  readonly alerts: AlertEngine;
  readonly dispatcher: SinkDispatcher;
  readonly guard: RolloutGuard;
  readonly rollups: CallRollups;
  readonly windows: TimeWindowAuditor;
  readonly als: AlsServer;
  /** telemetry, signals, alerts and sink metrics; pass it to the API's `metricsRegistries`. */
  readonly registry: Registry;
}

const NOOP: ClosedLoopLog = { info() {}, warn() {}, error() {}, debug() {} };

export function createClosedLoop(options: ClosedLoopOptions): ClosedLoop {
  const { store, clock } = options;
  const log = options.log ?? NOOP;
  const registry = new Registry();
  const now = (): number => clock.now();
  const signals = createSignalEngine({ clock, ...options.signals });
  signals.onListenerError = (err) => log.error({ err }, 'a signal evaluation listener failed');
  const alertStore = createAlertStore(store, () => new Date(clock.now()));
  const dispatcher = createSinkDispatcher({ sinks: options.sinks ?? [], registry, log, ...options.dispatcher });
  const alerts = createAlertEngine({
    store: alertStore,
    dispatcher,
    registry,
    now,
    limits: { bucketMs: signals.bucketMs, windowBuckets: signals.windowBuckets, detectedSignals: options.signals?.detectedSignals ?? DEFAULT_DETECTED_SIGNALS },
    onAlert: (event) => {
      log.info({ alertId: event.alert.id, rule: event.alert.rule, severity: event.alert.severity, key: event.alert.key }, `alert ${event.type}: ${event.alert.summary}`);
      options.onAlert?.(event);
    },
  });
  const guard = createRolloutGuard({ store, alerts, now, log, ...(options.validate === undefined ? {} : { validate: options.validate }) });
  const rollups = createCallRollups({ database: store.database, now });
  const windows = createTimeWindowAuditor({ store, clock });
  signals.onEvaluate((e) => alerts.evaluate(e));
  signals.onEvaluate((e) => guard.onEvaluation(e));

  new Gauge({
    name: 'meshward_signal_series',
    help: 'Live signal series per dimension.',
    labelNames: ['dimension'] as const,
    registers: [registry],
    collect() {
      const s = signals.stats().series;
      for (const [dimension, n] of Object.entries(s)) this.set({ dimension }, n);
    },
  });

  const ingest = (batch: readonly AccessRecord[]): void => {
    signals.ingest(batch);
    rollups.add(batch);
  };
  const als = createAlsServer({
    onRecords: ingest,
    registry,
    logName: 'meshward',
    ...(options.alsQueueCapacity === undefined ? {} : { queueCapacity: options.alsQueueCapacity }),
    ...(options.alsAuthenticate === undefined ? {} : { authenticate: options.alsAuthenticate }),
    onError: (err, ctx) => log.warn({ err, ...ctx }, `ALS: ${ctx.what}`),
  });

  let flushTimer: ClockTimer | undefined;
  const flushEvery = options.rollupFlushMs ?? 10_000;
  const flush = (): void => {
    try {
      rollups.flush();
    } catch (err) {
      log.error({ err }, 'writing call rollups failed; they stay pending');
    }
  };
  const armFlush = (): void => {
    flushTimer = clock.setTimer(() => {
      flush();
      armFlush();
    }, flushEvery);
  };
  let started = false;
  let stopped = false;

  return {
    signals,
    alerts,
    dispatcher,
    guard,
    rollups,
    windows,
    als,
    registry,
    ingest,
    report(since, until) {
      flush();
      return buildAuditReport({ store, rollups, alerts: alertStore, now }, reportPeriod(since, until, now()));
    },
    async start() {
      if (started) throw new Error('closed loop: start() may be called once');
      started = true;
      signals.start();
      windows.start();
      armFlush();
      const alsPort = options.als === undefined ? undefined : await als.listen({ host: options.als.host, port: options.als.port, ...(options.als.credentials === undefined ? {} : { credentials: options.als.credentials }) });
      log.info({ alsPort }, 'closed loop started');
      return { alsPort };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await als.close();
      signals.stop();
      windows.stop();
      if (flushTimer !== undefined) clock.clearTimer(flushTimer);
      flush();
      await dispatcher.close();
    },
  };
}
