/**
 * A minimal, deterministic ustar writer: regular files only, in the order given, mode 0644,
 * uid/gid 0, empty owner names, one fixed mtime. Equal inputs give equal bytes, which makes OCI
 * layer digests reproducible. Names are limited to 100 bytes (no prefix field, no PAX headers).
 */

export interface TarEntry {
  readonly name: string;
  readonly data: Uint8Array;
}

const BLOCK = 512;

function writeString(buf: Uint8Array, offset: number, length: number, value: string): void {
  const bytes = new TextEncoder().encode(value);
  if (bytes.length > length) throw new Error(`tar: "${value}" is longer than ${length} bytes`);
  buf.set(bytes, offset);
}

/** An octal field of `length` bytes: digits zero-padded to length-1, then NUL. */
function writeOctal(buf: Uint8Array, offset: number, length: number, value: number): void {
  const s = value.toString(8).padStart(length - 1, '0');
  if (s.length > length - 1) throw new Error(`tar: ${value} does not fit in ${length - 1} octal digits`);
  writeString(buf, offset, length - 1, s);
}

function header(name: string, size: number, mtime: number): Uint8Array {
  const h = new Uint8Array(BLOCK);
  if (!/^[A-Za-z0-9._/-]+$/.test(name) || name.startsWith('/') || name.split('/').includes('..')) throw new Error(`tar: unsafe entry name "${name}"`);
  writeString(h, 0, 100, name);
  writeOctal(h, 100, 8, 0o644);
  writeOctal(h, 108, 8, 0);
  writeOctal(h, 116, 8, 0);
  writeOctal(h, 124, 12, size);
  writeOctal(h, 136, 12, mtime);
  h.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  h[156] = 0x30; // '0': regular file
  writeString(h, 257, 6, 'ustar'); // "ustar\0"
  writeString(h, 263, 2, '00');
  let sum = 0;
  for (const b of h) sum += b;
  writeString(h, 148, 7, sum.toString(8).padStart(6, '0') + '\0');
  h[155] = 0x20;
  return h;
}

/** The archive bytes: each entry's header and data padded to 512, then two zero blocks. */
export function createTar(entries: readonly TarEntry[], mtimeSeconds = 0): Uint8Array {
  const names = new Set<string>();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const e of entries) {
    if (names.has(e.name)) throw new Error(`tar: duplicate entry "${e.name}"`);
    names.add(e.name);
    const h = header(e.name, e.data.length, mtimeSeconds);
    const pad = (BLOCK - (e.data.length % BLOCK)) % BLOCK;
    parts.push(h, e.data, new Uint8Array(pad));
    total += BLOCK + e.data.length + pad;
  }
  parts.push(new Uint8Array(BLOCK * 2));
  total += BLOCK * 2;
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Reads a ustar archive written by {@link createTar} (or any plain ustar of regular files). */
export function readTar(bytes: Uint8Array): TarEntry[] {
  const out: TarEntry[] = [];
  const dec = new TextDecoder();
  let o = 0;
  while (o + BLOCK <= bytes.length) {
    const h = bytes.subarray(o, o + BLOCK);
    if (h.every((b) => b === 0)) break;
    const field = (start: number, len: number) => dec.decode(h.subarray(start, start + len)).replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (sum !== parseInt(field(148, 8).trim(), 8)) throw new Error(`tar: bad header checksum at offset ${o}`);
    out.push({ name: field(0, 100), data: bytes.slice(o + BLOCK, o + BLOCK + size) });
    o += BLOCK + size + ((BLOCK - (size % BLOCK)) % BLOCK);
  }
  return out;
}
