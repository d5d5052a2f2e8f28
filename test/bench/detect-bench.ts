/**
 * bench:detect — detector throughput, wasm scanner vs the same detectors as JS RegExps, in one run.
 *
 * Inputs (test/bench/corpus.ts, seeded): a mixed 1 MiB text and a realistic 64 KiB chat
 * completion body. All built-in detectors on, plus 100 custom keywords (case-insensitive, word
 * boundaries). Each measurement runs for about 1 s (bounded iteration count). The last line is
 * one JSON object of figures.
 */
import { buildDetectHarness, loadDetectHarness, KW_CASE_INSENSITIVE, KW_WORD_BOUNDARY } from '../fixtures/detect-harness/load-harness.js';
import { mixedText, chatCompletionBody, createRandom } from './corpus.js';
import { createRegexDetectors } from './regex-detectors.js';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const enc = new TextEncoder();

function keywords(): string[] {
  const r = createRandom(99);
  const words = ['Falcon', 'Heron', 'Atlas', 'Nimbus', 'Orion', 'Vega', 'Kestrel', 'Quasar', 'Zephyr', 'Cobalt'];
  const out = ['Project Falcon'];
  while (out.length < 100) out.push(`${words[Math.floor(r() * 10)]} ${Math.floor(r() * 100000)} Holdings`);
  return out;
}

function timeLoop(budgetMs: number, maxIter: number, fn: () => void): { iters: number; ms: number } {
  fn(); // warm-up
  const t0 = process.hrtime.bigint();
  let iters = 0;
  let ms = 0;
  while (iters < maxIter) {
    fn();
    iters++;
    ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms >= budgetMs) break;
  }
  return { iters, ms };
}

async function main(): Promise<void> {
  const wasmPath = buildDetectHarness(join(here, '..', 'fixtures', 'detect-harness', 'build', 'detect-bench.wasm'));
  const h = await loadDetectHarness(wasmPath);
  const terms = keywords();
  h.configure();
  for (const [i, t] of terms.entries()) h.addKeyword(t, i, KW_CASE_INSENSITIVE | KW_WORD_BOUNDARY);
  h.build();
  const rx = createRegexDetectors({ keywords: terms });

  const inputs = [
    { name: 'mixed 1 MiB', text: mixedText(1 << 20, 42) },
    { name: 'chat body 64 KiB', text: chatCompletionBody(64 << 10, 7) },
  ];
  const figures: Record<string, number> = {};
  console.log('detector throughput (all built-ins + 100 custom keywords)');
  for (const [k, input] of inputs.entries()) {
    const bytes = enc.encode(input.text);
    const mb = bytes.length / (1 << 20);
    const wasmFindings = h.scan(bytes).length;
    const rxFindings = rx.scan(input.text).length;
    // wasm: loop inside the module (no per-call copy), 20 scans per timed step
    const perStep = k === 0 ? 4 : 64;
    const w = timeLoop(1000, 2000, () => h.scanRepeat(bytes, perStep));
    const wasmMbS = (mb * perStep * w.iters) / (w.ms / 1000);
    const r = timeLoop(1000, 500, () => rx.scan(input.text));
    const rxMbS = (mb * r.iters) / (r.ms / 1000);
    console.log(
      `  ${input.name.padEnd(18)} ${bytes.length} bytes  wasm ${wasmMbS.toFixed(0).padStart(6)} MB/s (${wasmFindings} findings)` +
        `  regexp ${rxMbS.toFixed(1).padStart(6)} MB/s (${rxFindings} findings)  speed-up ${(wasmMbS / rxMbS).toFixed(1)}x`,
    );
    const key = k === 0 ? '' : '_chat';
    figures[`scan${key}_mb_s`] = Math.round(wasmMbS);
    figures[`regex${key}_mb_s`] = Math.round(rxMbS * 10) / 10;
    figures[`speedup${key}_x`] = Math.round((wasmMbS / rxMbS) * 10) / 10;
    figures[`findings${key}_wasm_count`] = wasmFindings;
    figures[`findings${key}_regex_count`] = rxFindings;
  }
  console.log(JSON.stringify(figures));
}

await main();
