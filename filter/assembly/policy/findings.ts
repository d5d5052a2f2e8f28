/**
 * Findings of one inspected message: which detector matched which byte range of the scanned text.
 * Detector numbers are the config's indices (built-ins, anomaly signals, then custom detectors).
 * Anomaly findings that have no text range use start = end = -1.
 */
export class Findings {
  detector: Array<i32> = [];
  start: Array<i32> = [];
  end: Array<i32> = [];

  get count(): i32 {
    return this.detector.length;
  }

  reset(): void {
    this.detector.length = 0;
    this.start.length = 0;
    this.end.length = 0;
  }

  add(detector: i32, start: i32, end: i32): void {
    this.detector.push(detector);
    this.start.push(start);
    this.end.push(end);
  }

  /** Sorts by start offset (insertion sort: finding lists are short and mostly sorted already). */
  sortByStart(): void {
    const n = this.detector.length;
    for (let i = 1; i < n; i++) {
      const d = unchecked(this.detector[i]);
      const s = unchecked(this.start[i]);
      const e = unchecked(this.end[i]);
      let j = i - 1;
      while (j >= 0 && unchecked(this.start[j]) > s) {
        unchecked(this.detector[j + 1] = this.detector[j]);
        unchecked(this.start[j + 1] = this.start[j]);
        unchecked(this.end[j + 1] = this.end[j]);
        j--;
      }
      unchecked(this.detector[j + 1] = d);
      unchecked(this.start[j + 1] = s);
      unchecked(this.end[j + 1] = e);
    }
  }

  /** Keeps only findings [0, n) (after filtering in place). */
  truncate(n: i32): void {
    this.detector.length = n;
    this.start.length = n;
    this.end.length = n;
  }
}
