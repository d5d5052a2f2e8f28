import { describe, expect, it } from 'vitest';
import {
  HpackError,
  STATIC_TABLE_LENGTH,
  createHpackDecoder,
  encodeHeaderBlock,
  staticTableEntries,
  type HpackDecoder,
} from '../../../control-plane/src/h2/hpack.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const pairs = (flat: string[]): Array<[string, string]> => {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
};

/** Encodes an integer with an n-bit prefix (RFC 7541 §5.1), independently of the module under test. */
function int(prefixBits: number, flags: number, value: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [flags | value];
  const out = [flags | max];
  value -= max;
  while (value >= 128) {
    out.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}
const raw = (s: string): number[] => [...int(7, 0, s.length), ...Buffer.from(s, 'latin1')];
/** Literal with incremental indexing, new name. */
const addLiteral = (name: string, value: string): number[] => [0x40, ...raw(name), ...raw(value)];

/**
 * Reads the whole dynamic table through the decoder's public surface: an indexed representation of each
 * dynamic index (62, 63, ...) decodes to that entry and leaves the table unchanged; the index after the
 * last entry must be rejected.
 */
function dynamicTable(d: HpackDecoder): Array<[string, string]> {
  const entries: Array<[string, string]> = [];
  for (let i = STATIC_TABLE_LENGTH + 1; ; i++) {
    const before = d.tableSize;
    try {
      const h = d.decode(Buffer.from(int(7, 0x80, i)));
      entries.push([h[0]!, h[1]!]);
    } catch (err) {
      expect(err).toBeInstanceOf(HpackError);
      expect((err as HpackError).message).toMatch(/beyond the static \(61\) and dynamic/);
      break;
    }
    expect(d.tableSize).toBe(before);
  }
  const size = entries.reduce((n, [k, v]) => n + k.length + v.length + 32, 0);
  expect(size).toBe(d.tableSize);
  return entries;
}

/** Sends the size update a peer must open its next block with after a lowered bound; returns the decoder. */
function withUpdate(d: HpackDecoder, size: number): HpackDecoder {
  expect(d.decode(Buffer.from(int(5, 0x20, size)))).toEqual([]);
  return d;
}

function expectHpackError(fn: () => unknown, kind: HpackError['kind'], message: RegExp): HpackError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(HpackError);
  const e = caught as HpackError;
  expect(e.kind).toBe(kind);
  expect(e.name).toBe('HpackError');
  expect(e.message).toMatch(message);
  return e;
}

describe('static table (RFC 7541 Appendix A)', () => {
  it('has 61 entries with the RFC\'s first, pseudo-header and last rows', () => {
    const t = staticTableEntries();
    expect(t).toHaveLength(61);
    expect(STATIC_TABLE_LENGTH).toBe(61);
    expect(t[0]).toEqual([':authority', '']);
    expect(t[1]).toEqual([':method', 'GET']);
    expect(t[7]).toEqual([':status', '200']);
    expect(t[15]).toEqual(['accept-encoding', 'gzip, deflate']);
    expect(t[30]).toEqual(['content-type', '']);
    expect(t[60]).toEqual(['www-authenticate', '']);
  });

  it('decodes every static index to its entry', () => {
    const d = createHpackDecoder();
    const t = staticTableEntries();
    const block = Buffer.from(t.flatMap((_, i) => int(7, 0x80, i + 1)));
    expect(pairs(d.decode(block))).toEqual(t.map(([n, v]) => [n, v]));
    expect(d.tableSize).toBe(0);
  });
});

