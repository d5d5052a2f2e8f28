/**
 * Sliding-window signals per identity / model / version, driven by a manual clock.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../../control-plane/src/ca/clock.js';
import { createSignalEngine, OVERFLOW_KEY } from '../../../control-plane/src/signals/signal-engine.js';
import { accessRecord, type AccessRecord } from '../../../control-plane/src/telemetry/access-record.js';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const id = (n: string) => `spiffe://meshward.local/ns/a/sa/${n}`;
const rec = (p: Partial<AccessRecord>) => accessRecord({ model: 'chat', version: 'v1', latencyMs: 50, ...p });

describe('signal engine', () => {
  it('computes every signal per identity, model and version over the window, evaluating at bucket boundaries', async () => {
    const clock = createManualClock(T0);
    const e = createSignalEngine({ clock, bucketMs: 1000, windowBuckets: 5 });
    const evaluations: number[] = [];
    e.onEvaluate((ev) => evaluations.push(ev.bucket));
    e.start();
    e.ingest([
      rec({ identity: id('a'), responseBytes: 1000, requestBytes: 10, tokens: { input: 5, output: 7 } }),
      rec({ identity: id('a'), version: 'v2', responseCode: 503, latencyMs: 400 }),
      rec({ identity: id('b'), responseCode: 403, denied: 'rbac', latencyMs: 1 }),
      rec({ identity: id('b'), dlp: { outcome: 'redact', findings: { email: 2, phone: 1 } } }),
      rec({ identity: id('b'), dlp: { outcome: 'block', findings: { aws_access_key: 1 } } }),
      rec({ identity: id('c'), rateLimited: true, responseCode: 429, shadowDenied: true }),
      accessRecord({ kind: 'tcp', denied: 'mtls', responseCode: 0 }),
    ]);
    await clock.advance(1000);
    expect(evaluations).toEqual([Math.floor(T0 / 1000)]);
    const ev = e.latest()!;
    const chat = ev.get('model', 'chat')!;
    expect(chat.value('requests')).toBe(6);
    expect(chat.value('request_rate')).toBeCloseTo(6 / 5);
    expect(chat.value('errors')).toBe(1);
    expect(chat.value('error_ratio')).toBeCloseTo(1 / 6);
    expect(chat.value('dlp_findings')).toBe(4);
    expect(chat.value('dlp_findings:email')).toBe(2);
    expect(chat.value('dlp_redacted')).toBe(1);
    expect(chat.value('dlp_blocked')).toBe(1);
    expect(chat.value('rate_limited')).toBe(1);
    expect(chat.value('shadow_denials')).toBe(1);
    expect(chat.detectors()).toEqual(['aws_access_key', 'email', 'phone']);
    expect(ev.get('version', 'chat|v2')!.value('error_ratio')).toBe(1);
    const a = ev.get('identity', id('a'))!;
    expect(a.value('response_bytes')).toBe(1000);
    expect(a.value('tokens_input')).toBe(5);
    expect(a.value('tokens_output')).toBe(7);
    expect(a.value('latency_ms_mean')).toBeCloseTo(225);
    expect(a.value('latency_ms_p95')).toBeGreaterThan(300);
    expect(a.value('latency_ms_p95')).toBeLessThan(520);
    const b = ev.get('identity', id('b'))!;
    expect(b.value('rbac_denials')).toBe(1);
    expect(b.value('denial_ratio')).toBeCloseTo(1 / 3);
    // the denied call's latency is not a model latency
    expect(b.value('latency_ms_mean')).toBe(50);
    const anon = ev.get('identity', 'anonymous')!;
    expect(anon.value('mtls_failures')).toBe(1);
    expect(anon.value('denials')).toBe(1);
    expect(anon.value('denial_ratio')).toBe(1);
    // a ratio over an empty window is NaN (no rule fires on it)
    await clock.advance(5000);
    expect(e.latest()!.get('model', 'chat')!.value('error_ratio')).toBeNaN();
    expect(e.latest()!.get('model', 'chat')!.value('requests')).toBe(0);
    e.stop();
  });

  it('slides: a window of k buckets sees only the last k closed buckets', async () => {
    const clock = createManualClock(T0);
    const e = createSignalEngine({ clock, bucketMs: 1000, windowBuckets: 4 });
    e.start();
    for (let i = 0; i < 6; i++) {
      e.ingest(Array.from({ length: i + 1 }, () => rec({ identity: id('a') })));
      await clock.advance(1000);
    }
    const s = e.latest()!.get('identity', id('a'))!;
    expect(s.value('requests', 1)).toBe(6);
    expect(s.value('requests', 2)).toBe(11);
    expect(s.value('requests')).toBe(3 + 4 + 5 + 6);
    expect(() => s.value('requests', 5)).toThrow(/buckets/);
  });

  it('feeds the detector one observation per bucket and scores a burst against the baseline', async () => {
    const clock = createManualClock(T0);
    const e = createSignalEngine({ clock, bucketMs: 1000, windowBuckets: 5, detector: { warmup: 5 } });
    e.start();
    for (let i = 0; i < 20; i++) {
      e.ingest(Array.from({ length: 10 + (i % 3) }, () => rec({ identity: id('a') })));
      await clock.advance(1000);
    }
    const calm = e.latest()!.get('identity', id('a'))!.anomaly('request_rate')!;
    expect(calm.warm).toBe(true);
    expect(Math.abs(calm.score)).toBeLessThan(3);
    e.ingest(Array.from({ length: 300 }, () => rec({ identity: id('a') })));
    await clock.advance(1000);
    expect(e.latest()!.get('identity', id('a'))!.anomaly('request_rate')!.score).toBeGreaterThan(20);
  });

  it('is bounded: keys beyond maxSeries go to ~other (totals kept), idle series are evicted', async () => {
    const clock = createManualClock(T0);
    const e = createSignalEngine({ clock, bucketMs: 1000, windowBuckets: 2, maxSeries: 3, idleWindows: 1 });
    e.start();
    e.ingest(['a', 'b', 'c', 'd', 'e'].map((n) => rec({ identity: id(n) })));
    await clock.advance(1000);
    expect(e.stats()).toMatchObject({ overflowRecords: 2 });
    expect(e.stats().series.identity).toBe(4); // a, b, c and ~other
    const ev = e.latest()!;
    expect(ev.get('identity', OVERFLOW_KEY)!.value('requests')).toBe(2);
    await clock.advance(5000);
    expect(e.stats().series.identity).toBe(0);
    expect(e.stats().evicted).toBeGreaterThanOrEqual(4);
  });

  it('is deterministic: same input and clock, same snapshot', async () => {
    const run = async () => {
      const clock = createManualClock(T0);
      const e = createSignalEngine({ clock, bucketMs: 500, windowBuckets: 4 });
      e.start();
      for (let i = 0; i < 10; i++) {
        e.ingest([rec({ identity: id(String(i % 3)), latencyMs: 10 * i, responseCode: i % 4 === 0 ? 500 : 200 })]);
        await clock.advance(500);
      }
      return e.snapshot();
    };
    expect(await run()).toEqual(await run());
  });

  it('rejects bad options naming the field', () => {
    const clock = createManualClock(T0);
    expect(() => createSignalEngine({ clock, bucketMs: 1 })).toThrow(/bucketMs/);
    expect(() => createSignalEngine({ clock, windowBuckets: 0 })).toThrow(/windowBuckets/);
    expect(() => createSignalEngine({ clock, detectedSignals: ['nope' as never] })).toThrow(/detectedSignals/);
  });
});

describe('signal engine on a low-volume series', () => {
  it('does not alarm on one extra call of a caller that makes a few (Poisson floor), but does on a real burst', async () => {
    const clock = createManualClock(T0);
    const e = createSignalEngine({ clock, bucketMs: 1000, windowBuckets: 5, detector: { warmup: 5 } });
    e.start();
    for (let i = 0; i < 40; i++) {
      e.ingest(Array.from({ length: i % 10 === 0 ? 1 : 0 }, () => rec({ identity: id('rare') })));
      await clock.advance(1000);
    }
    e.ingest([rec({ identity: id('rare') }), rec({ identity: id('rare') })]);
    await clock.advance(1000);
    expect(e.latest()!.get('identity', id('rare'))!.anomaly('request_rate')!.score).toBeLessThan(4);
    e.ingest(Array.from({ length: 40 }, () => rec({ identity: id('rare') })));
    await clock.advance(1000);
    expect(e.latest()!.get('identity', id('rare'))!.anomaly('request_rate')!.score).toBeGreaterThan(10);
  });
});
