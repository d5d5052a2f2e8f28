/**
 * Builds and instantiates the budget harness (test/fixtures/budget-harness/assembly/budget-harness.ts) for the budget unit tests. Several
 * instances may share one {@link SharedStore}: each is a separate module instance with its own
 * memory, like Envoy's worker VMs sharing shared data (non-zero CAS must match, else CasMismatch).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..', '..', '..');

const OK = 0;
const NOT_FOUND = 1;
const CAS_MISMATCH = 8;

export interface SharedStore {
  readonly values: Map<string, { value: Uint8Array; cas: number }>;
  /** Called before every set (tests use it to interleave writers). */
  beforeSet?: (key: string) => void;
  /** The host clock (ns) every instance reads (proxy_get_current_time_nanoseconds). */
  nowNs: bigint;
}

export function createSharedStore(): SharedStore {
  return { values: new Map(), nowNs: 0n };
}

interface Exports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  proxy_on_memory_allocate(n: number): number;
  inputPtr(n: number): number;
  outPtr(): number;
  outLen(): number;
  setSlot(slot: number, len: number): void;
  configure(len: number): number;
  estimate(len: number): bigint;
  factMaxTokens(): bigint;
  factMaxField(): number;
  factStream(): number;
  factIncludeUsage(): number;
  factMessages(): bigint;
  responseText(len: number): bigint;
  responsePrompt(): bigint;
  responseCompletion(): bigint;
  responseCached(): bigint;
  planSelect(now: bigint): number;
  planAdmit(prompt: bigint, maxOut: bigint, streaming: number, canClamp: number, now: bigint): number;
  planClampedTo(): bigint;
  planRetryAfter(): bigint;
  planMinRemaining(): bigint;
  planOutput(): bigint;
  planCharged(i: number): bigint;
  planChargeOutput(total: bigint, enforce: number): number;
  planSettle(p: bigint, c: bigint, o: bigint): void;
  planRefund(): void;
  streamStart(enforce: number, includeUsage: number): void;
  streamPush(len: number, end: number): number;
  accessCheck(): number;
  modelsFilter(len: number): number;
  sha(len: number): void;
  ledgerRelease(window: bigint, now: bigint, idle: bigint, until: bigint): number;
  ledgerReleased(): bigint;
  ledgerRead(window: bigint): void;
  ledgerSpent(): bigint;
  ledgerGranted(): bigint;
  ledgerGrant(window: bigint, granted: bigint, releaseAnswered: number): void;
  ledgerCharge(window: bigint, amount: bigint, requireRoom: number): number;
  ledgerClaim(window: bigint, now: bigint, until: bigint): number;
}

export const RELEASE_NONE = 0;
export const RELEASE_LATER = 1;
export const RELEASE_DONE = 2;

/** Direct access to the lease-mode ledger of one counter (shared-data key in slot 0). */
export interface LedgerHarness {
  release(key: string, window: bigint, nowNs: bigint, idleNs: bigint, untilNs: bigint): { result: number; released: number };
  read(key: string, window: bigint): { spent: number; granted: number };
  grant(key: string, window: bigint, granted: number, releaseAnswered?: boolean): void;
  /** Lease-mode charge (requireRoom): 0 ok, 1 insufficient, 2 unavailable. */
  charge(key: string, window: bigint, amount: number, requireRoom?: boolean): number;
  claim(key: string, window: bigint, nowNs: bigint, untilNs: bigint): boolean;
}

export const ADMIT = 0;
export const ADMIT_CLAMPED = 1;
export const REJECT = 2;
export const NEED_LEASE = 3;

export interface BudgetHarness {
  configure(config: unknown): string | undefined;
  estimate(body: string): { prompt: number; model: string; maxTokens: number; maxField: number; stream: boolean; includeUsage: boolean; messages: number };
  response(body: string): { text: number; prompt: number; completion: number; cached: number };
  select(identity: string, model: string, route: string, nowNs: bigint): number;
  admit(prompt: number, maxOut: number, streaming: boolean, canClamp: boolean, nowNs: bigint): number;
  clampedTo(): number;
  retryAfter(): number;
  minRemaining(): number;
  output(): number;
  charged(i: number): number;
  chargeOutput(total: number, enforce: boolean): boolean;
  settle(prompt: number, cached: number, output: number): void;
  refund(): void;
  streamStart(enforce: boolean, includeUsage: boolean): void;
  streamPush(chunk: string, end: boolean): { out: string; cut: boolean };
  access(identity: string, model: string): number;
  modelsFilter(identity: string, body: string): { removed: number; out: string };
  sha256(data: string): string;
  ledger: LedgerHarness;
}

let built: string | undefined;

