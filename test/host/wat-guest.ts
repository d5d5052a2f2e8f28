// Builds small hand-written WAT guests for the emulator's own tests (compiled with the wabt npm
// package). A guest gets every proxy_* import as $name (e.g. $proxy_log), one linear memory, a bump
// allocator exported as proxy_on_memory_allocate (it counts calls at ALLOC_COUNT_ADDR), the ABI
// marker, and the callbacks the test writes in WAT.
import wabtInit from 'wabt';

/** Where the allocator counts its calls (i32). */
export const ALLOC_COUNT_ADDR = 8;
/** Scratch area the tests use for out-parameters: 64..127. */
export const OUT = 64;
/** Results area: i32 slots from 1024 (slot n at 1024 + 4n). */
export const RESULTS = 1024;
/** First byte the allocator hands out. */
export const HEAP_START = 32768;

const IMPORTS: Record<string, string> = {
  proxy_log: '(param i32 i32 i32) (result i32)',
  proxy_get_log_level: '(param i32) (result i32)',
  proxy_get_current_time_nanoseconds: '(param i32) (result i32)',
  proxy_set_tick_period_milliseconds: '(param i32) (result i32)',
  proxy_get_property: '(param i32 i32 i32 i32) (result i32)',
  proxy_set_property: '(param i32 i32 i32 i32) (result i32)',
  proxy_get_buffer_bytes: '(param i32 i32 i32 i32 i32) (result i32)',
  proxy_get_buffer_status: '(param i32 i32 i32) (result i32)',
  proxy_set_buffer_bytes: '(param i32 i32 i32 i32 i32) (result i32)',
  proxy_get_header_map_pairs: '(param i32 i32 i32) (result i32)',
  proxy_set_header_map_pairs: '(param i32 i32 i32) (result i32)',
  proxy_get_header_map_value: '(param i32 i32 i32 i32 i32) (result i32)',
  proxy_add_header_map_value: '(param i32 i32 i32 i32 i32) (result i32)',
  proxy_replace_header_map_value: '(param i32 i32 i32 i32 i32) (result i32)',
  proxy_remove_header_map_value: '(param i32 i32 i32) (result i32)',
  proxy_get_header_map_size: '(param i32 i32) (result i32)',
  proxy_send_local_response: '(param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)',
  proxy_continue_stream: '(param i32) (result i32)',
  proxy_close_stream: '(param i32) (result i32)',
  proxy_get_shared_data: '(param i32 i32 i32 i32 i32) (result i32)',
  proxy_set_shared_data: '(param i32 i32 i32 i32 i32) (result i32)',
  proxy_register_shared_queue: '(param i32 i32 i32) (result i32)',
  proxy_resolve_shared_queue: '(param i32 i32 i32 i32 i32) (result i32)',
  proxy_enqueue_shared_queue: '(param i32 i32 i32) (result i32)',
  proxy_dequeue_shared_queue: '(param i32 i32 i32) (result i32)',
  proxy_define_metric: '(param i32 i32 i32 i32) (result i32)',
  proxy_increment_metric: '(param i32 i64) (result i32)',
  proxy_record_metric: '(param i32 i64) (result i32)',
  proxy_get_metric: '(param i32 i32) (result i32)',
  proxy_http_call: '(param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)',
  proxy_set_effective_context: '(param i32) (result i32)',
  proxy_done: '(result i32)',
  proxy_call_foreign_function: '(param i32 i32 i32 i32 i32 i32) (result i32)',
  proxy_get_status: '(param i32 i32 i32) (result i32)',
};

const CALLBACKS = {
  proxy_on_context_create: '(param $ctx i32) (param $parent i32)',
  proxy_on_vm_start: '(param $ctx i32) (param $size i32) (result i32)',
  proxy_on_configure: '(param $ctx i32) (param $size i32) (result i32)',
  proxy_on_tick: '(param $ctx i32)',
  proxy_on_queue_ready: '(param $ctx i32) (param $queue i32)',
  proxy_on_http_call_response: '(param $ctx i32) (param $token i32) (param $headers i32) (param $body i32) (param $trailers i32)',
  proxy_on_request_headers: '(param $ctx i32) (param $n i32) (param $eos i32) (result i32)',
  proxy_on_request_body: '(param $ctx i32) (param $size i32) (param $eos i32) (result i32)',
  proxy_on_request_trailers: '(param $ctx i32) (param $n i32) (result i32)',
  proxy_on_response_headers: '(param $ctx i32) (param $n i32) (param $eos i32) (result i32)',
  proxy_on_response_body: '(param $ctx i32) (param $size i32) (param $eos i32) (result i32)',
  proxy_on_response_trailers: '(param $ctx i32) (param $n i32) (result i32)',
  proxy_on_log: '(param $ctx i32)',
  proxy_on_done: '(param $ctx i32) (result i32)',
  proxy_on_delete: '(param $ctx i32)',
} as const;
export type CallbackName = keyof typeof CALLBACKS;

