/**
 * HPACK (RFC 7541) for meshward's compact HTTP/2 server.
 *
 * - The decoder keeps one dynamic table per connection (peer → us). It lives as long as the connection,
 *   and the server holds thousands of mostly idle connections, so its state is a handful of numbers plus
 *   a flat ring of strings `[name, value, name, value, ...]` that is only allocated on the first insert.
 * - The encoder never indexes: it uses the static table and literals "without indexing", so the peer's
 *   decoder table for our direction stays empty and we keep no encoder state at all.
 *
 * Names and values are strings of octets: each char code is one octet (latin1), so no byte is lost and
 * `string.length` is the octet count used for table sizes (RFC 7541 §4.1).
 */
import { HUFFMAN_CODE_TABLE, HUFFMAN_EOS, HUFFMAN_SYMBOL_COUNT } from './huffman-table.js';

/** A malformed header block (connection error COMPRESSION_ERROR) or, with kind 'header-list-too-large', a block
 *  whose decoded size (RFC 9113 §6.5.2: sum of name + value + 32 per field) exceeds the limit. */
export class HpackError extends Error {
  readonly kind: 'compression' | 'header-list-too-large';

  constructor(kind: 'compression' | 'header-list-too-large', message: string) {
    super(message);
    this.name = 'HpackError';
    this.kind = kind;
  }
}

export interface HpackDecoder {
  /** Decodes one COMPLETE header block (HEADERS + CONTINUATION payloads concatenated). Returns a flat
   *  array [name0, value0, name1, value1, ...] in wire order. Names are returned exactly as sent (HTTP/2
   *  requires lower case; the caller checks). Values are latin1/ASCII strings as octets (header values are
   *  octets; decode bytes with 'latin1' so no byte is lost). Updates the dynamic table. Throws HpackError.
   *  On 'header-list-too-large' the dynamic table is still updated (the block is fully processed) so the
   *  connection can continue with a stream error. After a 'compression' error the decoder state is
   *  undefined: the connection must be closed (RFC 9113 §4.3). */
  decode(block: Uint8Array): string[];
  /** Sets the upper bound for dynamic table size updates: call with the SETTINGS_HEADER_TABLE_SIZE we
   *  advertised once the peer has ACKed that SETTINGS. If the new bound is below the current table size,
   *  the next block MUST begin with a dynamic table size update ≤ the bound (RFC 7541 §4.2) else HpackError.
   *  "Current table size" is the maximum size in effect (the last size the encoder signalled, initially
   *  the constructor's maxTableSize), not just the octets in use: a peer whose maximum exceeds our new
   *  bound must re-signal it even if its table happens to be small. Entries beyond the new bound are
   *  evicted at once (the required update would evict them before any reference), so advertising
   *  SETTINGS_HEADER_TABLE_SIZE 0 frees an idle connection's table as soon as the ACK arrives.
   *  Throws RangeError for a bound that is not an integer in 0..2^32-1. */
  setMaxTableSize(bytes: number): void;
  /** Current dynamic table size in HPACK bytes (for tests and memory accounting). */
  readonly tableSize: number;
}

export interface HpackDecoderOptions {
  /** Initial bound (and initial maximum size) of the dynamic table in HPACK bytes. Defaults to 4096, the
   *  HTTP/2 default of SETTINGS_HEADER_TABLE_SIZE that the peer assumes until it ACKs our SETTINGS; to
   *  advertise another value keep this default and call setMaxTableSize() when the ACK arrives. */
  maxTableSize?: number;
  /** Largest accepted decoded header list (RFC 9113 §6.5.2: name + value + 32 octets per field).
   *  Defaults to 16384. A larger block is still fully decoded (the table stays in sync) and then
   *  rejected with kind 'header-list-too-large'. */
  maxHeaderListSize?: number;
}

const DEFAULT_MAX_TABLE_SIZE = 4096;
const DEFAULT_MAX_HEADER_LIST_SIZE = 16384;
/** RFC 7541 §4.1: every table entry costs its name and value octets plus 32. */
const ENTRY_OVERHEAD = 32;
/** Largest integer accepted on the wire: every HPACK integer (index, length, size) fits in 31 bits. */
const MAX_INTEGER = 0x7fffffff;
/** Continuation octets allowed after a full prefix: 5 × 7 bits covers 2^31 with any prefix width. */
const MAX_INTEGER_CONTINUATION_OCTETS = 5;
const MAX_SETTING = 0xffffffff;