describe('RFC 7541 Appendix C examples', () => {
  it('C.1 integer examples decode (10 and 1337 with a 5-bit prefix, 42 on 8 bits)', () => {
    // A size update carries a 5-bit-prefix integer: 10, then 1337.
    const d = createHpackDecoder({ maxTableSize: 2000 });
    d.decode(hex('2a'));
    d.decode(Buffer.from(addLiteral('k', 'x'.repeat(10))));
    // an entry of size 43 > 10 does not fit: the table was emptied and nothing added
    expect(d.tableSize).toBe(0);
    d.decode(hex('3f 9a 0a'));
    d.decode(Buffer.from(addLiteral('k', 'x'.repeat(1337 - 33))));
    expect(d.tableSize).toBe(1337);
    d.decode(Buffer.from(addLiteral('k', '')));
    expect(d.tableSize).toBe(33); // the 1337-octet entry was evicted to make room
    // 42 on an 8-bit prefix cannot occur in a header block; 42 with a 7-bit prefix is a string length.
    const h = d.decode(Buffer.from([0x00, ...raw('n'), ...raw('v'.repeat(42))]));
    expect(h[1]).toHaveLength(42);
  });

  it('C.2.1 literal header field with indexing', () => {
    const d = createHpackDecoder();
    expect(d.decode(hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'))).toEqual([
      'custom-key',
      'custom-header',
    ]);
    expect(d.tableSize).toBe(55);
    expect(dynamicTable(d)).toEqual([['custom-key', 'custom-header']]);
  });

  it('C.2.2 literal header field without indexing', () => {
    const d = createHpackDecoder();
    expect(d.decode(hex('040c 2f73 616d 706c 652f 7061 7468'))).toEqual([':path', '/sample/path']);
    expect(d.tableSize).toBe(0);
    expect(dynamicTable(d)).toEqual([]);
  });

  it('C.2.3 literal header field never indexed', () => {
    const d = createHpackDecoder();
    expect(d.decode(hex('1008 7061 7373 776f 7264 0673 6563 7265 74'))).toEqual(['password', 'secret']);
    expect(d.tableSize).toBe(0);
    expect(dynamicTable(d)).toEqual([]);
  });

  it('C.2.4 indexed header field', () => {
    const d = createHpackDecoder();
    expect(d.decode(hex('82'))).toEqual([':method', 'GET']);
    expect(d.tableSize).toBe(0);
  });

  const requests = [
    [
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', 'www.example.com'],
    ],
    [
      [':method', 'GET'],
      [':scheme', 'http'],
      [':path', '/'],
      [':authority', 'www.example.com'],
      ['cache-control', 'no-cache'],
    ],
    [
      [':method', 'GET'],
      [':scheme', 'https'],
      [':path', '/index.html'],
      [':authority', 'www.example.com'],
      ['custom-key', 'custom-value'],
    ],
  ];
  const requestTables = [
    { size: 57, entries: [[':authority', 'www.example.com']] },
    { size: 110, entries: [['cache-control', 'no-cache'], [':authority', 'www.example.com']] },
    {
      size: 164,
      entries: [['custom-key', 'custom-value'], ['cache-control', 'no-cache'], [':authority', 'www.example.com']],
    },
  ];

  it.each([
    [
      'C.3 requests without Huffman coding',
      [
        '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
        '8286 84be 5808 6e6f 2d63 6163 6865',
        '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
      ],
    ],
    [
      'C.4 requests with Huffman coding',
      [
        '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff',
        '8286 84be 5886 a8eb 1064 9cbf',
        '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf',
      ],
    ],
  ])('%s', (_title, blocks) => {
    const d = createHpackDecoder();
    blocks.forEach((block, i) => {
      expect(pairs(d.decode(hex(block)))).toEqual(requests[i]);
      expect(d.tableSize).toBe(requestTables[i]!.size);
      expect(dynamicTable(d)).toEqual(requestTables[i]!.entries);
    });
  });

  const date1 = 'Mon, 21 Oct 2013 20:13:21 GMT';
  const date2 = 'Mon, 21 Oct 2013 20:13:22 GMT';
  const cookie = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
  const responses = [
    [
      [':status', '302'],
      ['cache-control', 'private'],
      ['date', date1],
      ['location', 'https://www.example.com'],
    ],
    [
      [':status', '307'],
      ['cache-control', 'private'],
      ['date', date1],
      ['location', 'https://www.example.com'],
    ],
    [
      [':status', '200'],
      ['cache-control', 'private'],
      ['date', date2],
      ['location', 'https://www.example.com'],
      ['content-encoding', 'gzip'],
      ['set-cookie', cookie],
    ],
  ];
  const responseTables = [
    {
      size: 222,
      entries: [
        ['location', 'https://www.example.com'],
        ['date', date1],
        ['cache-control', 'private'],
        [':status', '302'],
      ],
    },
    {
      size: 222,
      entries: [
        [':status', '307'],
        ['location', 'https://www.example.com'],
        ['date', date1],
        ['cache-control', 'private'],
      ],
    },
    {
      size: 215,
      entries: [
        ['set-cookie', cookie],
        ['content-encoding', 'gzip'],
        ['date', date2],
      ],
    },
  ];

  it.each([
    [
      'C.5 responses without Huffman coding (table size 256)',
      [
        '4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
        '4803 3330 37c1 c0bf',
        '88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31',
      ],
    ],
    [
      'C.6 responses with Huffman coding (table size 256)',
      [
        '4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3',
        '4883 640e ffc1 c0bf',
        '88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab 77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07',
      ],
    ],
  ])('%s', (_title, blocks) => {
    const d = createHpackDecoder({ maxTableSize: 256 });
    blocks.forEach((block, i) => {
      expect(pairs(d.decode(hex(block)))).toEqual(responses[i]);
      expect(d.tableSize).toBe(responseTables[i]!.size);
      expect(dynamicTable(d)).toEqual(responseTables[i]!.entries);
    });
  });
});

