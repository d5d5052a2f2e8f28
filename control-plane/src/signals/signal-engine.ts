/**
 * Sliding-window signals per caller identity, model and model version, with an anomaly detector
 * per series for the signals that have baselines.
 *
 * Model:
 * - Time is cut into buckets of `bucketMs` (clock time of ingestion, not Envoy's start_time: Envoy
 *   flushes its access log buffers about once a second, and the loop must not depend on the
 *   proxies' clocks). Each series keeps `windowBuckets` buckets in a ring (fixed memory per series).
 * - At every bucket boundary the engine closes the bucket, feeds each detected signal's value for
 *   that bucket to the series' detector (baseline-detector.ts), then calls the evaluation listeners
 *   (alert rules, rollout guards) with a view on every live series. A window of k buckets is the
 *   last k closed buckets.
 * - Bounded: at most `maxSeries` series per dimension; records of further keys are counted into the
 *   series `~other` of that dimension (never lost from totals) and in `stats().overflowRecords`.
 *   A series with no traffic for `idleWindows` windows is evicted (its baseline with it).
 * - Deterministic: all time comes from the injected clock; with a manual clock, advancing it past a
 *   boundary runs the evaluation.
 *
 * Lifecycle: `start()` arms the bucket timer; `stop()` cancels it. `ingest()` works without start
 * (tests can call `closeBucket()` themselves).
 */
import type { Clock, ClockTimer } from '../ca/clock.js';
import type { AccessRecord } from '../telemetry/access-record.js';
import { createBaselineDetector, type BaselineDetector, type DetectorOptions, type DetectorState, type Observation } from './baseline-detector.js';
import { DIMENSIONS, isSignalName, SIGNAL_NAMES, versionKey, type Dimension, type SignalName } from './signal-names.js';

// Counter slots of one bucket.
const C_REQ = 0;
const C_RBAC = 1;
const C_MTLS = 2;
const C_SHADOW = 3;
const C_RL = 4;
const C_ERR = 5;
const C_FIND = 6;
const C_ALERT = 7;
const C_REDACT = 8;
const C_BLOCK = 9;
const C_REQ_B = 10;
const C_RESP_B = 11;
const C_LAT_SUM = 12;
const C_LAT_N = 13;
const C_TOK_IN = 14;
const C_TOK_OUT = 15;
const C_HIST = 16;
/** Latency histogram: bin 0 is < 1 ms, bin i ≥ 1 is [1.3^(i−1), 1.3^i) ms, the last is open-ended (~100 s+). */
const LAT_BINS = 45;
const LAT_FACTOR = 1.3;
const LOG_FACTOR = Math.log(LAT_FACTOR);
const NC = C_HIST + LAT_BINS;

/** The series that absorbs keys beyond `maxSeries`. */
export const OVERFLOW_KEY = '~other';

export const DEFAULT_DETECTED_SIGNALS: readonly SignalName[] = ['request_rate', 'denials', 'dlp_findings', 'response_bytes', 'error_ratio', 'latency_ms_p95'];

/**
 * Counts are Poisson-like: a bucket expected to hold λ events varies by about √λ on its own. The
 * detector's sd is kept at least that (λ ≥ 1), so a series with a handful of calls does not alarm
 * on one more. Rates are counts per second of the bucket.
 */
function poissonFloor(signal: SignalName, state: DetectorState, bucketMs: number): number {
  const expected = Math.max(0, state.level);
  if (signal === 'request_rate') {
    const seconds = bucketMs / 1000;
    return Math.sqrt(Math.max(1, expected * seconds)) / seconds;
  }
  if (signal === 'denials' || signal === 'dlp_findings' || signal === 'requests' || signal === 'errors' || signal === 'rbac_denials' || signal === 'mtls_failures' || signal === 'rate_limited' || signal.startsWith('dlp_findings:')) {
    return Math.sqrt(Math.max(1, expected));
  }
  return 0;
}

export interface SignalEngineOptions {
  readonly clock: Clock;
  /** Bucket length. Defaults to 5000 ms. */
  readonly bucketMs?: number;
  /** Buckets kept per series (the longest window). Defaults to 12 (one minute of 5 s buckets). */
  readonly windowBuckets?: number;
  /** Series per dimension. Defaults to 5000. */
  readonly maxSeries?: number;
  /** Windows of silence after which a series is evicted. Defaults to 10. */
  readonly idleWindows?: number;
  /** Signals with a baseline detector (one observation per bucket). Defaults to {@link DEFAULT_DETECTED_SIGNALS}. */
  readonly detectedSignals?: readonly SignalName[];
  readonly detector?: DetectorOptions;
}