// ---------------------------------------------------------------------------------------------------
// Static table (RFC 7541 Appendix A), transcribed from the RFC text. Index i (1-based) is at
// STATIC_TABLE[2 * (i - 1)] (name) and STATIC_TABLE[2 * (i - 1) + 1] (value).

const STATIC_TABLE: readonly string[] = [
  ':authority', '',
  ':method', 'GET',
  ':method', 'POST',
  ':path', '/',
  ':path', '/index.html',
  ':scheme', 'http',
  ':scheme', 'https',
  ':status', '200',
  ':status', '204',
  ':status', '206',
  ':status', '304',
  ':status', '400',
  ':status', '404',
  ':status', '500',
  'accept-charset', '',
  'accept-encoding', 'gzip, deflate',
  'accept-language', '',
  'accept-ranges', '',
  'accept', '',
  'access-control-allow-origin', '',
  'age', '',
  'allow', '',
  'authorization', '',
  'cache-control', '',
  'content-disposition', '',
  'content-encoding', '',
  'content-language', '',
  'content-length', '',
  'content-location', '',
  'content-range', '',
  'content-type', '',
  'cookie', '',
  'date', '',
  'etag', '',
  'expect', '',
  'expires', '',
  'from', '',
  'host', '',
  'if-match', '',
  'if-modified-since', '',
  'if-none-match', '',
  'if-range', '',
  'if-unmodified-since', '',
  'last-modified', '',
  'link', '',
  'location', '',
  'max-forwards', '',
  'proxy-authenticate', '',
  'proxy-authorization', '',
  'range', '',
  'referer', '',
  'refresh', '',
  'retry-after', '',
  'server', '',
  'set-cookie', '',
  'strict-transport-security', '',
  'transfer-encoding', '',
  'user-agent', '',
  'vary', '',
  'via', '',
  'www-authenticate', '',
];

/** Number of entries of the static table (61). */
export const STATIC_TABLE_LENGTH = STATIC_TABLE.length / 2;

/** Static-table name → lowest index with that name, and the index of each exact (name, value) entry. */
interface StaticNameEntry {
  readonly index: number;
  readonly values: Map<string, number>;
}
const STATIC_BY_NAME = new Map<string, StaticNameEntry>();
for (let i = 0; i < STATIC_TABLE_LENGTH; i++) {
  const name = STATIC_TABLE[2 * i]!;
  const value = STATIC_TABLE[2 * i + 1]!;
  let entry = STATIC_BY_NAME.get(name);
  if (entry === undefined) {
    entry = { index: i + 1, values: new Map() };
    STATIC_BY_NAME.set(name, entry);
  }
  if (!entry.values.has(value)) entry.values.set(value, i + 1);
}

