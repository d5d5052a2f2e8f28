// What Envoy links into a Proxy-Wasm ABI 0.2.1 module (proxy-wasm-cpp-host src/wasm.cc
// registerCallbacks, include/proxy-wasm/exports.h), with the Wasm signature of each proxy_*
// function (every Word is i32 on wasm32; int64/uint64 parameters are i64).

type Sig = readonly [params: string, results: string];

/** env.proxy_* functions Envoy registers for ABI 0.2.1, with signatures. */
export const ENVOY_PROXY_IMPORTS: Readonly<Record<string, Sig>> = {
  proxy_log: ['i32 i32 i32', 'i32'],
  proxy_get_status: ['i32 i32 i32', 'i32'],
  proxy_set_property: ['i32 i32 i32 i32', 'i32'],
  proxy_get_property: ['i32 i32 i32 i32', 'i32'],
  proxy_send_local_response: ['i32 i32 i32 i32 i32 i32 i32 i32', 'i32'],
  proxy_get_shared_data: ['i32 i32 i32 i32 i32', 'i32'],
  proxy_set_shared_data: ['i32 i32 i32 i32 i32', 'i32'],
  proxy_register_shared_queue: ['i32 i32 i32', 'i32'],
  proxy_resolve_shared_queue: ['i32 i32 i32 i32 i32', 'i32'],
  proxy_dequeue_shared_queue: ['i32 i32 i32', 'i32'],
  proxy_enqueue_shared_queue: ['i32 i32 i32', 'i32'],
  proxy_get_header_map_value: ['i32 i32 i32 i32 i32', 'i32'],
  proxy_add_header_map_value: ['i32 i32 i32 i32 i32', 'i32'],
  proxy_replace_header_map_value: ['i32 i32 i32 i32 i32', 'i32'],
  proxy_remove_header_map_value: ['i32 i32 i32', 'i32'],
  proxy_get_header_map_pairs: ['i32 i32 i32', 'i32'],
  proxy_set_header_map_pairs: ['i32 i32 i32', 'i32'],
  proxy_get_header_map_size: ['i32 i32', 'i32'],
  proxy_get_buffer_status: ['i32 i32 i32', 'i32'],
  proxy_get_buffer_bytes: ['i32 i32 i32 i32 i32', 'i32'],
  proxy_set_buffer_bytes: ['i32 i32 i32 i32 i32', 'i32'],
  proxy_http_call: ['i32 i32 i32 i32 i32 i32 i32 i32 i32 i32', 'i32'],
  proxy_grpc_call: ['i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32', 'i32'],
  proxy_grpc_stream: ['i32 i32 i32 i32 i32 i32 i32 i32 i32', 'i32'],
  proxy_grpc_close: ['i32', 'i32'],
  proxy_grpc_cancel: ['i32', 'i32'],
  proxy_grpc_send: ['i32 i32 i32 i32', 'i32'],
  proxy_set_tick_period_milliseconds: ['i32', 'i32'],
  proxy_get_current_time_nanoseconds: ['i32', 'i32'],
  proxy_define_metric: ['i32 i32 i32 i32', 'i32'],
  proxy_increment_metric: ['i32 i64', 'i32'],
  proxy_record_metric: ['i32 i64', 'i32'],
  proxy_get_metric: ['i32 i32', 'i32'],
  proxy_set_effective_context: ['i32', 'i32'],
  proxy_done: ['', 'i32'],
  proxy_call_foreign_function: ['i32 i32 i32 i32 i32 i32', 'i32'],
  // ABI 0.2.x specific (0.2.1 adds get_log_level).
  proxy_continue_stream: ['i32', 'i32'],
  proxy_close_stream: ['i32', 'i32'],
  proxy_get_log_level: ['i32', 'i32'],
};

/** Other env functions Envoy registers (emscripten support). */
export const ENVOY_ENV_EXTRAS = ['pthread_equal', 'emscripten_notify_memory_growth'] as const;

