/** Luhn, ISO 13616 mod-97, the detector registry and allocation behaviour, through the harness .wasm. */
import { beforeAll, describe, expect, it } from 'vitest';
import { buildAndLoadDetectHarness, type DetectHarness, DETECTOR_IDS } from '../../fixtures/detect-harness/load-harness.js';
import { withLuhn } from './detect-test-helpers.js';
import { mixedText } from '../../bench/corpus.js';

let h: DetectHarness;
beforeAll(async () => {
  h = await buildAndLoadDetectHarness('helpers.test');
  h.configure();
});

describe('luhn', () => {
  it.each(['4111111111111111', '79927398713', '0', '4111 1111 1111 1111', withLuhn('123456789012345')])('accepts %s', (d) => {
    expect(h.luhn(d)).toBe(true);
  });
  it.each(['4111111111111112', '79927398710', '', '--', '1'])('rejects %s', (d) => {
    expect(h.luhn(d)).toBe(false);
  });
});

describe('mod97', () => {
  it('is 1 for valid IBANs and not 1 for a changed digit', () => {
    expect(h.mod97('DE89370400440532013000')).toBe(1);
    expect(h.mod97('GB82WEST12345698765432')).toBe(1);
    expect(h.mod97('DE89370400440532013001')).not.toBe(1);
  });
  it('reports a non-alphanumeric byte as -1', () => {
    expect(h.mod97('DE89 3704')).toBe(-1);
    expect(h.mod97('de89370400440532013000')).toBe(-1);
  });
});

describe('registry', () => {
  it('round-trips every public id and knows 15 built-ins', () => {
    expect(h.registryRoundTrip()).toBe(DETECTOR_IDS.length);
    expect(DETECTOR_IDS.length).toBe(15);
  });
});

describe('allocation', () => {
  it('does not grow memory when the same text is scanned again', () => {
    const text = new TextEncoder().encode(mixedText(256 << 10, 3));
    h.scan(text);
    h.scan(text);
    const before = h.memoryBytes();
    for (let i = 0; i < 20; i++) h.scan(text);
    expect(h.memoryBytes()).toBe(before);
  });
});