/** The static table as [name, value] pairs, index 1 first (for tests and tooling; read-only). */
export function staticTableEntries(): ReadonlyArray<readonly [name: string, value: string]> {
  const out: Array<readonly [string, string]> = [];
  for (let i = 0; i < STATIC_TABLE_LENGTH; i++) out.push([STATIC_TABLE[2 * i]!, STATIC_TABLE[2 * i + 1]!]);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Huffman code tables, built once at module load from the RFC's code table.

/** Code of each symbol (LSB-aligned) and its length in bits. */
const HUFF_CODES = new Uint32Array(HUFFMAN_SYMBOL_COUNT);
const HUFF_LENGTHS = new Uint8Array(HUFFMAN_SYMBOL_COUNT);
/**
 * Binary decoding tree. Internal node n has children at DECODE_TREE[2n] (bit 0) and DECODE_TREE[2n + 1]
 * (bit 1): a value ≥ 0 is another internal node, a value < 0 is the leaf for symbol `-value - 1`. A
 * complete code over 257 symbols has exactly 256 internal nodes; node 0 is the root.
 */
const DECODE_TREE = new Int16Array(2 * (HUFFMAN_SYMBOL_COUNT - 1));
buildHuffmanTables();

function buildHuffmanTables(): void {
  if (HUFFMAN_CODE_TABLE.length !== 2 * HUFFMAN_SYMBOL_COUNT) {
    throw new Error(`huffman-table: expected ${HUFFMAN_SYMBOL_COUNT} rows, got ${HUFFMAN_CODE_TABLE.length / 2}`);
  }
  const UNSET = 0x7fff;
  DECODE_TREE.fill(UNSET);
  let nodes = 1;
  for (let sym = 0; sym < HUFFMAN_SYMBOL_COUNT; sym++) {
    const code = HUFFMAN_CODE_TABLE[2 * sym]!;
    const len = HUFFMAN_CODE_TABLE[2 * sym + 1]!;
    HUFF_CODES[sym] = code;
    HUFF_LENGTHS[sym] = len;
    let node = 0;
    for (let b = len - 1; b >= 0; b--) {
      const slot = 2 * node + ((code >>> b) & 1);
      const child = DECODE_TREE[slot]!;
      if (b === 0) {
        if (child !== UNSET) throw new Error(`huffman-table: code of symbol ${sym} is not prefix-free`);
        DECODE_TREE[slot] = -sym - 1;
      } else if (child === UNSET) {
        if (nodes >= HUFFMAN_SYMBOL_COUNT - 1) throw new Error('huffman-table: code is not a complete prefix code');
        DECODE_TREE[slot] = nodes;
        node = nodes++;
      } else if (child < 0) {
        throw new Error(`huffman-table: code of symbol ${sym} extends the code of symbol ${-child - 1}`);
      } else {
        node = child;
      }
    }
  }
  if (DECODE_TREE.includes(UNSET)) throw new Error('huffman-table: code is not complete');
}

/** Octets needed to Huffman-code the char codes (octets) of `s`. */
function huffmanLengthOfString(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += HUFF_LENGTHS[s.charCodeAt(i) & 0xff]!;
  return (bits + 7) >>> 3;
}

/**
 * Writes the Huffman code of the octets of `src` (char codes of a latin1 string, or bytes) into `out` from
 * `pos`; returns the new position. The last octet is padded with the most significant bits of EOS (all ones).
 */
function huffmanWrite(out: Uint8Array, pos: number, src: string | Uint8Array): number {
  const isString = typeof src === 'string';
  const len = src.length;
  let acc = 0; // pending bits, right-aligned; fewer than 8 between symbols
  let n = 0;
  for (let i = 0; i < len; i++) {
    const sym = isString ? (src as string).charCodeAt(i) & 0xff : (src as Uint8Array)[i]!;
    let code = HUFF_CODES[sym]!;
    let bits = HUFF_LENGTHS[sym]!;
    if (bits > 24) {
      // Keep acc within 31 bits: push the high part first (at most 6 bits) and flush, then the low 24.
      const high = bits - 24;
      acc = (acc << high) | (code >>> 24);
      n += high;
      if (n >= 8) {
        n -= 8;
        out[pos++] = (acc >>> n) & 0xff;
        acc &= (1 << n) - 1;
      }
      code &= 0xffffff;
      bits = 24;
    }
    acc = (acc << bits) | code;
    n += bits;
    while (n >= 8) {
      n -= 8;
      out[pos++] = (acc >>> n) & 0xff;
    }
    acc &= (1 << n) - 1;
  }
  if (n > 0) out[pos++] = ((acc << (8 - n)) | (0xff >>> n)) & 0xff;
  return pos;
}

/** Huffman-codes `bytes` (RFC 7541 §5.2), padding the last octet with the most significant bits of EOS. */
export function huffmanEncode(bytes: Uint8Array): Buffer {
  let bits = 0;
  for (let i = 0; i < bytes.length; i++) bits += HUFF_LENGTHS[bytes[i]!]!;
  const out = Buffer.allocUnsafe((bits + 7) >>> 3);
  huffmanWrite(out, 0, bytes);
  return out;
}

/** Scratch buffers are reused up to this size; larger one-off work gets its own allocation so that a single
 *  huge header block does not pin memory for the life of the process. */
const MAX_SCRATCH = 64 * 1024;

/** Scratch output of the Huffman decoder; decoding is synchronous, so one module-level buffer serves all. */
let huffmanScratch = Buffer.allocUnsafe(1024);
/** Where the last huffmanDecodeInto() wrote: huffmanScratch or a one-off buffer. */
let huffmanOut = huffmanScratch;

/**
 * Decodes `length` Huffman-coded octets of `src` from `start` into `huffmanOut` and returns the number of
 * decoded octets. Throws HpackError for an EOS symbol, padding longer than 7 bits or padding that is not
 * the most significant bits of EOS.
 */
function huffmanDecodeInto(src: Uint8Array, start: number, length: number): number {
  // Shortest code is 5 bits, so at most 8/5 output octets per input octet.
  const maxOut = Math.ceil((length * 8) / 5);
  if (maxOut > MAX_SCRATCH) {
    huffmanOut = Buffer.allocUnsafe(maxOut);
  } else {
    if (huffmanScratch.length < maxOut) huffmanScratch = Buffer.allocUnsafe(Math.min(MAX_SCRATCH, Math.max(maxOut, 2 * huffmanScratch.length)));
    huffmanOut = huffmanScratch;
  }
  const out = huffmanOut;
  let o = 0;
  let node = 0;
  let depth = 0; // bits consumed since the last complete symbol
  let ones = true; // those bits are all ones (a prefix of EOS)
  const end = start + length;
  for (let p = start; p < end; p++) {
    const byte = src[p]!;
    for (let b = 7; b >= 0; b--) {
      const bit = (byte >>> b) & 1;
      const next = DECODE_TREE[2 * node + bit]!;
      if (next < 0) {
        const sym = -next - 1;
        if (sym === HUFFMAN_EOS) {
          throw new HpackError('compression', 'Huffman-coded string contains the EOS symbol (RFC 7541 §5.2)');
        }
        out[o++] = sym;
        node = 0;
        depth = 0;
        ones = true;
      } else {
        node = next;
        depth++;
        if (bit === 0) ones = false;
      }
    }
  }
  if (depth > 7) {
    throw new HpackError('compression', `Huffman-coded string has ${depth} bits of padding; at most 7 are allowed (RFC 7541 §5.2)`);
  }
  if (!ones) {
    throw new HpackError('compression', 'Huffman-coded string padding is not the most significant bits of EOS (RFC 7541 §5.2)');
  }
  return o;
}

/** Decodes a Huffman-coded string (RFC 7541 §5.2). Throws HpackError on bad padding or an EOS symbol. */
export function huffmanDecode(bytes: Uint8Array): Buffer {
  const n = huffmanDecodeInto(bytes, 0, bytes.length);
  const result = Buffer.from(huffmanOut.subarray(0, n));
  huffmanOut = huffmanScratch;
  return result;
}

// ---------------------------------------------------------------------------------------------------
// Decoder

function compression(message: string): HpackError {
  return new HpackError('compression', message);
}

function checkSetting(what: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_SETTING) {
    throw new RangeError(`${what} must be an integer in 0..${MAX_SETTING}, got ${String(value)}`);
  }
}

