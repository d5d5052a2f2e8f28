/**
 * The wasm detectors and the JavaScript RegExp baseline (test/bench/regex-detectors.ts) must agree
 * on the benchmark corpora: it keeps the benchmark comparison honest (same work on both sides)
 * and cross-checks the wasm rules against an independent implementation.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { buildAndLoadDetectHarness, type DetectHarness } from '../../fixtures/detect-harness/load-harness.js';
import { mixedText, chatCompletionBody } from '../../bench/corpus.js';
import { createRegexDetectors } from '../../bench/regex-detectors.js';

let h: DetectHarness;
beforeAll(async () => {
  h = await buildAndLoadDetectHarness('regex-parity.test');
  h.configure();
  h.build();
});

const dec = new TextDecoder();
function wasmSet(text: string): string[] {
  const b = new TextEncoder().encode(text);
  return h.scan(b).map((f) => `${f.detector} ${dec.decode(b.subarray(f.start, f.end))}`);
}

describe('wasm scanner vs RegExp baseline', () => {
  const rx = createRegexDetectors();
  it.each([
    ['mixed text seed 1', () => mixedText(256 << 10, 1)],
    ['mixed text seed 2', () => mixedText(256 << 10, 2)],
    ['chat body', () => chatCompletionBody(64 << 10, 7)],
  ])('%s', (_name, make) => {
    const text = make();
    const w = wasmSet(text);
    const r = rx.scan(text).map((f) => `${f.detector} ${text.slice(f.start, f.end)}`);
    expect(w.length).toBeGreaterThan(20);
    expect(w).toEqual(r);
  });
});