/** WASI preview1 functions Envoy registers, under wasi_snapshot_preview1 and wasi_unstable. */
export const ENVOY_WASI_FUNCTIONS = [
  'fd_write', 'fd_read', 'fd_seek', 'fd_close', 'fd_fdstat_get', 'fd_fdstat_set_flags', 'fd_fdstat_set_rights',
  'environ_get', 'environ_sizes_get', 'args_get', 'args_sizes_get', 'clock_time_get', 'clock_res_get',
  'fd_advise', 'fd_allocate', 'fd_datasync', 'fd_filestat_set_size', 'fd_filestat_set_times', 'fd_pread',
  'fd_pwrite', 'fd_readdir', 'fd_renumber', 'fd_sync', 'fd_tell', 'path_create_directory',
  'path_filestat_set_times', 'path_link', 'path_readlink', 'path_remove_directory', 'path_rename',
  'path_symlink', 'path_unlink_file', 'sock_accept', 'sock_recv', 'sock_send', 'sock_shutdown', 'random_get',
  'sched_yield', 'poll_oneoff', 'proc_exit', 'path_open', 'fd_prestat_get', 'fd_prestat_dir_name',
  'path_filestat_get', 'fd_filestat_get',
] as const;

/** ABI 0.1.0-only functions Envoy does NOT link for a 0.2.1 module. */
export const ABI_010_ONLY = ['proxy_get_configuration', 'proxy_continue_request', 'proxy_continue_response', 'proxy_clear_route_cache'] as const;

export interface ImportEntry {
  readonly module: string;
  readonly name: string;
  readonly kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
  /** For functions: "params -> results" with value types separated by spaces. */
  readonly params?: string;
  readonly results?: string;
}

export interface ExportEntry {
  readonly name: string;
  readonly kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
  readonly params?: string;
  readonly results?: string;
}

const VALTYPES: Record<number, string> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' };
const KINDS = ['function', 'table', 'memory', 'global', 'tag'] as const;

/** Reads the type, import, function and export sections of a Wasm binary (no validation). */
export function readModuleInterface(bytes: Uint8Array): { imports: ImportEntry[]; exports: ExportEntry[] } {
  let pos = 8;
  const u32 = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[pos++]!;
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
    }
  };
  const name = (): string => {
    const n = u32();
    const s = new TextDecoder().decode(bytes.subarray(pos, pos + n));
    pos += n;
    return s;
  };
  const types: { params: string; results: string }[] = [];
  const imports: ImportEntry[] = [];
  const funcTypes: number[] = [];
  const exports: { name: string; kind: number; index: number }[] = [];
  while (pos < bytes.length) {
    const id = bytes[pos++]!;
    const size = u32();
    const end = pos + size;
    if (id === 1) {
      const count = u32();
      for (let i = 0; i < count; i++) {
        pos++; // 0x60
        const np = u32();
        const params = Array.from({ length: np }, () => VALTYPES[bytes[pos++]!] ?? '?');
        const nr = u32();
        const results = Array.from({ length: nr }, () => VALTYPES[bytes[pos++]!] ?? '?');
        types.push({ params: params.join(' '), results: results.join(' ') });
      }
    } else if (id === 2) {
      const count = u32();
      for (let i = 0; i < count; i++) {
        const module = name();
        const field = name();
        const kind = bytes[pos++]!;
        if (kind === 0) {
          const t = types[u32()]!;
          imports.push({ module, name: field, kind: 'function', params: t.params, results: t.results });
          funcTypes.push(types.indexOf(t));
        } else {
          imports.push({ module, name: field, kind: KINDS[kind] ?? 'tag' });
          // skip the descriptor
          if (kind === 1) {
            pos++;
            const flags = u32();
            u32();
            if (flags & 1) u32();
          } else if (kind === 2) {
            const flags = u32();
            u32();
            if (flags & 1) u32();
          } else if (kind === 3) {
            pos += 2;
          } else {
            pos++;
            u32();
          }
        }
      }
    } else if (id === 3) {
      const count = u32();
      for (let i = 0; i < count; i++) funcTypes.push(u32());
    } else if (id === 7) {
      const count = u32();
      for (let i = 0; i < count; i++) exports.push({ name: name(), kind: bytes[pos++]!, index: u32() });
    }
    pos = end;
  }
  return {
    imports,
    exports: exports.map((e) => {
      if (e.kind !== 0) return { name: e.name, kind: KINDS[e.kind] ?? 'tag' };
      const t = types[funcTypes[e.index]!]!;
      return { name: e.name, kind: 'function', params: t.params, results: t.results };
    }),
  };
}