class Decoder implements HpackDecoder {
  /** Bound from SETTINGS_HEADER_TABLE_SIZE (after ACK): no size update may exceed it. */
  private bound: number;
  /** Maximum size in effect: the last size update, initially the bound (RFC 7541 §4.2). */
  private capacity: number;
  private size = 0;
  /** The bound dropped below `capacity`: the next block must start with a size update. */
  private updateRequired = false;
  private readonly maxHeaderListSize: number;
  /**
   * Dynamic table as a ring of [name, value] string pairs: slot s holds its name at 2s and value at 2s+1.
   * `newest` is the slot of dynamic index 1; older entries are at lower slots, wrapping. Null until the
   * first insert so that a connection whose peer never indexes costs nothing here.
   */
  private ring: string[] | null = null;
  private newest = -1;
  private count = 0;
  /** Out-parameter of readInteger()/readString(): the offset after what they read. */
  private pos = 0;

  constructor(maxTableSize: number, maxHeaderListSize: number) {
    this.bound = maxTableSize;
    this.capacity = maxTableSize;
    this.maxHeaderListSize = maxHeaderListSize;
  }

  get tableSize(): number {
    return this.size;
  }

  setMaxTableSize(bytes: number): void {
    checkSetting('setMaxTableSize(bytes)', bytes);
    this.bound = bytes;
    if (bytes < this.capacity) {
      this.updateRequired = true;
      // The next block must open with an update ≤ bytes, which evicts down to it before anything can
      // reference the table, so evicting now is equivalent and frees the memory of idle connections
      // at once (advertising SETTINGS_HEADER_TABLE_SIZE 0 empties the table on the ACK).
      this.evictTo(bytes);
    }
  }