/** One series at an evaluation. */
export interface SeriesView {
  readonly dimension: Dimension;
  readonly key: string;
  /**
   * The signal over the last `buckets` closed buckets (1..windowBuckets; default all). NaN when it
   * is undefined there (a ratio or latency without requests). Unknown names throw.
   */
  value(signal: SignalName, buckets?: number): number;
  /** The detector's latest observation for a detected signal (undefined before the first one). */
  anomaly(signal: SignalName): Observation | undefined;
  /** Detector ids with findings in the window. */
  detectors(): readonly string[];
}

export interface SignalEvaluation {
  /** Clock time of the evaluation (the boundary that closed the bucket). */
  readonly at: number;
  /** Index of the closed bucket (floor(time / bucketMs)). */
  readonly bucket: number;
  readonly bucketMs: number;
  series(dimension?: Dimension): Iterable<SeriesView>;
  get(dimension: Dimension, key: string): SeriesView | undefined;
}

export type EvaluationListener = (evaluation: SignalEvaluation) => void;

export interface SeriesSnapshot {
  readonly dimension: Dimension;
  readonly key: string;
  readonly windowSeconds: number;
  readonly values: Readonly<Record<string, number | null>>;
  readonly anomalies: Readonly<Record<string, { score: number; expected: number; sd: number; warm: boolean }>>;
}

export interface SignalEngineStats {
  readonly series: Readonly<Record<Dimension, number>>;
  readonly records: number;
  readonly overflowRecords: number;
  readonly evicted: number;
  readonly evaluations: number;
  readonly listenerErrors: number;
}

export interface SignalEngine {
  ingest(records: readonly AccessRecord[]): void;
  /** Arms the bucket timer. Idempotent. */
  start(): void;
  stop(): void;
  /** Closes the current bucket now and evaluates (the timer does this at each boundary). */
  closeBucket(): SignalEvaluation;
  onEvaluate(listener: EvaluationListener): () => void;
  /** The latest evaluation's view (undefined before the first). */
  latest(): SignalEvaluation | undefined;
  /** Values of every signal over the full window for the matching series (for the API). */
  snapshot(filter?: { dimension?: Dimension; key?: string }): SeriesSnapshot[];
  stats(): SignalEngineStats;
  readonly bucketMs: number;
  readonly windowBuckets: number;
  onListenerError?: (err: unknown) => void;
}

interface Series {
  readonly dimension: Dimension;
  readonly key: string;
  readonly data: Float64Array;
  /** Bucket index each ring slot holds (-1: empty). */
  readonly slotBucket: Float64Array;
  /** Findings per detector id, a ring of windowBuckets counts each. */
  readonly findings: Map<string, Float64Array>;
  lastBucket: number;
  readonly detectors: Map<SignalName, { state: DetectorState; last: Observation | undefined }>;
}