describe('decoder: representations and the dynamic table', () => {
  it('literal with incremental indexing by indexed name, and dynamic-name references', () => {
    const d = createHpackDecoder();
    // 0x40 | 31 = content-type with a literal value, added to the table
    expect(d.decode(Buffer.from([...int(6, 0x40, 31), ...raw('application/grpc')]))).toEqual([
      'content-type',
      'application/grpc',
    ]);
    // literal without indexing / never indexed, naming the dynamic entry (index 62)
    expect(
      d.decode(Buffer.from([...int(4, 0x00, 62), ...raw('text/plain'), ...int(4, 0x10, 62), ...raw('x')])),
    ).toEqual(['content-type', 'text/plain', 'content-type', 'x']);
    expect(dynamicTable(d)).toEqual([['content-type', 'application/grpc']]);
  });

  it('names are returned exactly as sent and values keep every octet (latin1)', () => {
    const d = createHpackDecoder();
    const value = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
    const h = d.decode(Buffer.from([0x00, ...raw('X-Upper'), ...raw(value)]));
    expect(h).toEqual(['X-Upper', value]);
  });

  it('evicts oldest entries first and counts name + value + 32 octets per entry', () => {
    const d = createHpackDecoder({ maxTableSize: 100 });
    d.decode(Buffer.from([...addLiteral('a', 'x'.repeat(15)), ...addLiteral('b', 'y'.repeat(15))])); // 48 + 48
    expect(d.tableSize).toBe(96);
    d.decode(Buffer.from(addLiteral('c', ''))); // 33: 'a' must go
    expect(dynamicTable(d)).toEqual([
      ['c', ''],
      ['b', 'y'.repeat(15)],
    ]);
    expect(d.tableSize).toBe(81);
  });

  it('an entry larger than the table empties it and is not added', () => {
    const d = createHpackDecoder({ maxTableSize: 100 });
    d.decode(Buffer.from(addLiteral('a', 'x')));
    const big = 'z'.repeat(100 - 32); // 1 + 68 + 32 = 101 > 100
    expect(d.decode(Buffer.from(addLiteral('b', big)))).toEqual(['b', big]);
    expect(d.tableSize).toBe(0);
    expect(dynamicTable(d)).toEqual([]);
    // exactly the maximum fits
    d.decode(Buffer.from(addLiteral('b', big.slice(1))));
    expect(d.tableSize).toBe(100);
  });

  it('keeps many entries in order across ring growth and wrap-around', () => {
    const d = createHpackDecoder({ maxTableSize: 4096 });
    const all: Array<[string, string]> = [];
    for (let i = 0; i < 500; i++) {
      const name = `n${i}`;
      const value = 'v'.repeat(i % 37);
      d.decode(Buffer.from(addLiteral(name, value)));
      all.unshift([name, value]);
      if (i % 97 === 0 || i === 499) {
        let size = 0;
        const expected: Array<[string, string]> = [];
        for (const e of all) {
          const s = e[0].length + e[1].length + 32;
          if (size + s > 4096) break;
          size += s;
          expected.push(e);
        }
        expect(dynamicTable(d)).toEqual(expected);
      }
    }
  });

  it('a table size update may shrink the table (evicting) and grow it again up to the bound', () => {
    const d = createHpackDecoder();
    d.decode(Buffer.from([...addLiteral('a', '1'), ...addLiteral('b', '2')])); // 34 + 34
    d.decode(Buffer.from(int(5, 0x20, 40)));
    expect(dynamicTable(d)).toEqual([['b', '2']]);
    // two updates at the start of one block (RFC 7541 §4.2), then a field
    expect(d.decode(Buffer.from([...int(5, 0x20, 0), ...int(5, 0x20, 4096), 0x82]))).toEqual([':method', 'GET']);
    expect(d.tableSize).toBe(0);
    d.decode(Buffer.from([...addLiteral('a', '1'), ...addLiteral('b', '2')]));
    expect(d.tableSize).toBe(68);
  });

  it('setMaxTableSize below the current maximum requires a size update at the start of the next block', () => {
    const d = createHpackDecoder();
    d.decode(Buffer.from(addLiteral('a', '1')));
    d.setMaxTableSize(0);
    expect(d.tableSize).toBe(0); // evicted at once: the required update would evict it anyway
    expectHpackError(() => d.decode(hex('82')), 'compression', /must begin with a dynamic table size update ≤ 0/);
    expectHpackError(() => d.decode(new Uint8Array(0)), 'compression', /must begin with a dynamic table size update/);
    expectHpackError(() => d.decode(Buffer.from(int(5, 0x20, 1))), 'compression', /update to 1 .* exceeds the SETTINGS_HEADER_TABLE_SIZE bound 0/);
    expect(d.decode(Buffer.from([...int(5, 0x20, 0), 0x82]))).toEqual([':method', 'GET']);
    expect(d.tableSize).toBe(0);
    // table size 0: incremental literals are decoded but never stored
    expect(d.decode(Buffer.from(addLiteral('a', '1')))).toEqual(['a', '1']);
    expect(d.tableSize).toBe(0);
    expect(dynamicTable(d)).toEqual([]);
    // later blocks need no update
    expect(d.decode(hex('82'))).toEqual([':method', 'GET']);
  });

  it('setMaxTableSize evicts only what exceeds the new bound, and the update may go lower still', () => {
    const d = createHpackDecoder();
    d.decode(Buffer.from([...addLiteral('a', '1'), ...addLiteral('b', '2'), ...addLiteral('c', '3')])); // 3 × 34
    d.setMaxTableSize(70);
    expect(d.tableSize).toBe(68);
    expect(dynamicTable(withUpdate(d, 70))).toEqual([
      ['c', '3'],
      ['b', '2'],
    ]);
    d.setMaxTableSize(40);
    d.decode(Buffer.from(int(5, 0x20, 0)));
    expect(d.tableSize).toBe(0);
    expect(dynamicTable(d)).toEqual([]);
  });

  it('setMaxTableSize at or above the current maximum requires no update and allows growing to the new bound', () => {
    const d = createHpackDecoder({ maxTableSize: 100 });
    d.setMaxTableSize(100);
    expect(d.decode(hex('82'))).toEqual([':method', 'GET']);
    d.setMaxTableSize(8192);
    expect(d.decode(hex('82'))).toEqual([':method', 'GET']);
    d.decode(Buffer.from([...int(5, 0x20, 8192), ...addLiteral('k', 'v'.repeat(5000))]));
    expect(d.tableSize).toBe(5033);
    expectHpackError(() => d.decode(Buffer.from(int(5, 0x20, 8193))), 'compression', /exceeds the SETTINGS_HEADER_TABLE_SIZE bound 8192/);
  });

  it('after the required update a peer may signal any size up to the bound', () => {
    const d = createHpackDecoder();
    d.setMaxTableSize(1000);
    expect(d.decode(Buffer.from([...int(5, 0x20, 1000), ...addLiteral('a', 'b')]))).toEqual(['a', 'b']);
    expect(d.tableSize).toBe(34);
  });

  it('maxHeaderListSize: a larger list is fully processed (table updated) and then rejected', () => {
    const d = createHpackDecoder({ maxHeaderListSize: 100 });
    // exactly at the limit is fine: 2 fields of 50
    expect(d.decode(Buffer.from([0x00, ...raw('a'), ...raw('x'.repeat(17)), 0x00, ...raw('b'), ...raw('y'.repeat(17))]))).toHaveLength(4);
    const block = Buffer.from([
      ...addLiteral('first', 'v'.repeat(40)), // 77
      ...addLiteral('second', 'w'.repeat(40)), // 78 → 155 > 100
      ...addLiteral('third', ''),
    ]);
    expectHpackError(() => d.decode(block), 'header-list-too-large', /decoded header list size 192 exceeds the limit 100/);
    expect(dynamicTable(d)).toEqual([
      ['third', ''],
      ['second', 'w'.repeat(40)],
      ['first', 'v'.repeat(40)],
    ]);
    // the connection continues: the next block decodes against the updated table
    expect(d.decode(Buffer.from(int(7, 0x80, 64)))).toEqual(['first', 'v'.repeat(40)]);
  });

  it('maxHeaderListSize guards against amplification through repeated indexed references', () => {
    const d = createHpackDecoder({ maxTableSize: 4096, maxHeaderListSize: 16384 });
    d.decode(Buffer.from(addLiteral('k', 'v'.repeat(4000))));
    const block = Buffer.alloc(10_000, 0x80 | 62); // 10,000 × 4033 octets if materialised
    expectHpackError(() => d.decode(block), 'header-list-too-large', /exceeds the limit 16384/);
  });

  it('defaults: table 4096, header list 16384', () => {
    const d = createHpackDecoder();
    d.decode(Buffer.from(addLiteral('k', 'v'.repeat(4096 - 33))));
    expect(d.tableSize).toBe(4096);
    expectHpackError(() => d.decode(Buffer.from(int(5, 0x20, 4097))), 'compression', /bound 4096/);
    expect(d.decode(Buffer.from([0x00, ...raw('k'), ...raw('v'.repeat(16384 - 33))]))).toHaveLength(2);
    expectHpackError(
      () => d.decode(Buffer.from([0x00, ...raw('k'), ...raw('v'.repeat(16384 - 32))])),
      'header-list-too-large',
      /16385 exceeds the limit 16384/,
    );
  });

  it('accepts a Uint8Array view into a larger buffer', () => {
    const backing = new Uint8Array([0xff, 0xff, 0x82, 0x84, 0xff]);
    const d = createHpackDecoder();
    expect(d.decode(backing.subarray(2, 4))).toEqual([':method', 'GET', ':path', '/']);
  });
});