  decode(block: Uint8Array): string[] {
    const src = Buffer.isBuffer(block) ? block : Buffer.from(block.buffer, block.byteOffset, block.byteLength);
    const end = src.length;
    const headers: string[] = [];
    let listSize = 0;
    let tooLarge = false;
    let pos = 0;
    let atStart = true;

    if (this.updateRequired && (end === 0 || (src[0]! & 0xe0) !== 0x20)) {
      throw compression(
        `header block must begin with a dynamic table size update ≤ ${this.bound} ` +
          `(SETTINGS_HEADER_TABLE_SIZE was lowered below the current maximum ${this.capacity}; RFC 7541 §4.2)`,
      );
    }

    while (pos < end) {
      const first = src[pos]!;
      let name: string;
      let value: string;

      if (first & 0x80) {
        // Indexed header field (RFC 7541 §6.1).
        const index = this.readInteger(src, pos, 7);
        pos = this.pos;
        if (index === 0) throw compression(`indexed header field with index 0 at offset ${pos - 1} (RFC 7541 §6.1)`);
        name = this.nameAt(index, pos);
        value = this.valueAt(index);
        atStart = false;
      } else if ((first & 0xe0) === 0x20) {
        // Dynamic table size update (RFC 7541 §6.3).
        const at = pos;
        const newSize = this.readInteger(src, pos, 5);
        pos = this.pos;
        if (!atStart) {
          throw compression(`dynamic table size update at offset ${at} is not at the start of the header block (RFC 7541 §4.2)`);
        }
        if (newSize > this.bound) {
          throw compression(
            `dynamic table size update to ${newSize} at offset ${at} exceeds the SETTINGS_HEADER_TABLE_SIZE bound ${this.bound} (RFC 7541 §6.3)`,
          );
        }
        this.capacity = newSize;
        this.updateRequired = false;
        this.evictTo(newSize);
        continue;
      } else {
        // Literal header field: with incremental indexing (01), without indexing (0000), never indexed (0001).
        const incremental = (first & 0xc0) === 0x40;
        const index = this.readInteger(src, pos, incremental ? 6 : 4);
        pos = this.pos;
        if (index === 0) {
          name = this.readString(src, pos, 'name');
          pos = this.pos;
        } else {
          name = this.nameAt(index, pos);
        }
        value = this.readString(src, pos, 'value');
        pos = this.pos;
        if (incremental) this.insert(name, value);
        atStart = false;
      }

      listSize += name.length + value.length + ENTRY_OVERHEAD;
      if (listSize > this.maxHeaderListSize) {
        // Keep decoding to keep the table in sync, but stop retaining decoded strings.
        tooLarge = true;
      } else {
        headers.push(name, value);
      }
    }
    if (tooLarge) {
      throw new HpackError(
        'header-list-too-large',
        `decoded header list size ${listSize} exceeds the limit ${this.maxHeaderListSize} (name + value + 32 octets per field, RFC 9113 §6.5.2)`,
      );
    }
    return headers;
  }

  // --- primitives (RFC 7541 §5); each sets this.pos to the first octet after what it read ---

  private readInteger(src: Buffer, start: number, prefixBits: number): number {
    const mask = (1 << prefixBits) - 1;
    let value = src[start]! & mask;
    let pos = start + 1;
    if (value === mask) {
      let shift = 0;
      for (let k = 0; ; k++) {
        if (pos >= src.length) throw compression(`truncated integer at offset ${start} (RFC 7541 §5.1)`);
        if (k === MAX_INTEGER_CONTINUATION_OCTETS) {
          throw compression(
            `integer at offset ${start} has more than ${MAX_INTEGER_CONTINUATION_OCTETS} continuation octets (RFC 7541 §5.1)`,
          );
        }
        const b = src[pos++]!;
        value += (b & 0x7f) * 2 ** shift;
        shift += 7;
        if ((b & 0x80) === 0) break;
      }
      if (value > MAX_INTEGER) {
        throw compression(`integer ${value} at offset ${start} exceeds the limit ${MAX_INTEGER} (RFC 7541 §5.1)`);
      }
    }
    this.pos = pos;
    return value;
  }

