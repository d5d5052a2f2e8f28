// Per-principal overrides by SPIFFE ID glob (peer certificate URI SAN via Envoy properties), and the
// per-identity request rate counted in shared data across worker VMs.
import { describe, expect, it } from 'vitest';
import { SAMPLES, auditLines, chat, chatRequest, meshward } from './helpers.js';

const BATCH = 'spiffe://corp.example/ns/batch/sa/nightly';
const APP = 'spiffe://corp.example/ns/app/sa/chat';

describe('per-principal overrides', () => {
  const config = {
    detectors: { iban: 'block', email: 'redact' },
    principals: [
      { match: 'spiffe://corp.example/ns/batch/*', detectors: { iban: 'off' } },
      { match: 'spiffe://corp.example/ns/audit/*', mode: 'monitor' },
      { match: 'spiffe://corp.example/ns/*', detectors: { email: 'block' } },
    ],
  };
  const ibanReq = chatRequest(`pay to ${SAMPLES.iban}`);

  it('a batch job may send IBANs; others may not', async () => {
    const envoy = await meshward(config);
    expect(chat(envoy, ibanReq, undefined, { principal: BATCH }).result.upstream.bodyText).toBe(ibanReq);
    expect(chat(envoy, ibanReq, undefined, { principal: APP }).result.localReply?.status).toBe(403);
    expect(chat(envoy, ibanReq).result.localReply?.status).toBe(403); // no peer certificate
  });

  it('the first matching rule wins, and only its overrides apply', async () => {
    const envoy = await meshward(config);
    const emailReq = chatRequest(`mail ${SAMPLES.email}`);
    // batch matches rule 0 (iban off) before rule 2 (email block): email stays redact.
    expect(chat(envoy, emailReq, undefined, { principal: BATCH }).result.upstream.bodyText).toContain('[EMAIL]');
    // app matches rule 2 only.
    expect(chat(envoy, emailReq, undefined, { principal: APP }).result.localReply?.status).toBe(403);
    // an identity outside the globs keeps the global policy.
    expect(chat(envoy, emailReq, undefined, { principal: 'spiffe://other.example/ns/x/sa/y' }).result.upstream.bodyText).toContain('[EMAIL]');
  });

  it('a rule can switch a caller to monitor mode', async () => {
    const envoy = await meshward(config);
    const { result } = chat(envoy, ibanReq, undefined, { principal: 'spiffe://corp.example/ns/audit/sa/r' });
    expect(result.upstream.bodyText).toBe(ibanReq);
    expect(auditLines(envoy)[0]).toMatchObject({ mode: 'monitor', outcome: 'alert', would: 'block', principal: 'spiffe://corp.example/ns/audit/sa/r' });
  });
});