describe('decoder errors (COMPRESSION_ERROR)', () => {
  const cases: Array<[title: string, block: number[], message: RegExp]> = [
    ['indexed field with index 0', [0x80], /indexed header field with index 0/],
    ['index beyond the static table when the dynamic table is empty', int(7, 0x80, 62), /index 62 .* beyond the static \(61\) and dynamic \(0\) tables/],
    ['huge index', int(7, 0x80, 100000), /index 100000 .* beyond/],
    ['literal name index beyond the tables', [...int(6, 0x40, 62), ...raw('v')], /index 62 .* beyond/],
    ['never-indexed name index beyond the tables', [...int(4, 0x10, 70), ...raw('v')], /index 70 .* beyond/],
    ['integer above 2^31 - 1', [0xff, 0xff, 0xff, 0xff, 0xff, 0x0f], /integer \d+ at offset 0 exceeds the limit 2147483647/],
    ['integer with 6 continuation octets', [0xff, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00], /more than 5 continuation octets/],
    ['truncated integer', [0xff, 0x80], /truncated integer at offset 0/],
    ['truncated integer in a string length', [0x00, 0x7f], /truncated integer at offset 1/],
    ['string longer than the block', [0x00, 0x05, 0x61], /string literal \(name\) at offset 1 has length 5 but only 1 octets remain/],
    ['value string longer than the block', [0x00, ...raw('a'), 0x03, 0x61], /string literal \(value\) .* length 3 but only 1 octets remain/],
    ['block ends before the name', [0x00], /ends at offset 1 where a string literal \(name\) is expected/],
    ['block ends before the value', [0x40, ...raw('a')], /ends at offset 3 where a string literal \(value\) is expected/],
    ['size update after a field', [0x82, 0x20], /size update at offset 1 is not at the start of the header block/],
    ['size update above the bound', int(5, 0x20, 4097), /update to 4097 at offset 0 exceeds the SETTINGS_HEADER_TABLE_SIZE bound 4096/],
    ['Huffman string containing EOS', [0x00, 0x84, 0xff, 0xff, 0xff, 0xff, ...raw('v')], /string literal \(name\) at offset 1: .*EOS symbol/],
    ['Huffman padding longer than 7 bits', [0x00, ...raw('n'), 0x82, 0x1f, 0xff], /value\) at offset 3: .*11 bits of padding; at most 7/],
    ['Huffman padding of zeros', [0x00, ...raw('n'), 0x81, 0x18], /padding is not the most significant bits of EOS/],
  ];
  it.each(cases)('%s', (_title, block, message) => {
    expectHpackError(() => createHpackDecoder().decode(Buffer.from(block)), 'compression', message);
  });

  it('rejects invalid options and bounds with RangeError', () => {
    expect(() => createHpackDecoder({ maxTableSize: -1 })).toThrow(/options.maxTableSize must be an integer in 0..4294967295, got -1/);
    expect(() => createHpackDecoder({ maxHeaderListSize: 1.5 })).toThrow(RangeError);
    expect(() => createHpackDecoder().setMaxTableSize(Number.NaN)).toThrow(/setMaxTableSize\(bytes\) must be an integer/);
  });
});