  private readString(src: Buffer, start: number, what: 'name' | 'value'): string {
    if (start >= src.length) throw compression(`header block ends at offset ${start} where a string literal (${what}) is expected`);
    const huffman = (src[start]! & 0x80) !== 0;
    const length = this.readInteger(src, start, 7);
    const from = this.pos;
    if (length > src.length - from) {
      throw compression(
        `string literal (${what}) at offset ${start} has length ${length} but only ${src.length - from} octets remain in the header block`,
      );
    }
    this.pos = from + length;
    if (!huffman) return src.toString('latin1', from, from + length);
    let n: number;
    try {
      n = huffmanDecodeInto(src, from, length);
    } catch (err) {
      if (err instanceof HpackError) throw compression(`string literal (${what}) at offset ${start}: ${err.message}`);
      throw err;
    }
    const text = huffmanOut.toString('latin1', 0, n);
    huffmanOut = huffmanScratch; // drop a one-off buffer now rather than at the next call
    return text;
  }

  // --- table (RFC 7541 §2.3.3, §4) ---

  private checkIndex(index: number, at: number): void {
    if (index > STATIC_TABLE_LENGTH + this.count) {
      throw compression(
        `index ${index} before offset ${at} is beyond the static (${STATIC_TABLE_LENGTH}) and dynamic (${this.count}) tables (RFC 7541 §2.3.3)`,
      );
    }
  }

  private nameAt(index: number, at: number): string {
    this.checkIndex(index, at);
    if (index <= STATIC_TABLE_LENGTH) return STATIC_TABLE[2 * (index - 1)]!;
    return this.ring![2 * this.slotOf(index - STATIC_TABLE_LENGTH)]!;
  }

  /** Value of an index already checked by nameAt(). */
  private valueAt(index: number): string {
    if (index <= STATIC_TABLE_LENGTH) return STATIC_TABLE[2 * (index - 1) + 1]!;
    return this.ring![2 * this.slotOf(index - STATIC_TABLE_LENGTH) + 1]!;
  }

  /** Ring slot of dynamic index d (1 = newest). */
  private slotOf(d: number): number {
    const slots = this.ring!.length >>> 1;
    let s = this.newest - (d - 1);
    if (s < 0) s += slots;
    return s;
  }

  private insert(name: string, value: string): void {
    const entrySize = name.length + value.length + ENTRY_OVERHEAD;
    if (entrySize > this.capacity) {
      // RFC 7541 §4.4: an entry larger than the maximum empties the table and is not added.
      this.evictTo(0);
      return;
    }
    this.evictTo(this.capacity - entrySize);
    let ring = this.ring;
    if (ring === null) {
      ring = this.ring = ['', '', '', '', '', '', '', ''];
      this.newest = -1;
    } else if (this.count === ring.length >>> 1) {
      ring = this.grow(ring);
    }
    const slots = ring.length >>> 1;
    this.newest = this.newest + 1 === slots ? 0 : this.newest + 1;
    ring[2 * this.newest] = name;
    ring[2 * this.newest + 1] = value;
    this.count++;
    this.size += entrySize;
  }

  /** Doubles the ring, re-laying entries so the oldest is at slot 0 and the newest at count - 1. */
  private grow(ring: string[]): string[] {
    const grown: string[] = [];
    for (let d = this.count; d >= 1; d--) {
      const s = this.slotOf(d);
      grown.push(ring[2 * s]!, ring[2 * s + 1]!);
    }
    while (grown.length < 2 * ring.length) grown.push('');
    this.ring = grown;
    this.newest = this.count - 1;
    return grown;
  }

  /** Evicts oldest entries until the table size is ≤ limit (RFC 7541 §4.3, §4.4). */
  private evictTo(limit: number): void {
    const ring = this.ring;
    while (this.size > limit && ring !== null) {
      const s = this.slotOf(this.count);
      this.size -= ring[2 * s]!.length + ring[2 * s + 1]!.length + ENTRY_OVERHEAD;
      ring[2 * s] = '';
      ring[2 * s + 1] = '';
      this.count--;
    }
    if (this.count === 0 && ring !== null) {
      // Release the ring (an emptied table is rare: size updates, oversized entries); the next insert
      // starts small again.
      this.ring = null;
    }
  }
}

