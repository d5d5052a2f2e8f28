/**
 * Robustness of the decoder against hostile input: random blocks, and valid blocks with flipped bits or
 * cut short, must either decode or throw HpackError — never another exception, never a table larger
 * than its bound, never a header list larger than the limit.
 */
import { describe, expect, it } from 'vitest';
import { createMulberry32 } from '../../../scripts/seeded-random.js';
import { HpackError, createHpackDecoder, encodeHeaderBlock, type HpackDecoder } from '../../../control-plane/src/h2/hpack.js';

/** mulberry32, seeded so a failure reproduces. */
const prng = createMulberry32;

/** A block an indexing peer could send: incremental-indexing literals, references to them, size updates. */
function indexingBlock(next: () => number): Buffer {
  const out: number[] = [];
  if (next() < 0.1) {
    const size = Math.floor(next() * 400); // sometimes above the bound of the decoders below
    if (size < 31) out.push(0x20 | size);
    else out.push(0x3f, ((size - 31) % 128) | ((size - 31) >= 128 ? 0x80 : 0), ...((size - 31) >= 128 ? [Math.floor((size - 31) / 128)] : []));
  }
  const n = 1 + Math.floor(next() * 8);
  for (let i = 0; i < n; i++) {
    const r = next();
    if (r < 0.4) {
      const name = 'x-' + Math.floor(next() * 10);
      const value = 'v'.repeat(Math.floor(next() * 40));
      out.push(0x40, name.length, ...Buffer.from(name), value.length, ...Buffer.from(value));
    } else {
      out.push(0x80 | (1 + Math.floor(next() * 70)));
    }
  }
  return Buffer.from(out);
}

function feed(d: HpackDecoder, block: Uint8Array, limit: number): 'ok' | HpackError['kind'] {
  try {
    const h = d.decode(block);
    let size = 0;
    for (let i = 0; i < h.length; i += 2) size += h[i]!.length + h[i + 1]!.length + 32;
    expect(size).toBeLessThanOrEqual(limit);
    return 'ok';
  } catch (err) {
    if (!(err instanceof HpackError)) throw err;
    expect(err.message.length).toBeGreaterThan(10);
    return err.kind;
  }
}

describe('decoder robustness', () => {
  it('random octets: 20,000 blocks into fresh decoders and into one long-lived decoder', () => {
    const next = prng(1);
    const shared = createHpackDecoder({ maxTableSize: 512, maxHeaderListSize: 2048 });
    const outcomes = new Map<string, number>();
    for (let n = 0; n < 20_000; n++) {
      const block = Buffer.from(Array.from({ length: 1 + Math.floor(next() * 48) }, () => Math.floor(next() * 256)));
      const a = feed(createHpackDecoder({ maxHeaderListSize: 4096 }), block, 4096);
      outcomes.set(a, (outcomes.get(a) ?? 0) + 1);
      feed(shared, block, 2048);
      expect(shared.tableSize).toBeLessThanOrEqual(512);
    }
    // both outcomes occur, so the generator exercises the decoder rather than failing on the first octet
    expect(outcomes.get('ok') ?? 0).toBeGreaterThan(100);
    expect(outcomes.get('compression') ?? 0).toBeGreaterThan(100);
  });

  it('bit flips and truncations of valid blocks', () => {
    const next = prng(2);
    let errors = 0;
    for (let n = 0; n < 5_000; n++) {
      const d = createHpackDecoder({ maxTableSize: 256 });
      const good = next() < 0.5 ? indexingBlock(next) : encodeHeaderBlock([
        [':status', '200'],
        ['content-type', 'application/grpc'],
        ['grpc-message', 'x'.repeat(Math.floor(next() * 300))],
        ['x-' + n, String(n)],
      ]);
      const bad = Buffer.from(good);
      const mode = next();
      let block: Buffer = bad;
      if (mode < 0.5) bad[Math.floor(next() * bad.length)]! ^= 1 << Math.floor(next() * 8);
      else block = bad.subarray(0, Math.floor(next() * bad.length));
      if (feed(d, block, 16384) !== 'ok') errors++;
      expect(d.tableSize).toBeLessThanOrEqual(256);
      // the decoder keeps working for a valid block afterwards (unless its state now demands otherwise)
      feed(d, Buffer.from([0x82]), 16384);
    }
    expect(errors).toBeGreaterThan(500);
  });

  it('a long-lived decoder fed valid indexing blocks keeps its table within bound and references valid', () => {
    const next = prng(3);
    const d = createHpackDecoder({ maxTableSize: 300 });
    let ok = 0;
    for (let n = 0; n < 10_000; n++) {
      if (feed(d, indexingBlock(next), 16384) === 'ok') ok++;
      expect(d.tableSize).toBeLessThanOrEqual(300);
    }
    expect(ok).toBeGreaterThan(1000);
  });
});
