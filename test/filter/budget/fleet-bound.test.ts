/**
 * The fleet bound: several emulated Envoys (each with several worker VMs) draw on ONE budget through
 * the control plane's lease service (control-plane/src/budget/budget-lease-service.ts), answering
 * the filters' lease calls (proxy_http_call) with the real service. Stated bound (docs/budgets.md):
 *
 *   fleet charge ≤ budget + Σ over requests admitted before the budget ran out of
 *                  max(0, usage-reported prompt cost − estimated prompt cost)
 *
 * With usage absent (estimates are the charge) the bound is the budget itself: 0 tokens over.
 */
import { describe, expect, it } from 'vitest';
import { createBudgetLeaseService, type BudgetLeaseService } from '../../../control-plane/src/budget/budget-lease-service.js';
import type { Budget } from '../../../control-plane/src/model/budget.js';
import { EmulatorError, type EnvoyHost, type HttpStream } from '../../host/index.js';
import { SSE_DONE, SSE_HEADERS, meshward, requestHeaders, sseEvents } from '../helpers.js';

const HOUR_MS = 3_600_000;
const START_MS = Math.floor(Date.UTC(2026, 10, 26, 10, 0, 0) / HOUR_MS) * HOUR_MS;
const A = 'spiffe://corp.example/ns/team-a/sa/app';
const BUDGET = 10_000;

const budget: Budget = { name: 'team-a', principals: ['spiffe://corp.example/ns/team-a/*'], tokens: BUDGET, window: 'hour' };

/** `leaseTokens` 0 = the filter's default lease size (a quarter of the budget). */
function filterConfig(leaseTokens: number, lease: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    budgets: {
      limits: [{ name: 'team-a', principals: ['spiffe://corp.example/ns/team-a/*'], tokens: BUDGET, window: 'hour' }],
      lease: { cluster: 'meshward_cp', authority: 'cp.meshward', ...(leaseTokens > 0 ? { tokens: leaseTokens } : {}), ...lease },
    },
  };
}

const delta = (i: number): string =>
  `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"t${String(i % 1000).padStart(3, '0')}"},"finish_reason":null}]}\n\n`;

interface LeaseRequest {
  nodeId: string;
  leases: { budget: string; key: string; spent: number; want: number; release?: boolean }[];
}

interface Fleet {
  envoys: EnvoyHost[];
  service: BudgetLeaseService;
  answered: number;
  /** Every lease request answered, in order. */
  requests: LeaseRequest[];
  /** Answers every pending lease call with the real lease service. */
  pump(): void;
}

async function fleet(n: number, workers: number, leaseTokens: number, lease: Record<string, unknown> = {}): Promise<Fleet> {
  // The service starts at the window start (one started mid-window grants nothing for that window).
  const now = { ms: START_MS };
  const service = createBudgetLeaseService({ budgets: () => [budget], now: () => new Date(now.ms), maxGrantFraction: 0.25 });
  now.ms = START_MS + 60_000;
  const envoys: EnvoyHost[] = [];
  for (let i = 0; i < n; i++) {
    envoys.push(
      await meshward(filterConfig(leaseTokens, lease), {
        workers,
        clusters: ['meshward_cp'],
        properties: { 'xds.node.id': `envoy-${i}` },
        startTimeNanos: BigInt(START_MS + 60_000) * 1_000_000n,
      }),
    );
  }
  const f: Fleet = {
    envoys,
    service,
    answered: 0,
    requests: [],
    pump() {
      for (let again = true; again; ) {
        again = false;
        for (const e of envoys) {
          for (const call of e.httpCalls) {
            if (call.answered) continue;
            again = true;
            const req = JSON.parse(Buffer.from(call.body).toString('utf8')) as LeaseRequest;
            f.requests.push(req);
            const grants = service.lease(req.nodeId, req.leases);
            f.answered++;
            call.respond({ headers: [[':status', '200'], ['content-type', 'application/json']], body: JSON.stringify({ leases: grants }) });
          }
        }
      }
    },
  };
  return f;
}