/**
 * Creates the decoder of one HTTP/2 connection's request headers (the peer's encoder context).
 * Throws RangeError for options that are not integers in 0..2^32-1.
 */
export function createHpackDecoder(options?: HpackDecoderOptions): HpackDecoder {
  const maxTableSize = options?.maxTableSize ?? DEFAULT_MAX_TABLE_SIZE;
  const maxHeaderListSize = options?.maxHeaderListSize ?? DEFAULT_MAX_HEADER_LIST_SIZE;
  checkSetting('createHpackDecoder options.maxTableSize', maxTableSize);
  checkSetting('createHpackDecoder options.maxHeaderListSize', maxHeaderListSize);
  return new Decoder(maxTableSize, maxHeaderListSize);
}

// ---------------------------------------------------------------------------------------------------
// Encoder

/** Writes `value` as an HPACK integer with a `prefixBits` prefix; `flags` are the bits above the prefix. */
function writeInteger(out: Uint8Array, pos: number, prefixBits: number, flags: number, value: number): number {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out[pos++] = flags | value;
    return pos;
  }
  out[pos++] = flags | max;
  value -= max;
  while (value >= 128) {
    out[pos++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[pos++] = value;
  return pos;
}

/** Writes a string literal, Huffman-coded when that is strictly shorter. */
function writeString(out: Uint8Array, pos: number, s: string): number {
  const huffLength = huffmanLengthOfString(s);
  if (huffLength < s.length) {
    pos = writeInteger(out, pos, 7, 0x80, huffLength);
    return huffmanWrite(out, pos, s);
  }
  pos = writeInteger(out, pos, 7, 0, s.length);
  for (let i = 0; i < s.length; i++) out[pos++] = s.charCodeAt(i);
  return pos;
}

function checkOctets(s: string, what: string): void {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) {
      throw new RangeError(`${what} has char code ${s.charCodeAt(i)} at position ${i}; header strings are octets (latin1)`);
    }
  }
}

function checkName(name: string): void {
  if (name.length === 0) throw new RangeError('header name is empty');
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if ((c >= 0x41 && c <= 0x5a) || c > 0xff) {
      throw new RangeError(`header name ${JSON.stringify(name)} has ${c > 0xff ? 'a non-octet' : 'an upper-case'} character at position ${i}; HTTP/2 names are lower-case octets`);
    }
  }
}

let encodeScratch = Buffer.allocUnsafe(4096);

/** Encodes a header list with no dynamic table (the encoder never indexes, so the peer's table stays empty):
 *  indexed representation for exact static-table matches, "literal without indexing" with an indexed name
 *  where the static table has the name, Huffman-coded strings when shorter. Names must be lower case.
 *  Throws RangeError for an empty or upper-case name or a char code above 0xff. The returned Buffer is
 *  freshly allocated (from Node's pool for small blocks); the caller owns it. */
export function encodeHeaderBlock(headers: ReadonlyArray<readonly [name: string, value: string]>): Buffer {
  // Worst case per field: 1 octet type + 5 octets index, then per string 5 octets length + raw octets.
  let bound = 0;
  for (const [name, value] of headers) bound += 16 + name.length + value.length;
  let out = encodeScratch;
  if (bound > MAX_SCRATCH) out = Buffer.allocUnsafe(bound);
  else if (out.length < bound) out = encodeScratch = Buffer.allocUnsafe(Math.min(MAX_SCRATCH, Math.max(bound, 2 * out.length)));
  let pos = 0;
  for (const [name, value] of headers) {
    checkName(name);
    checkOctets(value, `value of header ${JSON.stringify(name)}`);
    const entry = STATIC_BY_NAME.get(name);
    if (entry !== undefined) {
      const exact = entry.values.get(value);
      if (exact !== undefined) {
        pos = writeInteger(out, pos, 7, 0x80, exact);
        continue;
      }
      pos = writeInteger(out, pos, 4, 0x00, entry.index);
    } else {
      out[pos++] = 0x00;
      pos = writeString(out, pos, name);
    }
    pos = writeString(out, pos, value);
  }
  const result = Buffer.allocUnsafe(pos);
  out.copy(result, 0, 0, pos);
  return result;
}
