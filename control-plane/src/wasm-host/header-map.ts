// An Envoy header map as the emulator keeps it: ordered entries, lower-case keys (Envoy's
// LowerCaseString on every add/replace/remove/get), repeated keys allowed; byteSize is the sum of
// key and value lengths (what proxy_get_header_map_size reports).
import { encodeUtf8 } from './bytes.js';
import type { HeaderPair } from './pairs.js';

export class HeaderMap {
  private entries: [string, string][];

  constructor(pairs: readonly HeaderPair[] = []) {
    this.entries = pairs.map(([k, v]) => [k.toLowerCase(), v]);
  }

  /** First value of `key`, or undefined. */
  get(key: string): string | undefined {
    const k = key.toLowerCase();
    for (const [ek, ev] of this.entries) if (ek === k) return ev;
    return undefined;
  }

  getAll(key: string): string[] {
    const k = key.toLowerCase();
    return this.entries.filter(([ek]) => ek === k).map(([, v]) => v);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** addCopy: appends another value. */
  add(key: string, value: string): void {
    this.entries.push([key.toLowerCase(), value]);
  }

  /** setCopy: the first entry takes the value, later duplicates go; appended when absent. */
  set(key: string, value: string): void {
    const k = key.toLowerCase();
    const first = this.entries.findIndex(([ek]) => ek === k);
    if (first < 0) {
      this.entries.push([k, value]);
      return;
    }
    this.entries[first] = [k, value];
    this.entries = this.entries.filter(([ek], i) => i <= first || ek !== k);
  }

  remove(key: string): void {
    const k = key.toLowerCase();
    this.entries = this.entries.filter(([ek]) => ek !== k);
  }

  /** Replaces every entry (proxy_set_header_map_pairs). */
  replaceAll(pairs: readonly HeaderPair[]): void {
    this.entries = pairs.map(([k, v]) => [k.toLowerCase(), v]);
  }

  get size(): number {
    return this.entries.length;
  }

  /** Sum of key and value lengths in bytes (Envoy's HeaderMap::byteSize). */
  byteSize(): number {
    let n = 0;
    for (const [k, v] of this.entries) n += encodeUtf8(k).length + encodeUtf8(v).length;
    return n;
  }

  pairs(): HeaderPair[] {
    return this.entries.map(([k, v]) => [k, v] as const);
  }

  clone(): HeaderMap {
    return new HeaderMap(this.entries);
  }

  /** Plain object view (first value per key) for assertions. */
  toObject(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of this.entries) if (!(k in out)) out[k] = v;
    return out;
  }
}
