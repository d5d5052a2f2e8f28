/**
 * The budget and access cores (filter/assembly/budget, filter/assembly/access) compiled with the
 * filter's flags and driven through a harness whose shared data is a JS store that several
 * instances share (like Envoy worker VMs). The integration through the real filter is in
 * budget-filter.test.ts.
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIT, ADMIT_CLAMPED, REJECT, buildBudgetHarness, createSharedStore, loadBudgetHarness, type BudgetHarness,
} from './harness/load-budget-harness.js';

const T0 = 1_790_000_000_000_000_000n - (1_790_000_000_000_000_000n % 3_600_000_000_000n); // an hour boundary
const A = 'spiffe://corp.example/ns/team-a/sa/app';
const B = 'spiffe://corp.example/ns/team-b/sa/app';

beforeAll(() => {
  buildBudgetHarness('budget-core');
}, 120_000);

function limit(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'team-a', principals: ['spiffe://corp.example/ns/team-a/*'], tokens: 1000, window: 'hour', ...extra };
}

async function withLimits(limits: unknown[], store = createSharedStore(), access?: unknown): Promise<BudgetHarness> {
  const h = await loadBudgetHarness(store);
  const err = h.configure({ budgets: { limits }, ...(access ? { model_access: access } : {}) });
  expect(err).toBeUndefined();
  return h;
}

describe('token estimator (request bodies)', () => {
  let h: BudgetHarness;
  beforeAll(async () => {
    h = await loadBudgetHarness();
  });

  it('counts ASCII/4 + non-ASCII + 4 per message + 3 priming over chat messages, incl. content parts', () => {
    const body = JSON.stringify({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'abcdefgh' }, // 8 ASCII
        { role: 'user', content: [{ type: 'text', text: 'abcd' }, { type: 'image_url', image_url: { url: 'https://x/' + 'y'.repeat(100) } }] }, // 4
      ],
      max_completion_tokens: 50,
      stream: true,
      stream_options: { include_usage: true },
    });
    const f = h.estimate(body);
    expect(f.model).toBe('gpt-4o-mini');
    expect(f.messages).toBe(2);
    expect(f.prompt).toBe(Math.ceil(12 / 4) + 2 * 4 + 3);
    expect(f.maxTokens).toBe(50);
    expect(f.stream).toBe(true);
    expect(f.includeUsage).toBe(true);
  });

  it('counts escapes as the characters they encode and non-ASCII characters as one token each', () => {
    const f = h.estimate('{"model":"m","prompt":"\\u0041\\n\\u00e9\\ud83d\\ude00\u65e5\u672c"}');
    // ASCII: A, \n = 2 → 1 token; non-ASCII: é, 😀 (pair), 日, 本 = 4
    expect(f.prompt).toBe(1 + 4);
    expect(f.messages).toBe(0);
  });

  it('counts token-id arrays of prompt/input one per integer, and embeddings input strings', () => {
    expect(h.estimate('{"model":"m","prompt":[1,2,3,4,5]}').prompt).toBe(5);
    expect(h.estimate('{"model":"m","input":[[1,2],[3]]}').prompt).toBe(3);
    expect(h.estimate('{"model":"text-embedding-3-small","input":["abcd","efgh"]}').prompt).toBe(2);
    // Responses API: instructions + input items (messages)
    const f = h.estimate('{"model":"m","instructions":"abcd","input":[{"role":"user","content":[{"type":"input_text","text":"abcdefgh"}]}],"max_output_tokens":7}');
    expect(f.prompt).toBe(Math.ceil(12 / 4) + 4 + 3);
    expect(f.maxTokens).toBe(7);
  });

  it('reports not-JSON as -1 and leaves non-integer max_tokens as absent', () => {
    expect(h.estimate('{"model":').prompt).toBe(-1);
    expect(h.estimate('{"model":"m","max_tokens":1.5,"prompt":"x"}').maxTokens).toBe(-1);
  });
});

describe('response facts', () => {
  let h: BudgetHarness;
  beforeAll(async () => {
    h = await loadBudgetHarness();
  });
  it('reads chat/completions usage incl. cached tokens, and Responses API usage', () => {
    const u = h.response('{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"abcdefgh"}}],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15,"prompt_tokens_details":{"cached_tokens":8}}}');
    expect(u).toEqual({ text: 2, prompt: 12, completion: 3, cached: 8 });
    const r = h.response('{"type":"response.completed","response":{"id":"r","usage":{"input_tokens":5,"output_tokens":9,"input_tokens_details":{"cached_tokens":0}}}}');
    expect(r).toMatchObject({ prompt: 5, completion: 9, cached: 0 });
    expect(h.response('{"choices":[{"delta":{"content":"abcd","tool_calls":[{"function":{"arguments":"{\\"a\\":1}"}}]}}]}').text).toBe(Math.ceil(11 / 4));
  });
});

describe('budget configuration errors name the field', () => {
  let h: BudgetHarness;
  beforeAll(async () => {
    h = await loadBudgetHarness();
  });
  const cases: [unknown, string][] = [
    [{ budgets: { limits: [limit({ window: 'week' })] } }, '$.budgets.limits[0].window: "week" is not one of minute, hour, day'],
    [{ budgets: { limits: [limit({ tokens: 0 })] } }, '$.budgets.limits[0].tokens: must be an integer between 1 and 1000000000000'],
    [{ budgets: { limits: [limit({ principals: [] })] } }, '$.budgets.limits[0].principals: must not be empty'],
    [{ budgets: { limits: [limit(), limit()] } }, '$.budgets.limits[1].name: duplicate name "team-a"'],
    [{ budgets: { limits: [limit({ costs: [{ model: 'gpt-4o*', output: 1.2345 }] })] } }, '$.budgets.limits[0].costs[0].output: must have at most 3 decimals'],
    [{ budgets: { limits: [limit({ on_exceed: 'cut' })] } }, '$.budgets.limits[0].on_exceed: must be "reject" or "clamp"'],
    [{ budgets: { limits: [limit()], lease: { authority: 'x' } } }, '$.budgets.lease.cluster: required (the Envoy cluster of the lease service)'],
    [{ budgets: { limits: [limit()], api_keys: { header: 'x-api-key', keys: [{ sha256: 'zz', identity: 'k' }] } } }, '$.budgets.api_keys.keys[0].sha256: must be 64 hex characters (SHA-256 of the key)'],
    [{ budgets: { limits: [limit({ extra: 1 })] } }, '$.budgets.limits[0].extra: unknown field'],
    [{ model_access: { lists: [{ name: 'a', principals: ['*'] }] } }, '$.model_access.lists[0].models: required (may be empty: no model)'],
  ];
  it.each(cases)('%j', (cfg, message) => {
    expect(h.configure(cfg)).toContain(message);
  });
});

describe('admission', () => {
  it('admits while the prompt estimate plus max_tokens fits, then rejects with Retry-After to the window end', async () => {
    const h = await withLimits([limit()]);
    expect(h.select(A, 'gpt-4o', '', T0 + 600_000_000_000n)).toBe(1);
    expect(h.admit(100, 500, false, false, T0 + 600_000_000_000n)).toBe(ADMIT); // reserves 600
    expect(h.minRemaining()).toBe(400);
    h.select(A, 'gpt-4o', '', T0 + 600_000_000_000n);
    expect(h.admit(100, 400, false, false, T0 + 600_000_000_000n)).toBe(REJECT);
    expect(h.retryAfter()).toBe(3000); // 50 minutes to the end of the hour
    // Nothing was charged by the rejected request.
    h.select(A, 'gpt-4o', '', T0 + 600_000_000_000n);
    expect(h.admit(100, 300, false, false, T0 + 600_000_000_000n)).toBe(ADMIT);
    expect(h.minRemaining()).toBe(0);
  });

  it('does not apply to other identities, other models or other routes', async () => {
    const h = await withLimits([limit({ models: ['gpt-4o*'], routes: ['chat'] })]);
    expect(h.select(B, 'gpt-4o', 'chat|model|0', T0)).toBe(0);
    expect(h.select(A, 'o3-mini', 'chat|model|0', T0)).toBe(0);
    expect(h.select(A, 'gpt-4o-mini', 'embed|model|0', T0)).toBe(0);
    expect(h.select(A, 'gpt-4o-mini', 'chat|model|0', T0)).toBe(1);
    expect(h.select(A, 'gpt-4o-mini', 'chat', T0)).toBe(1);
  });

  it('clamps max_tokens to what is left when the policy says clamp, down to min_output_tokens', async () => {
    const h = await withLimits([limit({ on_exceed: 'clamp', min_output_tokens: 20, costs: [{ model: '*', input: 1, output: 2 }] })]);
    h.select(A, 'gpt-4o', '', T0);
    expect(h.admit(100, 100, true, true, T0)).toBe(ADMIT); // charges the prompt only (100)
    h.chargeOutput(300, true); // 600 more → 700 spent, 300 left
    h.select(A, 'gpt-4o', '', T0);
    expect(h.admit(100, 1000, false, true, T0)).toBe(ADMIT_CLAMPED);
    expect(h.clampedTo()).toBe(100); // (300 - 100) / 2
    expect(h.minRemaining()).toBe(0);
    h.select(A, 'gpt-4o', '', T0);
    expect(h.admit(10, 100, false, true, T0)).toBe(REJECT); // nothing left: below min_output_tokens
  });

  it('dry-run limits count but never reject', async () => {
    const h = await withLimits([limit({ dry_run: true, tokens: 10 })]);
    h.select(A, 'm', '', T0);
    expect(h.admit(100, 100, false, false, T0)).toBe(ADMIT);
    expect(h.minRemaining()).toBe(0);
  });

  it('per-identity counters by default, one pot with shared: true', async () => {
    const per = await withLimits([limit({ principals: ['*'], tokens: 100 })]);
    per.select(A, 'm', '', T0);
    expect(per.admit(60, 0, true, false, T0)).toBe(ADMIT);
    per.select(B, 'm', '', T0);
    expect(per.admit(60, 0, true, false, T0)).toBe(ADMIT);
    const pot = await withLimits([limit({ principals: ['*'], tokens: 100, shared: true })]);
    pot.select(A, 'm', '', T0);
    expect(pot.admit(60, 0, true, false, T0)).toBe(ADMIT);
    pot.select(B, 'm', '', T0);
    expect(pot.admit(60, 0, true, false, T0)).toBe(REJECT);
  });

  it('a new fixed window starts from zero', async () => {
    const h = await withLimits([limit({ tokens: 100, window: 'minute' })]);
    h.select(A, 'm', '', T0);
    expect(h.admit(90, 0, true, false, T0)).toBe(ADMIT);
    h.select(A, 'm', '', T0 + 59_000_000_000n);
    expect(h.admit(90, 0, true, false, T0 + 59_000_000_000n)).toBe(REJECT);
    h.select(A, 'm', '', T0 + 60_000_000_000n);
    expect(h.admit(90, 0, true, false, T0 + 60_000_000_000n)).toBe(ADMIT);
  });

  it('settles to the usage, refunding an over-estimate and charging cached input at its weight', async () => {
    const h = await withLimits([limit({ costs: [{ model: '*', input: 1, cached_input: 0.5, output: 4 }] })]);
    h.select(A, 'm', '', T0);
    expect(h.admit(100, 100, false, false, T0)).toBe(ADMIT); // 100 + 400 reserved
    expect(h.minRemaining()).toBe(500);
    h.settle(80, 40, 10); // 40×1 + 40×0.5 + 10×4 = 100
    expect(h.charged(0)).toBe(100);
    expect(h.minRemaining()).toBe(900);
  });
});

describe('racing worker VMs on one shared counter', () => {
  it('two instances interleaved inside a CAS never both spend the last tokens', async () => {
    const store = createSharedStore();
    const w1 = await withLimits([limit({ tokens: 100 })], store);
    const w2 = await withLimits([limit({ tokens: 100 })], store);
    // w2 charges 60 in the middle of w1's first write: w1's CAS fails, it re-reads and refuses.
    let injected = false;
    store.beforeSet = () => {
      if (injected) return;
      injected = true;
      w2.select(A, 'm', '', T0);
      expect(w2.admit(60, 0, false, false, T0)).toBe(ADMIT);
    };
    w1.select(A, 'm', '', T0);
    expect(w1.admit(60, 0, false, false, T0)).toBe(REJECT);
    delete store.beforeSet;
    expect(injected).toBe(true);
    w1.select(A, 'm', '', T0);
    expect(w1.admit(40, 0, false, false, T0)).toBe(ADMIT);
    expect(w1.minRemaining()).toBe(0);
  });

  it('many instances charging streamed output in turns spend exactly the budget', async () => {
    const store = createSharedStore();
    const workers = await Promise.all([0, 1, 2, 3].map(() => withLimits([limit({ tokens: 1000 })], store)));
    for (const w of workers) {
      w.select(A, 'm', '', T0);
      expect(w.admit(10, -1, true, false, T0)).toBe(ADMIT);
    }
    const delivered = [0, 0, 0, 0];
    let progress = true;
    while (progress) {
      progress = false;
      workers.forEach((w, i) => {
        if (w.chargeOutput(delivered[i]! + 7, true)) {
          delivered[i]! += 7;
          progress = true;
        }
      });
    }
    const spent = 40 + delivered.reduce((a, b) => a + b, 0);
    expect(spent).toBeLessThanOrEqual(1000);
    expect(spent).toBeGreaterThan(1000 - 7);
  });
});

describe('streamed output: charged as it arrives, cut cleanly at the budget', () => {
  const chunk = (text: string, extra = ''): string =>
    `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"delta":{"content":${JSON.stringify(text)}},"finish_reason":null}]${extra}}\n\n`;

  it('forwards events that fit, then a finish_reason "length" event with the meshward marker and [DONE]', async () => {
    const h = await withLimits([limit({ tokens: 30 })]);
    h.select(A, 'gpt-4o', '', T0);
    expect(h.admit(10, -1, true, false, T0)).toBe(ADMIT);
    h.streamStart(true, false);
    const events = Array.from({ length: 40 }, (_, i) => chunk(`tok${i} `)); // 5 ASCII → 2 tokens each
    const all = events.join('');
    // Deliver in odd-sized pieces so events split across chunks.
    let forwarded = '';
    let cut = false;
    for (let i = 0; i < all.length && !cut; i += 37) {
      const r = h.streamPush(all.slice(i, i + 37), i + 37 >= all.length);
      forwarded += r.out;
      cut = r.cut;
    }
    expect(cut).toBe(true);
    const lines = forwarded.split('\n\n').filter((s) => s.length > 0);
    expect(lines.at(-1)).toBe('data: [DONE]');
    const final = JSON.parse(lines.at(-2)!.slice('data: '.length));
    expect(final).toMatchObject({ id: 'chatcmpl-1', object: 'chat.completion.chunk', model: 'gpt-4o', choices: [{ index: 0, delta: {}, finish_reason: 'length' }], meshward: { budget_exhausted: true, budget: 'team-a' } });
    // Every forwarded event is a whole, valid event; the output charged never exceeds the budget.
    for (const l of lines.slice(0, -1)) expect(() => JSON.parse(l.slice(6))).not.toThrow();
    // 20 output tokens: events are delivered while ceil(text chars / 4) stays within 20.
    const delivered = lines.length - 2;
    let chars = 0;
    let fit = 0;
    for (let i = 0; i < 40 && Math.ceil((chars + `tok${i} `.length) / 4) <= 20; i++) {
      chars += `tok${i} `.length;
      fit++;
    }
    expect(delivered).toBe(fit);
    expect(h.minRemaining()).toBe(0);
    // Later chunks are dropped.
    expect(h.streamPush(chunk('more'), true)).toEqual({ out: '', cut: true });
  });

  it('takes the usage chunk as authoritative and passes the stream through when it fits', async () => {
    const h = await withLimits([limit({ tokens: 1000 })]);
    h.select(A, 'gpt-4o', '', T0);
    h.admit(10, -1, true, false, T0);
    h.streamStart(true, true);
    const body = chunk('hello world') + 'data: {"id":"chatcmpl-1","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":2,"total_tokens":14}}\n\n' + 'data: [DONE]\n\n';
    const r = h.streamPush(body, true);
    expect(r).toEqual({ out: body, cut: false });
    expect(h.charged(0)).toBe(14);
  });

  it('adds usage to the final event when the client asked for it, and ends Responses API streams with response.incomplete', async () => {
    const h = await withLimits([limit({ tokens: 12 })]);
    h.select(A, 'gpt-4o', '', T0);
    h.admit(10, -1, true, false, T0);
    h.streamStart(true, true);
    const r = h.streamPush(chunk('abcd') + chunk('abcdefgh'), false);
    expect(r.cut).toBe(true);
    const final = JSON.parse(r.out.split('\n\n')[1]!.slice(6));
    expect(final.usage).toEqual({ prompt_tokens: 10, completion_tokens: 1, total_tokens: 11 });

    const c = await withLimits([limit({ tokens: 12 })]);
    c.select(A, 'gpt-3.5-turbo-instruct', '', T0);
    c.admit(10, -1, true, false, T0);
    c.streamStart(true, false);
    const comp = (t: string): string => `data: {"id":"cmpl-1","object":"text_completion","created":7,"model":"gpt-3.5-turbo-instruct","choices":[{"text":${JSON.stringify(t)},"index":0,"logprobs":null,"finish_reason":null}]}\n\n`;
    const cr = c.streamPush(comp('abcd') + comp('abcdefgh'), false);
    expect(cr.cut).toBe(true);
    expect(JSON.parse(cr.out.split('\n\n')[1]!.slice(6))).toEqual({
      id: 'cmpl-1', object: 'text_completion', created: 7, model: 'gpt-3.5-turbo-instruct',
      choices: [{ index: 0, text: '', logprobs: null, finish_reason: 'length' }], meshward: { budget_exhausted: true, budget: 'team-a' },
    });

    const g = await withLimits([limit({ tokens: 12 })]);
    g.select(A, 'gpt-4o', '', T0);
    g.admit(10, -1, true, false, T0);
    g.streamStart(true, false);
    const ev = (d: string): string => `event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":${JSON.stringify(d)}}\n\n`;
    const out = g.streamPush(ev('abcdefgh') + ev('abcdefgh'), false);
    expect(out.cut).toBe(true);
    expect(out.out).toContain('event: response.incomplete\ndata: {"type":"response.incomplete"');
    expect(JSON.parse(out.out.split('\n\n')[1]!.split('\n')[1]!.slice(6)).response.incomplete_details.reason).toBe('max_output_tokens');
  });
});

describe('model access lists', () => {
  const access = {
    lists: [
      { name: 'team-a', principals: ['spiffe://corp.example/ns/team-a/*'], models: ['gpt-4o*', 'text-embedding-3-small'] },
      { name: 'all', principals: ['*'], models: ['gpt-4o-mini'] },
    ],
  };
  it('allows listed models (wildcards, union of lists), denies others; unmatched identities are unrestricted', async () => {
    const h = await loadBudgetHarness();
    expect(h.configure({ model_access: access })).toBeUndefined();
    expect(h.access(A, 'gpt-4o-2024-08-06')).toBe(1);
    expect(h.access(A, 'o3-mini')).toBe(2);
    expect(h.access(B, 'gpt-4o-mini')).toBe(1);
    expect(h.access(B, 'gpt-4o')).toBe(2);
    expect(h.access('', 'gpt-4o')).toBe(0);
    expect(h.configure({ model_access: { lists: [access.lists[0]] } })).toBeUndefined();
    expect(h.access(B, 'anything')).toBe(0);
  });

  it('filters a /v1/models list to the allowed models, keeping valid JSON and other fields', async () => {
    const h = await loadBudgetHarness();
    h.configure({ model_access: access });
    const body = JSON.stringify({ object: 'list', data: ['gpt-4o', 'o3-mini', 'gpt-4o-mini', 'text-embedding-3-small', 'dall-e-3'].map((id) => ({ id, object: 'model', created: 1, owned_by: 'x' })) }, null, 1);
    const a = h.modelsFilter(A, body);
    expect(a.removed).toBe(2);
    expect(JSON.parse(a.out)).toEqual({ object: 'list', data: JSON.parse(body).data.filter((m: { id: string }) => !['o3-mini', 'dall-e-3'].includes(m.id)) });
    const b = h.modelsFilter(B, body);
    expect(JSON.parse(b.out).data.map((m: { id: string }) => m.id)).toEqual(['gpt-4o-mini']);
    expect(h.modelsFilter(B, '{"error":"x"}').removed).toBe(-1);
  });
});

describe('sha256 for API keys', () => {
  it('matches node:crypto on lengths around the block boundaries', async () => {
    const h = await loadBudgetHarness();
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000]) {
      const s = 'k'.repeat(n);
      expect(h.sha256(s)).toBe(createHash('sha256').update(s).digest('hex'));
    }
  });
});