export function createSignalEngine(options: SignalEngineOptions): SignalEngine {
  const clock = options.clock;
  const bucketMs = options.bucketMs ?? 5000;
  const W = options.windowBuckets ?? 12;
  const maxSeries = options.maxSeries ?? 5000;
  const idleBuckets = (options.idleWindows ?? 10) * W;
  if (!Number.isInteger(bucketMs) || bucketMs < 10) throw new RangeError(`bucketMs: must be an integer ≥ 10, got ${bucketMs}`);
  if (!Number.isInteger(W) || W < 1 || W > 10_000) throw new RangeError(`windowBuckets: must be an integer in [1, 10000], got ${W}`);
  const detected = options.detectedSignals ?? DEFAULT_DETECTED_SIGNALS;
  for (const s of detected) if (!isSignalName(s)) throw new RangeError(`detectedSignals: unknown signal ${s}`);
  const detector: BaselineDetector = createBaselineDetector(options.detector);
  const maps: Record<Dimension, Map<string, Series>> = { identity: new Map(), model: new Map(), version: new Map() };
  const listeners = new Set<EvaluationListener>();
  let records = 0;
  let overflowRecords = 0;
  let evicted = 0;
  let evaluations = 0;
  let listenerErrors = 0;
  let timer: ClockTimer | undefined;
  let latest: SignalEvaluation | undefined;
  let lastClosed = Math.floor(clock.now() / bucketMs) - 1;

  const newSeries = (dimension: Dimension, key: string): Series => ({
    dimension,
    key,
    data: new Float64Array(W * NC),
    slotBucket: new Float64Array(W).fill(-1),
    findings: new Map(),
    lastBucket: -1,
    detectors: new Map(),
  });

  const seriesFor = (dimension: Dimension, key: string): Series => {
    const map = maps[dimension];
    let s = map.get(key);
    if (s !== undefined) return s;
    if (map.size >= maxSeries) {
      overflowRecords++;
      s = map.get(OVERFLOW_KEY);
      if (s !== undefined) return s;
      key = OVERFLOW_KEY;
    }
    s = newSeries(dimension, key);
    map.set(key, s);
    return s;
  };

  /** Offset of bucket `b`'s counters in the ring, zeroing the slot if it held an older bucket. */
  const slotOf = (s: Series, b: number): number => {
    const slot = b % W;
    if (s.slotBucket[slot] !== b) {
      s.slotBucket[slot] = b;
      s.data.fill(0, slot * NC, slot * NC + NC);
      for (const ring of s.findings.values()) ring[slot] = 0;
    }
    return slot;
  };

  const add = (s: Series, b: number, r: AccessRecord): void => {
    const slot = slotOf(s, b);
    s.lastBucket = b;
    const d = s.data;
    const o = slot * NC;
    if (r.kind === 'http') d[o + C_REQ]!++;
    if (r.denied === 'rbac') d[o + C_RBAC]!++;
    else if (r.denied === 'mtls') d[o + C_MTLS]!++;
    if (r.shadowDenied) d[o + C_SHADOW]!++;
    if (r.rateLimited) d[o + C_RL]!++;
    if (r.responseCode >= 500) d[o + C_ERR]!++;
    d[o + C_REQ_B] = d[o + C_REQ_B]! + r.requestBytes;
    d[o + C_RESP_B] = d[o + C_RESP_B]! + r.responseBytes;
    if (r.kind === 'http' && r.denied === undefined && r.latencyMs > 0) {
      d[o + C_LAT_SUM] = d[o + C_LAT_SUM]! + r.latencyMs;
      d[o + C_LAT_N]!++;
      const bin = r.latencyMs < 1 ? 0 : Math.min(LAT_BINS - 1, 1 + Math.floor(Math.log(r.latencyMs) / LOG_FACTOR));
      d[o + C_HIST + bin]!++;
    }
    if (r.tokens !== undefined) {
      d[o + C_TOK_IN] = d[o + C_TOK_IN]! + r.tokens.input;
      d[o + C_TOK_OUT] = d[o + C_TOK_OUT]! + r.tokens.output;
    }
    const dlp = r.dlp;
    if (dlp !== undefined) {
      if (dlp.outcome === 'alert') d[o + C_ALERT]!++;
      else if (dlp.outcome === 'redact') d[o + C_REDACT]!++;
      else if (dlp.outcome === 'block') d[o + C_BLOCK]!++;
      for (const id in dlp.findings) {
        const n = dlp.findings[id]!;
        d[o + C_FIND] = d[o + C_FIND]! + n;
        let ring = s.findings.get(id);
        if (ring === undefined) {
          if (s.findings.size >= 256) continue;
          ring = new Float64Array(W);
          s.findings.set(id, ring);
        }
        ring[slot] = ring[slot]! + n;
      }
    }
  };

  /** Sum of counter `c` over buckets (end-k, end]. */
  const sum = (s: Series, c: number, end: number, k: number): number => {
    let t = 0;
    for (let b = end - k + 1; b <= end; b++) {
      const slot = ((b % W) + W) % W;
      if (s.slotBucket[slot] === b) t += s.data[slot * NC + c]!;
    }
    return t;
  };

  const p95 = (s: Series, end: number, k: number): number => {
    const hist = new Float64Array(LAT_BINS);
    let n = 0;
    for (let b = end - k + 1; b <= end; b++) {
      const slot = ((b % W) + W) % W;
      if (s.slotBucket[slot] !== b) continue;
      const o = slot * NC + C_HIST;
      for (let i = 0; i < LAT_BINS; i++) {
        hist[i] = hist[i]! + s.data[o + i]!;
        n += s.data[o + i]!;
      }
    }
    if (n === 0) return NaN;
    const target = Math.ceil(0.95 * n);
    let acc = 0;
    for (let i = 0; i < LAT_BINS; i++) {
      acc += hist[i]!;
      if (acc >= target) return i === 0 ? 0.5 : Math.pow(LAT_FACTOR, i - 0.5);
    }
    return Math.pow(LAT_FACTOR, LAT_BINS - 1);
  };

  const valueOf = (s: Series, signal: SignalName, end: number, k: number): number => {
    const req = (): number => sum(s, C_REQ, end, k);
    switch (signal) {
      case 'requests':
        return req();
      case 'request_rate':
        return req() / ((k * bucketMs) / 1000);
      case 'denials':
        return sum(s, C_RBAC, end, k) + sum(s, C_MTLS, end, k);
      case 'denial_ratio': {
        const mtls = sum(s, C_MTLS, end, k);
        const attempts = req() + mtls;
        return attempts === 0 ? NaN : (sum(s, C_RBAC, end, k) + mtls) / attempts;
      }
      case 'rbac_denials':
        return sum(s, C_RBAC, end, k);
      case 'mtls_failures':
        return sum(s, C_MTLS, end, k);
      case 'shadow_denials':
        return sum(s, C_SHADOW, end, k);
      case 'rate_limited':
        return sum(s, C_RL, end, k);
      case 'errors':
        return sum(s, C_ERR, end, k);
      case 'error_ratio': {
        const n = req();
        return n === 0 ? NaN : sum(s, C_ERR, end, k) / n;
      }
      case 'dlp_findings':
        return sum(s, C_FIND, end, k);
      case 'dlp_finding_ratio': {
        const n = req();
        return n === 0 ? NaN : sum(s, C_FIND, end, k) / n;
      }
      case 'dlp_alerted':
        return sum(s, C_ALERT, end, k);
      case 'dlp_redacted':
        return sum(s, C_REDACT, end, k);
      case 'dlp_blocked':
        return sum(s, C_BLOCK, end, k);
      case 'request_bytes':
        return sum(s, C_REQ_B, end, k);
      case 'response_bytes':
        return sum(s, C_RESP_B, end, k);
      case 'latency_ms_mean': {
        const n = sum(s, C_LAT_N, end, k);
        return n === 0 ? NaN : sum(s, C_LAT_SUM, end, k) / n;
      }
      case 'latency_ms_p95':
        return p95(s, end, k);
      case 'tokens_input':
        return sum(s, C_TOK_IN, end, k);
      case 'tokens_output':
        return sum(s, C_TOK_OUT, end, k);
      default: {
        if (!signal.startsWith('dlp_findings:')) throw new RangeError(`unknown signal ${String(signal)}`);
        const ring = s.findings.get(signal.slice('dlp_findings:'.length));
        if (ring === undefined) return 0;
        let t = 0;
        for (let b = end - k + 1; b <= end; b++) {
          const slot = ((b % W) + W) % W;
          if (s.slotBucket[slot] === b) t += ring[slot]!;
        }
        return t;
      }
    }
  };

  const viewOf = (s: Series, end: number): SeriesView => ({
    dimension: s.dimension,
    key: s.key,
    value(signal, buckets = W) {
      if (!Number.isInteger(buckets) || buckets < 1 || buckets > W) throw new RangeError(`buckets: must be an integer in [1, ${W}], got ${buckets}`);
      return valueOf(s, signal, end, buckets);
    },
    anomaly: (signal) => s.detectors.get(signal)?.last,
    detectors() {
      const out: string[] = [];
      for (const [id, ring] of s.findings) {
        for (let b = end - W + 1; b <= end; b++) {
          const slot = ((b % W) + W) % W;
          if (s.slotBucket[slot] === b && ring[slot]! > 0) {
            out.push(id);
            break;
          }
        }
      }
      return out.sort();
    },
  });

  const evaluationAt = (at: number, closed: number): SignalEvaluation => ({
    at,
    bucket: closed,
    bucketMs,
    *series(dimension) {
      for (const dim of dimension === undefined ? DIMENSIONS : [dimension]) for (const s of maps[dim].values()) yield viewOf(s, closed);
    },
    get(dimension, key) {
      const s = maps[dimension].get(key);
      return s === undefined ? undefined : viewOf(s, closed);
    },
  });

  const closeBucketAt = (now: number): SignalEvaluation => {
    const closed = Math.floor(now / bucketMs) - 1;
    // Buckets skipped since the last close (timer late, or an idle clock) are closed too, so
    // detectors see the zero-traffic buckets and windows stay aligned.
    const from = Math.max(lastClosed + 1, closed - W + 1);
    for (let b = from; b <= closed; b++) {
      for (const dim of DIMENSIONS) {
        const map = maps[dim];
        for (const [key, s] of map) {
          if (b - s.lastBucket > idleBuckets) {
            map.delete(key);
            evicted++;
            continue;
          }
          for (const signal of detected) {
            const x = valueOf(s, signal, b, 1);
            if (Number.isNaN(x)) continue;
            let d = s.detectors.get(signal);
            if (d === undefined) {
              d = { state: detector.initial(), last: undefined };
              s.detectors.set(signal, d);
            }
            const obs = detector.observe(d.state, x, poissonFloor(signal, d.state, bucketMs));
            d.state = obs.state;
            d.last = obs;
          }
        }
      }
    }
    lastClosed = Math.max(lastClosed, closed);
    evaluations++;
    const evaluation = evaluationAt(now, closed);
    latest = evaluation;
    for (const l of listeners) {
      try {
        l(evaluation);
      } catch (err) {
        listenerErrors++;
        engine.onListenerError?.(err);
      }
    }
    return evaluation;
  };

  const arm = (): void => {
    const now = clock.now();
    const next = (Math.floor(now / bucketMs) + 1) * bucketMs;
    timer = clock.setTimer(() => {
      timer = undefined;
      closeBucketAt(Math.max(clock.now(), next));
      arm();
    }, next - now);
  };

  const engine: SignalEngine = {
    bucketMs,
    windowBuckets: W,
    ingest(batch) {
      const b = Math.floor(clock.now() / bucketMs);
      records += batch.length;
      for (const r of batch) {
        add(seriesFor('identity', r.identity), b, r);
        if (r.model !== '') {
          add(seriesFor('model', r.model), b, r);
          if (r.version !== '') add(seriesFor('version', versionKey(r.model, r.version)), b, r);
        }
      }
    },
    start() {
      if (timer === undefined) arm();
    },
    stop() {
      if (timer !== undefined) clock.clearTimer(timer);
      timer = undefined;
    },
    closeBucket: () => closeBucketAt((Math.floor(clock.now() / bucketMs) + 1) * bucketMs),
    onEvaluate(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    latest: () => latest,
    snapshot(filter = {}) {
      const end = latest?.bucket ?? Math.floor(clock.now() / bucketMs) - 1;
      const out: SeriesSnapshot[] = [];
      for (const dim of filter.dimension === undefined ? DIMENSIONS : [filter.dimension]) {
        for (const s of maps[dim].values()) {
          if (filter.key !== undefined && s.key !== filter.key) continue;
          const view = viewOf(s, end);
          const values: Record<string, number | null> = {};
          for (const name of [...SIGNAL_NAMES, ...view.detectors().map((id) => `dlp_findings:${id}` as const)]) {
            const v = view.value(name);
            values[name] = Number.isNaN(v) ? null : v;
          }
          const anomalies: Record<string, { score: number; expected: number; sd: number; warm: boolean }> = {};
          for (const [signal, d] of s.detectors) if (d.last !== undefined) anomalies[signal] = { score: d.last.score, expected: d.last.expected, sd: d.last.sd, warm: d.last.warm };
          out.push({ dimension: dim, key: s.key, windowSeconds: (W * bucketMs) / 1000, values, anomalies });
        }
      }
      return out.sort((a, b) => (a.dimension === b.dimension ? (a.key < b.key ? -1 : 1) : a.dimension < b.dimension ? -1 : 1));
    },
    stats: () => ({
      series: { identity: maps.identity.size, model: maps.model.size, version: maps.version.size },
      records,
      overflowRecords,
      evicted,
      evaluations,
      listenerErrors,
    }),
  };
  return engine;
}