/** Starts a streamed request; returns the stream once admitted (lease calls answered), or undefined on 429. */
/** A stream the fleet tests keep feeding: `i` deltas sent so far. */
interface OpenStream {
  readonly s: HttpStream;
  i: number;
  done: boolean;
}

/** One round: every open stream gets one more delta; it ends after 300, or when the budget cut it (then [DONE]). */
function stepStreams(f: Fleet, open: OpenStream[]): void {
  for (const o of open) {
    if (o.done) continue;
    o.i++;
    const end = o.i >= 300;
    o.s.responseBody(delta(o.i) + (end ? SSE_DONE : ''), end);
    f.pump();
    if (end || o.s.downstream.bodyText.includes('"budget_exhausted":true')) {
      if (!end) o.s.responseBody(SSE_DONE, true);
      o.s.complete();
      o.done = true;
    }
  }
}

function start(f: Fleet, e: EnvoyHost, worker: number, includeUsage = false, maxTokens = 400): HttpStream | undefined {
  const s = e.worker(worker).newStream({ properties: { 'connection.uri_san_peer_certificate': A } });
  const b = JSON.stringify({
    model: 'gpt-4o', stream: true, max_tokens: maxTokens, messages: [{ role: 'user', content: 'x'.repeat(400) }], // estimate 100 + 4 + 3 = 107
    ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
  });
  s.requestHeaders(requestHeaders('/v1/chat/completions', b), false);
  s.requestBody(b, true);
  f.pump();
  if (s.localReply !== undefined) {
    expect(s.localReply.status).toBe(429);
    return undefined;
  }
  expect(s.upstream.endStream).toBe(true);
  s.responseHeaders(SSE_HEADERS, false);
  return s;
}

