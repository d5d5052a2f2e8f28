// Linear memory of a warm VM under repeated large bodies: Wasm memory never shrinks, so every
// large body after the first must fit in the memory the first one grew (target: peak linear
// memory <= 3x the body, also in steady state). Uses the bench's detector set (all built-in
// detectors incl. prompt_injection, plus 100 custom keywords) and its 1 MiB chat body.
import { describe, expect, it } from 'vitest';
import { chatCompletionBody, createRandom } from '../bench/corpus.js';
import { meshward, requestHeaders } from './helpers.js';

const MiB = 1 << 20;
/** Room for the module's data, the config and the scanners (the VM starts at 256 KiB). */
const SLACK_BYTES = 256 * 1024;
const IDS = [
  'email', 'phone', 'credit_card', 'us_ssn', 'iban', 'ip_address', 'aws_access_key', 'github_token', 'slack_token',
  'google_api_key', 'stripe_key', 'openai_api_key', 'jwt', 'private_key', 'prompt_injection',
];

function keywords(): string[] {
  const r = createRandom(99);
  const words = ['Falcon', 'Heron', 'Atlas', 'Nimbus', 'Orion', 'Vega', 'Kestrel', 'Quasar', 'Zephyr', 'Cobalt'];
  const out = ['Project Falcon'];
  while (out.length < 100) out.push(`${words[Math.floor(r() * 10)]} ${Math.floor(r() * 100000)} Holdings`);
  return out;
}

function config(action: 'alert' | 'redact'): Record<string, unknown> {
  return {
    max_body_bytes: 4 * MiB,
    detectors: Object.fromEntries(IDS.map((id) => [id, action])),
    custom_detectors: [{ id: 'codename', keywords: keywords(), action }],
    audit: { log: 'all' },
  };
}

describe('linear memory under repeated 1 MiB bodies', () => {
  const body = chatCompletionBody(MiB, 5);
  const bytes = new TextEncoder().encode(body);

  it.each(['alert', 'redact'] as const)('8 x 1 MiB %s requests on one worker stay <= 3x the body', async (action) => {
    const envoy = await meshward(config(action), { bufferLimitBytes: 16 * MiB });
    const limit = 3 * bytes.length + SLACK_BYTES;
    const seen: number[] = [];
    for (let i = 0; i < 8; i++) {
      const s = envoy.newStream();
      s.requestHeaders(requestHeaders('/v1/chat/completions', body), false);
      s.requestBody(bytes, true);
      // The body was inspected and forwarded (alert: unchanged; redact: rewritten, still JSON).
      expect(s.localReply).toBeUndefined();
      if (action === 'alert') expect(s.upstream.bodyText.length).toBe(body.length);
      else expect(JSON.parse(s.upstream.bodyText).messages.length).toBe(JSON.parse(body).messages.length);
      s.complete();
      seen.push(envoy.worker(0).memoryBytes);
    }
    expect(envoy.worker(0).openStreams).toHaveLength(0);
    for (const m of seen) expect(m, `memory after each request: ${seen.join(', ')}`).toBeLessThanOrEqual(limit);
    // Steady state: nothing grows after the first large body.
    expect(seen[7]).toBe(seen[0]);
  });
});
