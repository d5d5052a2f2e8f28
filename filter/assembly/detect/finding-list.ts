/**
 * A reusable list of findings: (detector, start, end, aux) quadruples of i32 in one flat
 * StaticArray, byte offsets into the scanned buffer, `start` inclusive, `end` exclusive.
 *
 * Ownership: the caller creates one list (per root context / per stream) and passes it to
 * every scan; `reset()` empties it without freeing, so a warm list allocates nothing. It grows
 * by doubling when full. After `Scanner.scan` the findings are sorted by start and do not
 * overlap.
 */
@final export class FindingList {
  /** Number of findings. */
  count: i32 = 0;
  /** Flat storage, 4 i32 per finding: detector, start, end, aux. Read through the accessors. */
  data: StaticArray<i32>;

  constructor(initialCapacity: i32 = 64) {
    this.data = new StaticArray<i32>(max(initialCapacity, 4) << 2);
  }

  /** Empties the list, keeping its storage. */
  reset(): void {
    this.count = 0;
  }

  push(detector: i32, start: i32, end: i32, aux: i32): void {
    const n = this.count;
    if ((n + 1) << 2 > this.data.length) this.grow();
    const d = this.data;
    const o = n << 2;
    unchecked((d[o] = detector));
    unchecked((d[o + 1] = start));
    unchecked((d[o + 2] = end));
    unchecked((d[o + 3] = aux));
    this.count = n + 1;
  }

  private grow(): void {
    const old = this.data;
    const next = new StaticArray<i32>(old.length << 1);
    memory.copy(changetype<usize>(next), changetype<usize>(old), <usize>old.length << 2);
    this.data = next;
  }

  // @ts-ignore: decorator
  @inline detector(i: i32): i32 {
    return unchecked(this.data[i << 2]);
  }
  // @ts-ignore: decorator
  @inline start(i: i32): i32 {
    return unchecked(this.data[(i << 2) + 1]);
  }
  // @ts-ignore: decorator
  @inline end(i: i32): i32 {
    return unchecked(this.data[(i << 2) + 2]);
  }
  // @ts-ignore: decorator
  @inline aux(i: i32): i32 {
    return unchecked(this.data[(i << 2) + 3]);
  }

  /** Overwrites finding `i`. */
  set(i: i32, detector: i32, start: i32, end: i32, aux: i32): void {
    const o = i << 2;
    const d = this.data;
    unchecked((d[o] = detector));
    unchecked((d[o + 1] = start));
    unchecked((d[o + 2] = end));
    unchecked((d[o + 3] = aux));
  }

  /** Keeps only the first `n` findings. */
  truncate(n: i32): void {
    if (n < this.count) this.count = max(n, 0);
  }

  /** Address of the flat storage (valid until the next push that grows the list). */
  dataPtr(): usize {
    return changetype<usize>(this.data);
  }
}
