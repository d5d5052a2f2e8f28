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
import { createBudgetLeaseService } from '../../../control-plane/src/budget/budget-lease-service.js';
import type { Budget } from '../../../control-plane/src/model/budget.js';
import type { EnvoyHost, HttpStream } from '../../host/index.js';
import { SSE_DONE, SSE_HEADERS, meshward, requestHeaders, sseEvents } from '../helpers.js';

const HOUR_MS = 3_600_000;
const START_MS = Math.floor(Date.UTC(2026, 10, 26, 10, 0, 0) / HOUR_MS) * HOUR_MS;
const A = 'spiffe://corp.example/ns/team-a/sa/app';
const BUDGET = 10_000;

const budget: Budget = { name: 'team-a', principals: ['spiffe://corp.example/ns/team-a/*'], tokens: BUDGET, window: 'hour' };

function filterConfig(leaseTokens: number): Record<string, unknown> {
  return {
    budgets: {
      limits: [{ name: 'team-a', principals: ['spiffe://corp.example/ns/team-a/*'], tokens: BUDGET, window: 'hour' }],
      lease: { cluster: 'meshward_cp', authority: 'cp.meshward', tokens: leaseTokens },
    },
  };
}

const delta = (i: number): string =>
  `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":"t${String(i % 1000).padStart(3, '0')}"},"finish_reason":null}]}\n\n`;

interface Fleet {
  envoys: EnvoyHost[];
  answered: number;
  /** Answers every pending lease call with the real lease service. */
  pump(): void;
}

async function fleet(n: number, workers: number, leaseTokens: number): Promise<Fleet> {
  // The service starts at the window start (one started mid-window grants nothing for that window).
  const now = { ms: START_MS };
  const service = createBudgetLeaseService({ budgets: () => [budget], now: () => new Date(now.ms), maxGrantFraction: 0.25 });
  now.ms = START_MS + 60_000;
  const envoys: EnvoyHost[] = [];
  for (let i = 0; i < n; i++) {
    envoys.push(
      await meshward(filterConfig(leaseTokens), {
        workers,
        clusters: ['meshward_cp'],
        properties: { 'xds.node.id': `envoy-${i}` },
        startTimeNanos: BigInt(START_MS + 60_000) * 1_000_000n,
      }),
    );
  }
  const f: Fleet = {
    envoys,
    answered: 0,
    pump() {
      for (let again = true; again; ) {
        again = false;
        for (const e of envoys) {
          for (const call of e.httpCalls) {
            if (call.answered) continue;
            again = true;
            const req = JSON.parse(Buffer.from(call.body).toString('utf8')) as { nodeId: string; leases: { budget: string; key: string; spent: number; want: number }[] };
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
    const open: { s: HttpStream; i: number; done: boolean }[] = [];
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
    expect(charged).toBeGreaterThan(BUDGET * 0.9); // leases are taken back only at window end: at most 4 × a lease stranded
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