describe('encodeHeaderBlock', () => {
  it('uses the indexed representation for exact static-table matches', () => {
    expect(encodeHeaderBlock([[':status', '200'], [':method', 'POST'], ['accept-encoding', 'gzip, deflate']])).toEqual(
      hex('88 83 90'),
    );
  });

  it('uses literal without indexing with an indexed name where the static table has the name', () => {
    // :status 503 → name index 8 (first :status), value "503" raw (Huffman would not be shorter)
    expect(encodeHeaderBlock([[':status', '503']])).toEqual(hex('08 03 353033'));
    // content-type (31) needs a 4-bit prefix continuation: 0f 10
    const block = encodeHeaderBlock([['content-type', 'application/grpc']]);
    expect([...block.subarray(0, 2)]).toEqual([0x0f, 0x10]);
    expect(pairs(createHpackDecoder().decode(block))).toEqual([['content-type', 'application/grpc']]);
  });

  it('uses literal without indexing with a new name otherwise', () => {
    const block = encodeHeaderBlock([['grpc-status', '0']]);
    expect(block[0]).toBe(0x00);
    expect(pairs(createHpackDecoder().decode(block))).toEqual([['grpc-status', '0']]);
  });

  it('Huffman-codes a string only when strictly shorter', () => {
    // 'aa' is 10 bits → 2 octets, same as raw: raw; 'aaa' is 15 bits → 2 octets < 3: Huffman
    expect(encodeHeaderBlock([['x', 'aa']])).toEqual(hex('00 01 78 02 6161'));
    const b = encodeHeaderBlock([['x', 'aaa']]);
    expect(b.subarray(0, 4)).toEqual(hex('00 01 78 82'));
    expect(pairs(createHpackDecoder().decode(b))).toEqual([['x', 'aaa']]);
    // the RFC's example strings come out exactly as in Appendix C.4/C.6
    expect(encodeHeaderBlock([[':authority', 'www.example.com']])).toEqual(hex('01 8c f1e3 c2e5 f23a 6ba0 ab90 f4ff'));
    expect(encodeHeaderBlock([['cache-control', 'private']])).toEqual(hex('0f 09 85 aec3 771a 4b'));
  });

  it('round-trips through the decoder without touching its dynamic table', () => {
    const latin1 = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
    const headers: Array<[string, string]> = [
      [':status', '200'],
      [':status', '418'],
      ['content-type', 'application/grpc+proto'],
      ['grpc-encoding', 'identity'],
      ['grpc-message', 'x'.repeat(300)],
      ['long-' + 'n'.repeat(200), 'v'.repeat(20_000)],
      ['empty', ''],
      ['binary-bin', latin1],
      ['dup', '1'],
      ['dup', '2'],
      ...staticTableEntries().map(([n, v]) => [n, v] as [string, string]),
      ...staticTableEntries().map(([n]) => [n, n + '-value'] as [string, string]),
    ];
    const d = createHpackDecoder({ maxHeaderListSize: 1 << 20 });
    expect(pairs(d.decode(encodeHeaderBlock(headers)))).toEqual(headers);
    expect(d.tableSize).toBe(0);
    expect(encodeHeaderBlock([])).toHaveLength(0);
  });

  it('encodes and decodes blocks larger than the reusable scratch buffers (64 KiB)', () => {
    const headers: Array<[string, string]> = [
      ['huge-raw', String.fromCharCode(...Array.from({ length: 100_000 }, (_, i) => 0x80 + (i % 128)))],
      ['huge-huffman', 'a'.repeat(120_000)],
      ['after', 'ok'],
    ];
    const block = encodeHeaderBlock(headers);
    const d = createHpackDecoder({ maxHeaderListSize: 1 << 20 });
    expect(pairs(d.decode(block))).toEqual(headers);
    // and small ones still work afterwards
    expect(pairs(d.decode(encodeHeaderBlock([['x', 'aaa']])))).toEqual([['x', 'aaa']]);
  });

  it('returns an independent buffer per call', () => {
    const a = encodeHeaderBlock([['a', '1']]);
    const b = encodeHeaderBlock([['b', '2']]);
    expect(pairs(createHpackDecoder().decode(a))).toEqual([['a', '1']]);
    expect(pairs(createHpackDecoder().decode(b))).toEqual([['b', '2']]);
  });

  it('rejects names that are empty or not lower case, and non-octet characters', () => {
    expect(() => encodeHeaderBlock([['', 'v']])).toThrow(/header name is empty/);
    expect(() => encodeHeaderBlock([['Content-Type', 'v']])).toThrow(/"Content-Type" has an upper-case character at position 0/);
    expect(() => encodeHeaderBlock([['x\u0100', 'v']])).toThrow(/non-octet character at position 1/);
    expect(() => encodeHeaderBlock([['x', 'caf\u00e9 \u20ac']])).toThrow(/value of header "x" has char code 8364 at position 5/);
  });
});
