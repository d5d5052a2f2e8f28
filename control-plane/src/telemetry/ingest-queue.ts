/**
 * A fixed-size queue between the ALS streams (producers) and the closed loop (one consumer).
 *
 * Contract:
 * - Memory is bounded by `capacity` records: a ring buffer allocated once.
 * - Backpressure: when the queue holds `highWater` records or more, `onPressure(true)` is called
 *   (the ALS server pauses reading its streams, so HTTP/2 flow control slows the Envoys down);
 *   when it drains to `lowWater`, `onPressure(false)` resumes them.
 * - Records that arrive while the queue is full are dropped and counted (`dropped`), never
 *   buffered elsewhere; `push` never blocks and never throws.
 * - The consumer runs asynchronously (setImmediate), `batchSize` records per turn, so ingestion and
 *   the event loop (gRPC, timers, the API) interleave. A consumer that throws loses that batch only;
 *   the error is counted and reported to `onError`.
 */
import type { AccessRecord } from './access-record.js';

export interface IngestQueueOptions {
  /** Defaults to 65,536 records. */
  readonly capacity?: number;
  /** Defaults to 3/4 of capacity. */
  readonly highWater?: number;
  /** Defaults to 1/4 of capacity. */
  readonly lowWater?: number;
  /** Records handed to `consume` per turn. Defaults to 2048. */
  readonly batchSize?: number;
  readonly consume: (batch: readonly AccessRecord[]) => void;
  readonly onPressure?: (paused: boolean) => void;
  readonly onError?: (err: unknown) => void;
}

export interface IngestQueueStats {
  readonly accepted: number;
  readonly dropped: number;
  readonly consumed: number;
  readonly consumerErrors: number;
  readonly depth: number;
  readonly capacity: number;
  readonly paused: boolean;
  /** Times the queue asked producers to pause. */
  readonly pauses: number;
}

export interface IngestQueue {
  /** Enqueues as many records as fit; returns how many were dropped. */
  push(records: readonly AccessRecord[]): number;
  stats(): IngestQueueStats;
  /** Resolves once every queued record has been consumed. */
  drained(): Promise<void>;
  /** Stops consuming; queued records are discarded (counted as dropped). Idempotent. */
  close(): void;
}

export function createIngestQueue(options: IngestQueueOptions): IngestQueue {
  const capacity = options.capacity ?? 65_536;
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity: must be a positive integer, got ${capacity}`);
  const highWater = options.highWater ?? Math.max(1, Math.floor((capacity * 3) / 4));
  const lowWater = options.lowWater ?? Math.floor(capacity / 4);
  const batchSize = options.batchSize ?? 2048;
  const ring: (AccessRecord | undefined)[] = new Array(capacity);
  let head = 0;
  let size = 0;
  let accepted = 0;
  let dropped = 0;
  let consumed = 0;
  let consumerErrors = 0;
  let paused = false;
  let pauses = 0;
  let scheduled = false;
  let closed = false;
  let waiters: (() => void)[] = [];

  const setPaused = (p: boolean): void => {
    if (paused === p) return;
    paused = p;
    if (p) pauses++;
    options.onPressure?.(p);
  };

  const run = (): void => {
    scheduled = false;
    if (closed) return;
    const n = Math.min(size, batchSize);
    const batch: AccessRecord[] = new Array(n);
    for (let i = 0; i < n; i++) {
      batch[i] = ring[head]!;
      ring[head] = undefined;
      head = (head + 1) % capacity;
    }
    size -= n;
    try {
      options.consume(batch);
    } catch (err) {
      consumerErrors++;
      options.onError?.(err);
    }
    consumed += n;
    if (size <= lowWater) setPaused(false);
    if (size > 0) schedule();
    else {
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    }
  };
  const schedule = (): void => {
    if (scheduled || closed) return;
    scheduled = true;
    setImmediate(run);
  };

  return {
    push(records) {
      if (closed) {
        dropped += records.length;
        return records.length;
      }
      let lost = 0;
      for (const r of records) {
        if (size === capacity) {
          lost++;
          continue;
        }
        ring[(head + size) % capacity] = r;
        size++;
      }
      accepted += records.length - lost;
      dropped += lost;
      if (size >= highWater) setPaused(true);
      if (size > 0) schedule();
      return lost;
    },
    stats: () => ({ accepted, dropped, consumed, consumerErrors, depth: size, capacity, paused, pauses }),
    drained: () => (size === 0 && !scheduled ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
    close() {
      if (closed) return;
      closed = true;
      dropped += size;
      ring.fill(undefined);
      size = 0;
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    },
  };
}
