// State Envoy shares between the worker VMs of one plugin: shared data and shared queues (keyed by
// vm_id, proxy-wasm-cpp-host shared_data.cc / shared_queue.cc) and stats (Envoy's stats scope,
// keyed by metric name). Metric ids are per VM; values are per name.
import { WasmResult, type WasmResultCode } from './abi-types.js';

export interface SharedDataEntry {
  readonly value: Uint8Array;
  readonly cas: number;
}

/** proxy_get/set_shared_data semantics, per vm_id. */
export class SharedDataStore {
  private readonly byVm = new Map<string, Map<string, SharedDataEntry>>();
  private casCounter = 0;

  private nextCas(): number {
    this.casCounter = (this.casCounter + 1) >>> 0;
    if (this.casCounter === 0) this.casCounter = 1;
    return this.casCounter;
  }

  get(vmId: string, key: string): SharedDataEntry | undefined {
    return this.byVm.get(vmId)?.get(key);
  }

  /** Non-zero CAS must match the current one; a missing key is created whatever the CAS. */
  set(vmId: string, key: string, value: Uint8Array, cas: number): WasmResultCode {
    let map = this.byVm.get(vmId);
    if (!map) {
      map = new Map();
      this.byVm.set(vmId, map);
    }
    const existing = map.get(key);
    if (existing && cas !== 0 && cas !== existing.cas) return WasmResult.CasMismatch;
    map.set(key, { value: value.slice(), cas: this.nextCas() });
    return WasmResult.Ok;
  }

  keys(vmId: string): string[] {
    return [...(this.byVm.get(vmId)?.keys() ?? [])];
  }
}

export interface QueueOwner {
  /** Called (deferred) when an item is enqueued; Envoy posts it to the owner VM's thread. */
  notify(token: number): void;
}

interface Queue {
  readonly items: Uint8Array[];
  owner: QueueOwner;
}

/** proxy_register/resolve/enqueue/dequeue_shared_queue semantics. */
export class SharedQueueStore {
  private readonly tokens = new Map<string, number>();
  private readonly queues = new Map<number, Queue>();
  private nextToken = 1;

  /** Registers or reopens (vmId, name); the latest registrant receives on_queue_ready. */
  register(vmId: string, name: string, owner: QueueOwner): number {
    const key = `${vmId}\u0000${name}`;
    let token = this.tokens.get(key);
    if (token === undefined) {
      token = this.nextToken++;
      this.tokens.set(key, token);
      this.queues.set(token, { items: [], owner });
    } else {
      this.queues.get(token)!.owner = owner;
    }
    return token;
  }

  resolve(vmId: string, name: string): number | undefined {
    return this.tokens.get(`${vmId}\u0000${name}`);
  }

  enqueue(token: number, value: Uint8Array): WasmResultCode {
    const q = this.queues.get(token);
    if (!q) return WasmResult.NotFound;
    q.items.push(value.slice());
    q.owner.notify(token);
    return WasmResult.Ok;
  }

  dequeue(token: number): { status: WasmResultCode; value?: Uint8Array } {
    const q = this.queues.get(token);
    if (!q) return { status: WasmResult.NotFound };
    const value = q.items.shift();
    if (value === undefined) return { status: WasmResult.Empty };
    return { status: WasmResult.Ok, value };
  }
}

export type MetricKind = 'counter' | 'gauge' | 'histogram';

export interface MetricSnapshot {
  readonly name: string;
  readonly kind: MetricKind;
  /** Counter and gauge value. */
  readonly value: bigint;
  /** Histogram samples in recording order. */
  readonly samples: readonly bigint[];
}

interface MetricCell {
  kind: MetricKind;
  value: bigint;
  samples: bigint[];
}

/** Envoy stats by name (one scope per plugin); a name has one kind. */
export class MetricStore {
  private readonly cells = new Map<string, MetricCell>();

  cell(name: string, kind: MetricKind): MetricCell {
    let c = this.cells.get(`${kind}:${name}`);
    if (!c) {
      c = { kind, value: 0n, samples: [] };
      this.cells.set(`${kind}:${name}`, c);
    }
    return c;
  }

  find(name: string): MetricSnapshot | undefined {
    for (const kind of ['counter', 'gauge', 'histogram'] as const) {
      const c = this.cells.get(`${kind}:${name}`);
      if (c) return { name, kind, value: c.value, samples: [...c.samples] };
    }
    return undefined;
  }

  all(): MetricSnapshot[] {
    return [...this.cells.entries()].map(([key, c]) => ({
      name: key.slice(key.indexOf(':') + 1),
      kind: c.kind,
      value: c.value,
      samples: [...c.samples],
    }));
  }
}
