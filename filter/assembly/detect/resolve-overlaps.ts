import { FindingList } from "./finding-list";
import { detectorPriority } from "./detector-ids";

/**
 * Sorts `list` by start (then longer first) and merges overlapping findings so that redaction
 * can replace every span independently.
 *
 * Rule: findings that overlap, directly or through a chain, form one cluster; the cluster
 * becomes one finding whose span is the union of the cluster (so no byte of any overlapping
 * value is left unredacted) and whose detector and aux are those of the cluster member with the
 * highest priority (detector-ids.ts: private_key > jwt > the token detectors > custom keywords >
 * email > credit_card > iban > us_ssn > ip_address > phone > prompt_injection), ties broken by
 * the longer span, then the earlier start. Touching spans (a.end == b.start) do not overlap.
 * `scratch` is a caller-owned list reused as merge-sort buffer.
 */
export function resolveOverlaps(list: FindingList, scratch: FindingList): void {
  const n = list.count;
  if (n <= 1) return;
  sortByStart(list, scratch);
  let w = 0;
  let i = 0;
  while (i < n) {
    let best = i;
    const cs = list.start(i);
    let ce = list.end(i);
    let j = i + 1;
    while (j < n && list.start(j) < ce) {
      if (list.end(j) > ce) ce = list.end(j);
      if (better(list, j, best)) best = j;
      j++;
    }
    const d = list.detector(best);
    const a = list.aux(best);
    list.set(w, d, cs, ce, a);
    w++;
    i = j;
  }
  list.truncate(w);
}

// @ts-ignore: decorator
@inline function better(l: FindingList, j: i32, b: i32): bool {
  const pj = detectorPriority(l.detector(j));
  const pb = detectorPriority(l.detector(b));
  if (pj != pb) return pj > pb;
  return l.end(j) - l.start(j) > l.end(b) - l.start(b);
}

// @ts-ignore: decorator
@inline function before(d: StaticArray<i32>, a: i32, b: i32): bool {
  // a, b are quad offsets
  const sa = unchecked(d[a + 1]);
  const sb = unchecked(d[b + 1]);
  if (sa != sb) return sa < sb;
  return unchecked(d[a + 2]) > unchecked(d[b + 2]);
}

/** Stable sort of the quads by (start asc, end desc): insertion sort when nearly sorted, else merge sort. */
function sortByStart(list: FindingList, scratch: FindingList): void {
  const n = list.count;
  let d = list.data;
  // count inversions between neighbours to pick the algorithm
  let unsorted = 0;
  for (let i = 1; i < n; i++) if (before(d, i << 2, (i - 1) << 2)) unsorted++;
  if (unsorted == 0) return;
  if (unsorted <= 8 || n <= 32) {
    for (let i = 1; i < n; i++) {
      const o = i << 2;
      const k0 = unchecked(d[o]);
      const k1 = unchecked(d[o + 1]);
      const k2 = unchecked(d[o + 2]);
      const k3 = unchecked(d[o + 3]);
      let j = i - 1;
      while (j >= 0) {
        const jo = j << 2;
        const s = unchecked(d[jo + 1]);
        if (s < k1 || (s == k1 && unchecked(d[jo + 2]) >= k2)) break;
        unchecked((d[jo + 4] = d[jo]));
        unchecked((d[jo + 5] = d[jo + 1]));
        unchecked((d[jo + 6] = d[jo + 2]));
        unchecked((d[jo + 7] = d[jo + 3]));
        j--;
      }
      const wo = (j + 1) << 2;
      unchecked((d[wo] = k0));
      unchecked((d[wo + 1] = k1));
      unchecked((d[wo + 2] = k2));
      unchecked((d[wo + 3] = k3));
    }
    return;
  }
  // bottom-up merge sort through scratch
  scratch.reset();
  while (scratch.data.length < d.length) scratch.push(0, 0, 0, 0);
  let src = d;
  let dst = scratch.data;
  for (let width = 1; width < n; width <<= 1) {
    for (let lo = 0; lo < n; lo += width << 1) {
      const mid = min(lo + width, n);
      const hi = min(lo + (width << 1), n);
      let a = lo;
      let b = mid;
      let k = lo;
      while (k < hi) {
        let take: i32;
        if (a < mid && (b >= hi || !before(src, b << 2, a << 2))) take = a++;
        else take = b++;
        const so = take << 2;
        const dk = k << 2;
        unchecked((dst[dk] = src[so]));
        unchecked((dst[dk + 1] = src[so + 1]));
        unchecked((dst[dk + 2] = src[so + 2]));
        unchecked((dst[dk + 3] = src[so + 3]));
        k++;
      }
    }
    const t = src;
    src = dst;
    dst = t;
  }
  if (src != d) memory.copy(changetype<usize>(d), changetype<usize>(src), <usize>n << 4);
  scratch.reset();
}
