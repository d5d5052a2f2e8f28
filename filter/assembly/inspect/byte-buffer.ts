/**
 * A growable byte buffer in linear memory. Owned by whoever created it; reused across messages
 * (call {@link ByteBuffer.reset}) so a warm VM does not allocate per request.
 */
export class ByteBuffer {
  data: Uint8Array;
  length: i32 = 0;

  constructor(capacity: i32 = 256) {
    this.data = new Uint8Array(capacity < 16 ? 16 : capacity);
  }

  @inline get ptr(): usize {
    return this.data.dataStart;
  }

  reset(): void {
    this.length = 0;
  }

  /** Makes room for `extra` more bytes. */
  ensure(extra: i32): void {
    const need = this.length + extra;
    if (need <= this.data.length) return;
    // Double, or jump straight to the need (a presized body buffer is allocated once, exactly).
    let cap = this.data.length << 1;
    if (cap < need) cap = need;
    const next = new Uint8Array(cap);
    memory.copy(next.dataStart, this.data.dataStart, <usize>this.length);
    this.data = next;
  }

  /**
   * Releases the storage if it grew beyond `limit` bytes, so one huge message does not pin its
   * buffer for the VM's lifetime (the next message starts small again).
   */
  shrinkTo(limit: i32): void {
    if (this.data.length > limit) {
      this.data = new Uint8Array(1024);
      this.length = 0;
    }
  }

  @inline pushByte(b: u8): void {
    if (this.length >= this.data.length) this.ensure(1);
    store<u8>(this.data.dataStart + <usize>this.length, b);
    this.length++;
  }

  pushBytes(src: usize, n: i32): void {
    if (n <= 0) return;
    this.ensure(n);
    memory.copy(this.data.dataStart + <usize>this.length, src, <usize>n);
    this.length += n;
  }

  pushString(s: string): void {
    const n = String.UTF8.byteLength(s);
    this.ensure(n);
    String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, this.data.dataStart + <usize>this.length);
    this.length += n;
  }

  /** Appends `s` as the inside of a JSON string (quotes not included). */
  pushJsonEscaped(s: string): void {
    const bytes = String.UTF8.encode(s);
    this.pushJsonEscapedBytes(changetype<usize>(bytes), bytes.byteLength);
  }

  pushJsonEscapedBytes(src: usize, n: i32): void {
    for (let i = 0; i < n; i++) {
      const c = <i32>load<u8>(src + <usize>i);
      if (c == 0x22 || c == 0x5c) {
        this.pushByte(0x5c);
        this.pushByte(<u8>c);
      } else if (c < 0x20) {
        this.pushByte(0x5c);
        this.pushByte(0x75);
        this.pushByte(0x30);
        this.pushByte(0x30);
        this.pushByte(<u8>hexDigit(c >> 4));
        this.pushByte(<u8>hexDigit(c & 15));
      } else {
        this.pushByte(<u8>c);
      }
    }
  }

  pushInt(n: i64): void {
    this.pushString(n.toString());
  }

  /** Removes the first `n` bytes, moving the rest to the front. */
  consume(n: i32): void {
    if (n <= 0) return;
    if (n >= this.length) {
      this.length = 0;
      return;
    }
    memory.copy(this.data.dataStart, this.data.dataStart + <usize>n, <usize>(this.length - n));
    this.length -= n;
  }

  toBytes(): Uint8Array {
    return this.data.slice(0, this.length);
  }

  toString(): string {
    return String.UTF8.decodeUnsafe(this.data.dataStart, <usize>this.length);
  }
}

@inline export function hexDigit(n: i32): i32 {
  return n < 10 ? 0x30 + n : 0x61 + n - 10;
}