describe('fleet bound: leases from the control plane', () => {
  it('4 Envoys × 2 workers on one 10,000-token budget charge at most the budget, and use nearly all of it', async () => {
    const f = await fleet(4, 2, 1000);
    const open: OpenStream[] = [];
    let rejected = 0;
    // Each round: every worker of every Envoy starts a stream (while admitted), then all open streams
    // receive a delta; a stream ends after 300 deltas.
    for (let round = 0; round < 400 && (rejected === 0 || open.some((o) => !o.done)); round++) {
      if (round % 25 === 0) {
        for (const e of f.envoys) {
          for (let w = 0; w < 2; w++) {
            const s = start(f, e, w);
            if (s === undefined) rejected++;
            else open.push({ s, i: 0, done: false });
          }
        }
      }
      stepStreams(f, open);
    }
    let charged = 0;
    let delivered = 0;
    for (const o of open) {
      const st = JSON.parse(Buffer.from(o.s.filterState.get('meshward.budget')!).toString('utf8')) as { budgets: { charged: number }[]; tokens_out: number };
      charged += st.budgets[0]!.charged;
      delivered += sseEvents(o.s.downstream.bodyText).filter((e) => typeof e === 'object' && !('meshward' in (e as object))).length;
    }
    const overshoot = charged - BUDGET;
    console.log(JSON.stringify({ envoys: 4, workers: 2, budget: BUDGET, charged, overshoot, delivered_output_tokens: delivered, streams: open.length, rejected, lease_calls: f.answered }));
    expect(charged).toBeLessThanOrEqual(BUDGET);
    expect(charged).toBeGreaterThan(BUDGET * 0.9); // no time passes here, so nothing is released: at most 4 × a lease stranded
    expect(rejected).toBeGreaterThan(0);
  });

  it('with usage reporting a larger prompt than estimated, the excess is bounded by E (usage − estimate per admitted request)', async () => {
    const f = await fleet(3, 2, 500);
    const PROMPT_USAGE = 130; // 23 more than the estimate of 107
    const streams: HttpStream[] = [];
    let rejected = 0;
    for (let round = 0; round < 30 && rejected < 6; round++) {
      for (const e of f.envoys) {
        for (let w = 0; w < 2; w++) {
          const s = start(f, e, w, true, 60);
          if (s === undefined) {
            rejected++;
            continue;
          }
          streams.push(s);
          // 60 output deltas, then the usage chunk the client asked for.
          let cut = false;
          for (let i = 1; i <= 60 && !cut; i++) {
            s.responseBody(delta(i), false);
            f.pump();
            cut = s.downstream.bodyText.includes('"budget_exhausted":true');
          }
          const usage = `data: {"id":"c","object":"chat.completion.chunk","model":"gpt-4o","choices":[],"usage":{"prompt_tokens":${PROMPT_USAGE},"completion_tokens":60,"total_tokens":${PROMPT_USAGE + 60}}}\n\n`;
          s.responseBody(usage + SSE_DONE, true);
          f.pump();
          s.complete();
        }
      }
    }
    let charged = 0;
    for (const s of streams) charged += (JSON.parse(Buffer.from(s.filterState.get('meshward.budget')!).toString('utf8')) as { budgets: { charged: number }[] }).budgets[0]!.charged;
    const E = streams.length * (PROMPT_USAGE - 107);
    console.log(JSON.stringify({ scenario: 'usage_above_estimate', envoys: 3, workers: 2, budget: BUDGET, charged, overshoot: charged - BUDGET, bound_E: E, streams: streams.length, rejected }));
    expect(rejected).toBeGreaterThan(0);
    expect(charged).toBeLessThanOrEqual(BUDGET + E);
  });

  it('a lease call that fails follows failure_mode: closed answers 503, open admits on the local grant only', async () => {
    for (const failureMode of ['closed', 'open'] as const) {
      const e = await meshward({ failure_mode: failureMode, ...filterConfig(1000) }, { clusters: ['meshward_cp'], startTimeNanos: BigInt(START_MS + 60_000) * 1_000_000n });
      const s = e.worker(0).newStream({ properties: { 'connection.uri_san_peer_certificate': A } });
      const b = JSON.stringify({ model: 'gpt-4o', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
      s.requestHeaders(requestHeaders('/v1/chat/completions', b), false);
      s.requestBody(b, true);
      expect(s.upstream.endStream).toBe(false); // waiting for the lease, body held
      expect(e.httpCalls).toHaveLength(1);
      expect(e.httpCalls[0]!.headers).toEqual(expect.arrayContaining([[':path', '/v1/budget-leases'], [':authority', 'cp.meshward'], [':method', 'POST']]));
      e.httpCalls[0]!.fail();
      // One retry, then failure_mode.
      if (e.httpCalls.length > 1) e.httpCalls[1]!.fail();
      if (failureMode === 'closed') {
        expect(s.localReply?.status).toBe(503);
        expect(JSON.parse(s.localReply!.bodyText).error.code).toBe('budget_unavailable');
      } else {
        expect(s.localReply).toBeUndefined();
        expect(s.upstream.endStream).toBe(true);
        expect(JSON.parse(s.upstream.bodyText).max_tokens).toBe(10);
        // Admitted without a budget check: the stream is metered, not cut.
        s.responseHeaders(SSE_HEADERS, false);
        s.responseBody(delta(1) + delta(2) + delta(3) + SSE_DONE, true);
        expect(s.downstream.bodyText).not.toContain('budget_exhausted');
        s.complete();
        expect(JSON.parse(Buffer.from(s.filterState.get('meshward.budget')!).toString('utf8'))).toMatchObject({ decision: 'lease_unavailable_open', tokens_out: 3 });
      }
      expect(e.metrics.get('meshward.budget.lease.failures')).toBeGreaterThanOrEqual(1n);
    }
  });

  it('without leases, each Envoy enforces alone: the same traffic spends up to N × the budget', async () => {
    const envoys: EnvoyHost[] = [];
    for (let i = 0; i < 3; i++) {
      envoys.push(await meshward({ budgets: { limits: [{ name: 'team-a', principals: ['*'], tokens: 1000, window: 'hour' }] } }, { startTimeNanos: BigInt(START_MS) * 1_000_000n }));
    }
    let admitted = 0;
    for (const e of envoys) {
      for (let k = 0; k < 20; k++) {
        const s = e.worker(0).newStream({ properties: { 'connection.uri_san_peer_certificate': A } });
        const b = JSON.stringify({ model: 'm', max_tokens: 93, messages: [{ role: 'user', content: 'x' }] }); // 1 + 4 + 3 + 93 = 101
        s.requestHeaders(requestHeaders('/v1/chat/completions', b), false);
        s.requestBody(b, true);
        if (s.localReply === undefined) admitted++;
      }
    }
    expect(admitted * 101).toBeGreaterThan(1000 * 2);
    expect(admitted).toBe(3 * 9);
  });
});

// ---- idle release: an Envoy that stops spending gives grant − spent back ---------------------------

const RELEASE_AFTER_MS = 4000;

/** One short stream (prompt 107 + `deltas` output): returns what it charged. */
function serveSmall(f: Fleet, e: EnvoyHost, worker: number, deltas = 3): number {
  const s = start(f, e, worker);
  expect(s).toBeDefined();
  let body = '';
  for (let i = 1; i <= deltas; i++) body += delta(i);
  s!.responseBody(body + SSE_DONE, true);
  f.pump();
  s!.complete();
  return chargedBy(s!);
}

function chargedBy(s: HttpStream): number {
  return (JSON.parse(Buffer.from(s.filterState.get('meshward.budget')!).toString('utf8')) as { budgets: { charged: number }[] }).budgets[0]!.charged;
}

/** Streams on `worker` until the budget cuts it (or `max` deltas): returns the charge, or undefined on 429. */
function drain(f: Fleet, e: EnvoyHost, worker: number, max = 5000): number | undefined {
  const s = start(f, e, worker);
  if (s === undefined) return undefined;
  for (let i = 1; i <= max; i++) {
    s.responseBody(delta(i), false);
    f.pump();
    if (s.downstream.bodyText.includes('"budget_exhausted":true')) break;
  }
  s.responseBody(SSE_DONE, true);
  s.complete();
  return chargedBy(s);
}

/** The node's grant as the lease service sees it (a report with want 0 changes nothing). */
function serviceGrant(f: Fleet, node: string): number {
  return f.service.lease(node, [{ budget: 'team-a', key: A, spent: 0, want: 0 }])[0]!.granted;
}

/** This Envoy's counter in shared data (budget-ledger.ts layout: window, spent, granted, …). */
function ledger(e: EnvoyHost): { spent: number; granted: number } {
  const v = e.sharedData.get(`meshward.budget.team-a|${A}`)!.value;
  const d = new DataView(v.buffer, v.byteOffset, v.byteLength);
  return { spent: Number(d.getBigInt64(8, true)), granted: Number(d.getBigInt64(16, true)) };
}

const unanswered = (e: EnvoyHost) => e.httpCalls.filter((c) => !c.answered).map((c) => JSON.parse(Buffer.from(c.body).toString('utf8')) as LeaseRequest);

describe('fleet bound: idle Envoys release their unused grant (lease.release_after_ms)', () => {
  it('an idle Envoy gives back exactly grant − spent, and a busy Envoy refused before can now lease and serve it', async () => {
    const f = await fleet(4, 2, 0, { release_after_ms: RELEASE_AFTER_MS });
    // Envoys 0..2 serve one short request each: each holds a default lease (2,500) and spent 110.
    const small = [0, 1, 2].map((i) => serveSmall(f, f.envoys[i]!, 0));
    expect(small).toEqual([110, 110, 110]);
    // Envoy 3 spends its whole lease; the budget is fully granted, so its next request gets 429.
    expect(drain(f, f.envoys[3]!, 0)).toBe(2500);
    expect(f.service.usage('team-a', A)).toMatchObject({ granted: BUDGET, available: 0 });
    expect(start(f, f.envoys[3]!, 0)).toBeUndefined();

    // Idle before release_after_ms: nothing happens.
    for (const i of [0, 1, 2]) f.envoys[i]!.advanceTime(RELEASE_AFTER_MS - 1500);
    expect(f.envoys.flatMap((e) => unanswered(e))).toEqual([]);
    // Past it (+ the tick period, release_after / 4): one release call per idle Envoy, none from the busy one.
    for (const i of [0, 1, 2]) f.envoys[i]!.advanceTime(2500);
    for (const i of [0, 1, 2]) {
      const calls = unanswered(f.envoys[i]!);
      // It names the grant it released from (2,500), so a delayed copy cannot take back a later grant.
      expect(calls).toEqual([{ nodeId: `envoy-${i}`, leases: [{ budget: 'team-a', key: A, spent: 110, want: 0, release: true, granted: 2500 }] }]);
      // The local grant went down to spent before the call.
      expect(ledger(f.envoys[i]!)).toEqual({ spent: 110, granted: 110 });
    }
    f.pump();
    for (const i of [0, 1, 2]) {
      expect(serviceGrant(f, `envoy-${i}`)).toBe(110);
      expect(f.envoys[i]!.metrics.get('meshward.budget.team-a.released')).toBe(2390n);
    }
    expect(f.service.usage('team-a', A)).toMatchObject({ granted: 2500 + 3 * 110, available: 3 * 2390 });
    // Later ticks send nothing more.
    for (const i of [0, 1, 2]) f.envoys[i]!.advanceTime(60_000);
    expect(f.envoys.flatMap((e) => unanswered(e))).toEqual([]);

    // The busy Envoy leases the released units: it serves what was refused before.
    let served = 0;
    for (let k = 0; k < 3; k++) served += drain(f, f.envoys[3]!, k % 2) ?? 0;
    expect(served).toBeGreaterThanOrEqual(2 * 2390);
    // The bound holds: everything charged ≤ budget.
    const total = 3 * 110 + 2500 + served;
    expect(total).toBeLessThanOrEqual(BUDGET);
    expect(total).toBeGreaterThan(BUDGET * 0.95);
    // An idle Envoy that wakes up asks for a lease again (its local grant is what it spent); the
    // busy Envoy took everything, so it is refused now.
    expect(start(f, f.envoys[0]!, 1)).toBeUndefined();
    expect(f.requests.at(-1)).toEqual({ nodeId: 'envoy-0', leases: [{ budget: 'team-a', key: A, spent: 110, want: 2500 }] });
  });

  it('release_after_ms 0 never releases (no tick)', async () => {
    const f = await fleet(1, 2, 0, { release_after_ms: 0 });
    serveSmall(f, f.envoys[0]!, 0);
    f.envoys[0]!.advanceTime(3_000_000);
    expect(unanswered(f.envoys[0]!)).toEqual([]);
    expect(serviceGrant(f, 'envoy-0')).toBe(2500);
    expect(ledger(f.envoys[0]!)).toEqual({ spent: 110, granted: 2500 });
  });

  it('the default (30 s) applies without the setting', async () => {
    const f = await fleet(1, 1, 0);
    serveSmall(f, f.envoys[0]!, 0);
    f.envoys[0]!.advanceTime(29_000);
    expect(unanswered(f.envoys[0]!)).toEqual([]);
    f.envoys[0]!.advanceTime(6_000);
    expect(unanswered(f.envoys[0]!)).toEqual([{ nodeId: 'envoy-0', leases: [{ budget: 'team-a', key: A, spent: 110, want: 0, release: true, granted: 2500 }] }]);
  });

  it('two workers holding grants on one counter send one release call; a request arriving meanwhile waits for it, then leases', async () => {
    const f = await fleet(1, 2, 0, { release_after_ms: RELEASE_AFTER_MS });
    const e = f.envoys[0]!;
    serveSmall(f, e, 0); // worker 0 takes the first lease
    // Worker 1 needs more than is left locally: its own lease call (both VMs now hold the counter).
    const s1 = start(f, e, 1, false, 2400)!;
    expect(s1).toBeDefined();
    s1.responseBody(delta(1) + delta(2) + SSE_DONE, true);
    f.pump();
    s1.complete();
    expect(f.requests.filter((r) => r.leases[0]!.want > 0)).toHaveLength(2);
    expect(serviceGrant(f, 'envoy-0')).toBe(5000);
    const before = ledger(e);
    expect(before).toEqual({ spent: 110 + 109, granted: 5000 });

    e.advanceTime(RELEASE_AFTER_MS + 1500); // both workers tick
    const calls = unanswered(e);
    expect(calls).toEqual([{ nodeId: 'envoy-0', leases: [{ budget: 'team-a', key: A, spent: 219, want: 0, release: true, granted: 5000 }] }]);
    expect(ledger(e)).toEqual({ spent: 219, granted: 219 });

    // A request while the release is in flight must not ask (the service could apply the two in
    // either order): it waits, body held, no new call.
    const s = e.worker(1).newStream({ properties: { 'connection.uri_san_peer_certificate': A } });
    const b = JSON.stringify({ model: 'gpt-4o', stream: true, max_tokens: 50, messages: [{ role: 'user', content: 'x'.repeat(400) }] });
    s.requestHeaders(requestHeaders('/v1/chat/completions', b), false);
    s.requestBody(b, true);
    expect(s.upstream.endStream).toBe(false);
    expect(s.localReply).toBeUndefined();
    expect(unanswered(e)).toHaveLength(1);
    e.advanceTime(100); // still releasing: still waiting
    expect(unanswered(e)).toHaveLength(1);
    expect(s.upstream.endStream).toBe(false);

    f.pump(); // the release is answered
    expect(serviceGrant(f, 'envoy-0')).toBe(219);
    e.advanceTime(50); // the parked request asks now
    const ask = unanswered(e);
    expect(ask).toHaveLength(1);
    expect(ask[0]!.leases[0]).toMatchObject({ spent: 219, want: 2500 });
    expect(ask[0]!.leases[0]!.release).toBeUndefined();
    f.pump();
    expect(s.localReply).toBeUndefined();
    expect(s.upstream.endStream).toBe(true);
    // No charge lost: the counter holds both earlier streams plus this one's prompt.
    expect(ledger(e)).toEqual({ spent: 219 + 107, granted: 219 + 2500 });
    expect(serviceGrant(f, 'envoy-0')).toBe(219 + 2500);
  });

  it('an open stream keeps its counter from being released, however long it waits for the next event', async () => {
    const f = await fleet(1, 2, 0, { release_after_ms: RELEASE_AFTER_MS });
    const e = f.envoys[0]!;
    serveSmall(f, e, 0);
    const s = start(f, e, 1)!; // worker 1: a slow model, no event for a minute
    e.advanceTime(60_000);
    expect(unanswered(e)).toEqual([]);
    s.responseBody(delta(1) + SSE_DONE, true);
    s.complete();
    expect(s.downstream.bodyText).not.toContain('budget_exhausted');
    e.advanceTime(RELEASE_AFTER_MS + 1500);
    expect(unanswered(e)).toHaveLength(1);
  });

  it('a release call that fails loses nothing: the service keeps counting the old grant, the Envoy asks again later', async () => {
    const f = await fleet(1, 1, 0, { release_after_ms: RELEASE_AFTER_MS, timeout_ms: 2000 });
    const e = f.envoys[0]!;
    serveSmall(f, e, 0);
    e.advanceTime(RELEASE_AFTER_MS + 1500);
    const call = e.httpCalls.find((c) => !c.answered)!;
    call.fail();
    expect(serviceGrant(f, 'envoy-0')).toBe(2500); // stranded, but counted: the bound holds
    expect(ledger(e)).toEqual({ spent: 110, granted: 110 });
    expect(e.metrics.get('meshward.budget.lease.failures')).toBe(1n);
    // Until the failed call's in-flight window (timeout_ms + 1 s) is over, a request waits; then it asks.
    const s = e.worker(0).newStream({ properties: { 'connection.uri_san_peer_certificate': A } });
    const b = JSON.stringify({ model: 'gpt-4o', stream: true, max_tokens: 50, messages: [{ role: 'user', content: 'x'.repeat(400) }] });
    s.requestHeaders(requestHeaders('/v1/chat/completions', b), false);
    s.requestBody(b, true);
    expect(unanswered(e)).toEqual([]);
    e.advanceTime(3100);
    expect(unanswered(e)).toEqual([{ nodeId: 'envoy-0', leases: [{ budget: 'team-a', key: A, spent: 110, want: 2500 }] }]);
    f.pump();
    expect(s.upstream.endStream).toBe(true);
    expect(serviceGrant(f, 'envoy-0')).toBe(5000);
    expect(ledger(e)).toEqual({ spent: 217, granted: 5000 });
  });

  it.each([500, 3_600_001, -1, 2.5, '30000'])('rejects release_after_ms %j at plugin start, naming the field', async (v) => {
    await expect(meshward(filterConfig(0, { release_after_ms: v }), { clusters: ['meshward_cp'] })).rejects.toSatisfy(
      (err: unknown) => err instanceof EmulatorError && err.message.includes('$.budgets.lease.release_after_ms: must be 0 (never release) or an integer between 1000 and 3600000'),
    );
  });

  async function busyAndIdle(releaseAfterMs: number): Promise<{ charged: number; released: number; rejected: number }> {
    const f = await fleet(4, 2, 0, { release_after_ms: releaseAfterMs });
    // Envoys 2 and 3 serve one request each, then go idle holding a default lease (a quarter each).
    let charged = serveSmall(f, f.envoys[2]!, 0) + serveSmall(f, f.envoys[3]!, 1);
    const open: OpenStream[] = [];
    let rejected = 0;
    for (let round = 0; round < 600 && (rejected === 0 || open.some((o) => !o.done)); round++) {
      // Time passes on the idle Envoys (100 ms per round).
      f.envoys[2]!.advanceTime(100);
      f.envoys[3]!.advanceTime(100);
      f.pump();
      if (round % 25 === 0) {
        for (const e of [f.envoys[0]!, f.envoys[1]!]) {
          for (let w = 0; w < 2; w++) {
            const s = start(f, e, w);
            if (s === undefined) rejected++;
            else open.push({ s, i: 0, done: false });
          }
        }
      }
      stepStreams(f, open);
    }
    for (const o of open) charged += chargedBy(o.s);
    let released = 0;
    for (const e of f.envoys) released += Number(e.metrics.get('meshward.budget.team-a.released') ?? 0n);
    return { charged, released, rejected };
  }

  it('4 Envoys × 2 workers, two of them idle holding leases: the busy two still use ≥ 90% of the budget, never more than it', async () => {
    const withRelease = await busyAndIdle(RELEASE_AFTER_MS);
    const without = await busyAndIdle(0);
    console.log(JSON.stringify({ scenario: 'two_idle_envoys', budget: BUDGET, charged_with_release: withRelease.charged, released: withRelease.released, charged_without_release: without.charged }));
    expect(withRelease.rejected).toBeGreaterThan(0);
    expect(withRelease.released).toBe(2 * 2390);
    expect(withRelease.charged).toBeLessThanOrEqual(BUDGET);
    expect(withRelease.charged).toBeGreaterThanOrEqual(BUDGET * 0.9);
    // Without releases the two idle leases stay stranded: the busy Envoys are refused well before.
    expect(without.released).toBe(0);
    expect(without.charged).toBeLessThan(BUDGET * 0.6);
  });
});
