/** A FIFO of received items with timed waits, so tests can assert on order and on silence. */
export class ResponseQueue<T> {
  private readonly items: T[] = [];
  private readonly waiters: Array<{ pred: (t: T) => boolean; resolve: (t: T) => void }> = [];
  /** Everything ever received, in order. */
  readonly history: T[] = [];

  push(item: T): void {
    this.history.push(item);
    const i = this.waiters.findIndex((w) => w.pred(item));
    if (i >= 0) {
      const [w] = this.waiters.splice(i, 1);
      w!.resolve(item);
      return;
    }
    this.items.push(item);
  }

  /** The next item matching `pred` (consumed), or a rejection naming `what` after `timeoutMs`. */
  next(pred: (t: T) => boolean = () => true, timeoutMs = 3000, what = 'response'): Promise<T> {
    const i = this.items.findIndex(pred);
    if (i >= 0) return Promise.resolve(this.items.splice(i, 1)[0]!);
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        pred,
        resolve: (t: T) => {
          clearTimeout(timer);
          resolve(t);
        },
      };
      const timer = setTimeout(() => {
        const k = this.waiters.indexOf(waiter);
        if (k >= 0) this.waiters.splice(k, 1);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Resolves if nothing matching `pred` arrives within `ms`; rejects with the item otherwise. */
  async none(pred: (t: T) => boolean = () => true, ms = 300): Promise<void> {
    const i = this.items.findIndex(pred);
    if (i >= 0) throw new Error(`unexpected item already queued: ${JSON.stringify(this.items[i], bigintSafe)}`);
    let got: T | undefined;
    await this.next(pred, ms).then(
      (t) => {
        got = t;
      },
      () => {},
    );
    if (got !== undefined) throw new Error(`unexpected item: ${JSON.stringify(got, bigintSafe)}`);
  }

  /** Items received and not yet consumed. */
  get queued(): readonly T[] {
    return this.items;
  }
}

function bigintSafe(_k: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  return v;
}