describe('request_rate over shared data', () => {
  const config = { detectors: { request_rate: { action: 'block', max_requests: 5, window_seconds: 60 } } };

  it('counts one identity across all worker VMs and answers 429 with retry-after', async () => {
    const envoy = await meshward(config, { workers: 3, startTimeNanos: 1_700_000_000_000_000_000n });
    const statuses: (number | undefined)[] = [];
    for (let i = 0; i < 8; i++) {
      statuses.push(chat(envoy, chatRequest('hi'), undefined, { principal: APP, worker: i % 3 }).result.localReply?.status);
    }
    expect(statuses.slice(0, 5)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    const last = chat(envoy, chatRequest('hi'), undefined, { principal: APP, worker: 1 }).result.localReply!;
    expect(JSON.parse(last.bodyText).error).toMatchObject({ type: 'rate_limit_error', code: 'request_rate' });
    expect(Number(last.headers.find(([k]) => k === 'retry-after')?.[1])).toBeGreaterThan(0);
    // Another identity has its own count.
    expect(chat(envoy, chatRequest('hi'), undefined, { principal: BATCH, worker: 2 }).result.localReply).toBeUndefined();
    const state = envoy.sharedData.get(`meshward.rate.${APP}`)!;
    expect(state.value.length).toBe(24);
    expect(new DataView(state.value.buffer, state.value.byteOffset).getBigUint64(8, true)).toBe(9n);
  });

  it('interleaved workers never lose a count (CAS retries on mismatch)', async () => {
    const envoy = await meshward({ detectors: { request_rate: { action: 'alert', max_requests: 1000 } } }, { workers: 4 });
    // Streams are opened on every worker first, then their headers arrive interleaved; each
    // worker read-modify-writes with CAS, so the final count equals the number of requests.
    const streams = Array.from({ length: 40 }, (_, i) => envoy.worker(i % 4).newStream({ properties: { 'connection.uri_san_peer_certificate': APP } }));
    for (const s of streams) s.requestHeaders([[':method', 'GET'], [':path', '/v1/models'], [':authority', 'a']], true);
    const state = envoy.sharedData.get(`meshward.rate.${APP}`)!;
    expect(new DataView(state.value.buffer, state.value.byteOffset).getBigUint64(8, true)).toBe(40n);
  });

  it('a writer racing between read and write causes CasMismatch and a retry, not a lost update', async () => {
    const envoy = await meshward({ detectors: { request_rate: { action: 'alert', max_requests: 1000 } } }, { workers: 2 });
    chat(envoy, chatRequest('a'), undefined, { principal: APP, worker: 0 });
    // Model another worker thread writing in the middle of this worker's read-modify-write: the
    // first guest write after the race is armed finds a new CAS.
    const store = (envoy as unknown as { sharedStore: { set: (vm: string, k: string, v: Uint8Array, cas: number) => number } }).sharedStore;
    const realSet = store.set.bind(store);
    let raced = 0;
    const results: number[] = [];
    store.set = (vm, key, value, cas) => {
      if (raced === 0 && key === `meshward.rate.${APP}`) {
        raced++;
        const other = new Uint8Array(value);
        new DataView(other.buffer).setBigUint64(8, 50n, true); // the racing writer's count
        realSet(vm, key, other, 0);
      }
      const r = realSet(vm, key, value, cas);
      results.push(r);
      return r;
    };
    chat(envoy, chatRequest('b'), undefined, { principal: APP, worker: 1 });
    expect(results[0]).toBe(8); // CasMismatch
    expect(results.at(-1)).toBe(0); // Ok after re-reading
    const state = envoy.sharedData.get(`meshward.rate.${APP}`)!;
    expect(new DataView(state.value.buffer, state.value.byteOffset).getBigUint64(8, true)).toBe(51n);
  });

  it('workers racing to create a new key never lose a count (creation uses a CAS no key has)', async () => {
    // Envoy creates a missing key whatever the CAS, and a CAS of 0 overwrites unconditionally. Here
    // every worker reads the key as missing, then (before its write lands) the next worker runs a
    // whole request: worker 3 creates the key first, and each earlier worker's create must then
    // fail with CasMismatch and retry instead of overwriting the count.
    const workers = 4;
    const envoy = await meshward({ detectors: { request_rate: { action: 'alert', max_requests: 1000 } } }, { workers });
    const key = `meshward.rate.${APP}`;
    const store = (envoy as unknown as { sharedStore: { set: (vm: string, k: string, v: Uint8Array, cas: number) => number } }).sharedStore;
    const realSet = store.set.bind(store);
    let next = 1;
    const results: number[] = [];
    const request = (w: number): void => {
      const s = envoy.worker(w).newStream({ properties: { 'connection.uri_san_peer_certificate': APP } });
      s.requestHeaders([[':method', 'GET'], [':path', '/v1/models'], [':authority', 'a']], true);
      s.complete();
    };
    store.set = (vm, k, value, cas) => {
      // The writer read the key as missing: let the next worker run its request first.
      if (k === key && envoy.sharedData.get(key) === undefined && next < workers) request(next++);
      const r = realSet(vm, k, value, cas);
      if (k === key) results.push(r);
      return r;
    };
    request(0);
    expect(next).toBe(workers);
    expect(results.filter((r) => r === 8).length).toBe(workers - 1); // CasMismatch, then a retry
    const state = envoy.sharedData.get(key)!;
    expect(new DataView(state.value.buffer, state.value.byteOffset).getBigUint64(8, true)).toBe(BigInt(workers));
  });

  it('the window slides: old requests stop counting', async () => {
    const envoy = await meshward({ detectors: { request_rate: { action: 'block', max_requests: 3, window_seconds: 10 } } }, { startTimeNanos: 1_700_000_000_000_000_000n });
    for (let i = 0; i < 3; i++) expect(chat(envoy, chatRequest('x'), undefined, { principal: APP }).result.localReply).toBeUndefined();
    expect(chat(envoy, chatRequest('x'), undefined, { principal: APP }).result.localReply?.status).toBe(429);
    envoy.advanceTime(25_000);
    expect(chat(envoy, chatRequest('x'), undefined, { principal: APP }).result.localReply).toBeUndefined();
  });

  it('callers without a peer certificate are counted per source IP', async () => {
    const envoy = await meshward({ detectors: { request_rate: { action: 'block', max_requests: 2 } } });
    const from = (ip: string): number | undefined => {
      const s = envoy.newStream({ properties: { 'source.address': `${ip}:40000` } });
      s.requestHeaders([[':method', 'GET'], [':path', '/v1/models'], [':authority', 'a']], true);
      const status = s.localReply?.status;
      s.complete();
      return status;
    };
    expect([from('10.0.0.1'), from('10.0.0.1'), from('10.0.0.1')]).toEqual([undefined, undefined, 429]);
    expect(from('10.0.0.2')).toBeUndefined();
    expect(envoy.sharedData.keys()).toEqual(expect.arrayContaining(['meshward.rate.ip:10.0.0.1', 'meshward.rate.ip:10.0.0.2']));
  });
});