export interface WatGuestSpec {
  /** Data segments: offset -> string (WAT string escapes allowed) or bytes. */
  readonly data?: Readonly<Record<number, string | Uint8Array>>;
  /** Callback bodies in WAT (must leave the result on the stack when the callback returns one). */
  readonly callbacks?: Partial<Record<CallbackName, string>>;
  /** Extra module fields (functions, globals, exports). */
  readonly extra?: string;
  /** Export proxy_abi_version_0_2_1. Default true. */
  readonly abiMarker?: boolean;
  /** Export the allocator. Default true. */
  readonly allocator?: boolean;
  /** Extra raw import lines, e.g. '(import "env" "abort" (func (param i32 i32 i32 i32)))'. */
  readonly rawImports?: string;
  /** Declare all proxy_* imports. Default true. */
  readonly proxyImports?: boolean;
}

function dataLiteral(value: string | Uint8Array): string {
  if (typeof value === 'string') return JSON.stringify(value).slice(1, -1).replace(/\\u00/g, '\\');
  return [...value].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('');
}

export function watSource(spec: WatGuestSpec): string {
  const lines: string[] = ['(module'];
  if (spec.proxyImports !== false) {
    for (const [name, type] of Object.entries(IMPORTS)) lines.push(`  (import "env" "${name}" (func $${name} ${type}))`);
  }
  if (spec.rawImports) lines.push(spec.rawImports);
  lines.push('  (memory (export "memory") 2)');
  lines.push(`  (global $heap (mut i32) (i32.const ${HEAP_START}))`);
  if (spec.allocator !== false) {
    lines.push(`  (func (export "proxy_on_memory_allocate") (param $size i32) (result i32) (local $p i32)
    (i32.store (i32.const ${ALLOC_COUNT_ADDR}) (i32.add (i32.load (i32.const ${ALLOC_COUNT_ADDR})) (i32.const 1)))
    (local.set $p (global.get $heap))
    (global.set $heap (i32.and (i32.add (i32.add (global.get $heap) (local.get $size)) (i32.const 7)) (i32.const -8)))
    (local.get $p))`);
  }
  if (spec.abiMarker !== false) lines.push('  (func (export "proxy_abi_version_0_2_1"))');
  for (const [name, body] of Object.entries(spec.callbacks ?? {})) {
    const sig = CALLBACKS[name as CallbackName];
    lines.push(`  (func (export "${name}") ${sig}\n${body}\n  )`);
  }
  for (const [offset, value] of Object.entries(spec.data ?? {})) lines.push(`  (data (i32.const ${offset}) "${dataLiteral(value)}")`);
  if (spec.extra) lines.push(spec.extra);
  lines.push(')');
  return lines.join('\n');
}

let wabtPromise: ReturnType<typeof wabtInit> | undefined;

/** Compiles a guest to Wasm bytes. */
export async function watGuest(spec: WatGuestSpec): Promise<Uint8Array> {
  return compileWat(watSource(spec));
}

export async function compileWat(source: string): Promise<Uint8Array> {
  wabtPromise ??= wabtInit();
  const wabt = await wabtPromise;
  const module = wabt.parseWat('guest.wat', source, { simd: true, bulk_memory: true });
  try {
    module.resolveNames();
    module.validate();
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}

/** Reads i32 result slot `n` (little-endian) from a worker's memory. */
export function slot(memory: (ptr: number, len: number) => Uint8Array, n: number): number {
  const bytes = memory(RESULTS + n * 4, 4);
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getInt32(0, true);
}

/** WAT that stores the i32 expression `expr` in result slot `n`. */
export function store(n: number, expr: string): string {
  return `(i32.store (i32.const ${RESULTS + n * 4}) ${expr})`;
}

/** Interns strings into data segments from offset 2048; `ref` yields "(i32.const ptr) (i32.const len)". */
export class WatStrings {
  private next = 2048;
  readonly data: Record<number, string | Uint8Array> = {};
  private readonly seen = new Map<string, [number, number]>();

  ref(text: string | Uint8Array): string {
    const [p, n] = this.place(text);
    return `(i32.const ${p}) (i32.const ${n})`;
  }

  ptr(text: string | Uint8Array): number {
    return this.place(text)[0];
  }

  len(text: string | Uint8Array): number {
    return this.place(text)[1];
  }

  private place(text: string | Uint8Array): [number, number] {
    const key = typeof text === 'string' ? `s:${text}` : `b:${[...text].join(',')}`;
    const hit = this.seen.get(key);
    if (hit) return hit;
    const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
    const p = this.next;
    this.data[p] = bytes;
    this.next = (p + bytes.length + 8) & ~7;
    if (this.next >= HEAP_START) throw new RangeError('WatStrings: data area full');
    const placed: [number, number] = [p, bytes.length];
    this.seen.set(key, placed);
    return placed;
  }

  /** WAT that logs `text` at info through proxy_log. */
  log(text: string, level = 2): string {
    return `(drop (call $proxy_log (i32.const ${level}) ${this.ref(text)}))`;
  }
}

/** The pointer and size a host call wrote to OUT and OUT+4. */
export function outValue(memory: (ptr: number, len: number) => Uint8Array): { ptr: number; size: number; bytes: Uint8Array } {
  const raw = memory(OUT, 8);
  const view = new DataView(raw.buffer, raw.byteOffset, 8);
  const ptr = view.getUint32(0, true);
  const size = view.getUint32(4, true);
  return { ptr, size, bytes: size > 0 ? memory(ptr, size) : new Uint8Array(0) };
}