/** Compiles the harness once per test file (distinct name per file: files run in parallel). */
export function buildBudgetHarness(name: string): string {
  const outFile = join(here, 'build', `${name}.wasm`);
  mkdirSync(dirname(outFile), { recursive: true });
  execFileSync(
    process.execPath,
    [
      join(repoRoot, 'node_modules', 'assemblyscript', 'bin', 'asc.js'),
      join(repoRoot, 'test', 'fixtures', 'budget-harness', 'assembly', 'budget-harness.ts'),
      '--outFile', outFile, '-O3', '--enable', 'simd', '--runtime', 'incremental',
      '--use', 'abort=test/fixtures/budget-harness/assembly/budget-harness/harnessAbort', '--exportStart', '_initialize',
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  built = outFile;
  return outFile;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export async function loadBudgetHarness(store: SharedStore = createSharedStore(), wasmPath = built): Promise<BudgetHarness> {
  if (wasmPath === undefined) throw new Error('build the harness first');
  let x!: Exports;
  const mem = (): DataView => new DataView(x.memory.buffer);
  const bytesAt = (p: number, n: number): Uint8Array => new Uint8Array(x.memory.buffer, p, n);
  const imports = {
    env: {
      proxy_get_shared_data(kp: number, kl: number, vpOut: number, vsOut: number, casOut: number): number {
        const key = dec.decode(bytesAt(kp, kl));
        const e = store.values.get(key);
        if (e === undefined) return NOT_FOUND;
        const p = e.value.length === 0 ? 0 : x.proxy_on_memory_allocate(e.value.length);
        if (p !== 0) bytesAt(p, e.value.length).set(e.value);
        mem().setUint32(vpOut, p, true);
        mem().setUint32(vsOut, e.value.length, true);
        mem().setUint32(casOut, e.cas, true);
        return OK;
      },
      proxy_set_shared_data(kp: number, kl: number, vp: number, vl: number, cas: number): number {
        const key = dec.decode(bytesAt(kp, kl));
        const value = bytesAt(vp, vl).slice();
        store.beforeSet?.(key);
        const e = store.values.get(key);
        if (e !== undefined && cas !== 0 && cas !== e.cas) return CAS_MISMATCH;
        store.values.set(key, { value, cas: (e?.cas ?? 0) + 1 });
        return OK;
      },
      proxy_get_current_time_nanoseconds(out: number): number {
        mem().setBigUint64(out, store.nowNs, true);
        return OK;
      },
    },
  };
  const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(wasmPath)), imports);
  x = instance.exports as unknown as Exports;
  x._initialize();
  const put = (s: string | Uint8Array): number => {
    const b = typeof s === 'string' ? enc.encode(s) : s;
    const p = x.inputPtr(b.length);
    bytesAt(p, b.length).set(b);
    return b.length;
  };
  const outText = (): string => dec.decode(bytesAt(x.outPtr(), x.outLen()));
  const slot = (i: number, s: string): void => x.setSlot(i, put(s));
  return {
    configure(config) {
      return x.configure(put(JSON.stringify(config))) === 0 ? undefined : outText();
    },
    estimate(body) {
      const prompt = Number(x.estimate(put(body)));
      return {
        prompt, model: outText(), maxTokens: Number(x.factMaxTokens()), maxField: x.factMaxField(),
        stream: x.factStream() === 1, includeUsage: x.factIncludeUsage() === 1, messages: Number(x.factMessages()),
      };
    },
    response(body) {
      const text = Number(x.responseText(put(body)));
      return { text, prompt: Number(x.responsePrompt()), completion: Number(x.responseCompletion()), cached: Number(x.responseCached()) };
    },
    select(identity, model, route, nowNs) {
      slot(0, identity);
      slot(1, model);
      slot(2, route);
      return x.planSelect(nowNs);
    },
    admit: (prompt, maxOut, streaming, canClamp, nowNs) => x.planAdmit(BigInt(prompt), BigInt(maxOut), streaming ? 1 : 0, canClamp ? 1 : 0, nowNs),
    clampedTo: () => Number(x.planClampedTo()),
    retryAfter: () => Number(x.planRetryAfter()),
    minRemaining: () => Number(x.planMinRemaining()),
    output: () => Number(x.planOutput()),
    charged: (i) => Number(x.planCharged(i)),
    chargeOutput: (total, enforce) => x.planChargeOutput(BigInt(total), enforce ? 1 : 0) === 1,
    settle: (p, c, o) => x.planSettle(BigInt(p), BigInt(c), BigInt(o)),
    refund: () => x.planRefund(),
    streamStart: (enforce, includeUsage) => x.streamStart(enforce ? 1 : 0, includeUsage ? 1 : 0),
    streamPush(chunk, end) {
      const cut = x.streamPush(put(chunk), end ? 1 : 0) === 1;
      return { out: outText(), cut };
    },
    access(identity, model) {
      slot(0, identity);
      slot(1, model);
      return x.accessCheck();
    },
    modelsFilter(identity, body) {
      slot(0, identity);
      const removed = x.modelsFilter(put(body));
      return { removed, out: outText() };
    },
    sha256(data) {
      x.sha(put(data));
      return Buffer.from(bytesAt(x.outPtr(), 32)).toString('hex');
    },
    ledger: {
      release(key, window, nowNs, idleNs, untilNs) {
        slot(0, key);
        const result = x.ledgerRelease(window, nowNs, idleNs, untilNs);
        return { result, released: Number(x.ledgerReleased()) };
      },
      read(key, window) {
        slot(0, key);
        x.ledgerRead(window);
        return { spent: Number(x.ledgerSpent()), granted: Number(x.ledgerGranted()) };
      },
      grant(key, window, granted, releaseAnswered = false) {
        slot(0, key);
        x.ledgerGrant(window, BigInt(granted), releaseAnswered ? 1 : 0);
      },
      charge(key, window, amount, requireRoom = true) {
        slot(0, key);
        return x.ledgerCharge(window, BigInt(amount), requireRoom ? 1 : 0);
      },
      claim(key, window, nowNs, untilNs) {
        slot(0, key);
        return x.ledgerClaim(window, nowNs, untilNs) === 1;
      },
    },
  };
}
