/**
 * meshward's proxy-wasm host emulator: runs a compiled proxy-wasm module (ABI v0.2.1) in Node's V8
 * the way Envoy runs an HTTP filter plugin. Faithful to Envoy (source/extensions/common/wasm/
 * context.cc, source/common/http/filter_manager.cc, proxy-wasm-cpp-host src/exports.cc,
 * src/context.cc, src/wasm.cc), not to any filter's convenience.
 *
 * ## Start-up
 * ```ts
 * const envoy = await createEnvoyHost({ wasm: 'filter/build/meshward.wasm', pluginConfig: '{"mode":"enforce"}' });
 * ```
 * Like Envoy: a base VM is instantiated (`_initialize`, then `main`/`__main_void`), a canary VM
 * configures the plugin (root `proxy_on_context_create(root, 0)`, `proxy_on_vm_start`,
 * `proxy_on_configure`), then each worker VM does the same. Only proxy_log and WASI may be called
 * during `_initialize` (anything else traps: "restricted_callback"), so never call host functions
 * from module top-level code. Failures reject with `EmulatorError`:
 * - `LINK_FAILED`: Envoy would not load the module (an import it does not provide, e.g. env.abort
 *   or proxy_clear_route_cache; no proxy_abi_version_0_2_1 export; no allocator export).
 * - `PLUGIN_START_FAILED`: vm_start/configure returned false or trapped; the message includes the
 *   guest's warn+ log lines, `error.logs` has all of them.
 * Options (defaults): pluginConfig '', vmConfig '', rootId '', vmId '', pluginName 'meshward',
 * workers 1, logLevel 'info', bufferLimitBytes 1 MiB, allowOnHeadersStopIteration false,
 * failOpen false (or failurePolicy 'fail_closed' | 'fail_open' | 'fail_reload'), reloadBackoffMs
 * 1000, generateRequestId true, startTimeNanos now, clusters [], properties {}, envs {},
 * foreignFunctions {}. Bad options reject with INVALID_OPTION naming the option.
 *
 * ## Streams
 * ```ts
 * const s = envoy.worker(0).newStream({ properties: { 'connection.uri_san_peer_certificate': 'spiffe://corp/ns/a/sa/b' } });
 * s.requestHeaders([[':method', 'POST'], [':path', '/v1/chat/completions'], [':authority', 'api'], ['content-type', 'application/json']], false);
 * s.requestBody('{"messages":', false);
 * s.requestBody('[...]}', true);
 * s.upstream   // { headers, body, bodyText, chunks, trailers, endStream, reset, header(name) } what the server got
 * s.responseHeaders([[':status', '200']], false); s.responseBody('...', true);
 * s.downstream // what the client got;  s.localReply  // { status, body, bodyText, headers, details, grpcStatus, path, origin }
 * s.state      // 'open' | 'completed' | 'stalled' | 'reset';  s.filterState // set_property values by path
 * s.complete() // on_log (access-log phase), on_done, on_delete
 * runExchange(s, { headers, body, chunkSize: 64 }, { headers: [[':status','200']], body: '...', chunkSize: 16 });
 * ```
 * Each driver call returns the status Envoy acted on (after its conversions). Envoy rules modelled:
 * - The connection manager adds `x-request-id` (a UUID) to requests without one before the plugin
 *   sees them (generate_request_id, default on; `generateRequestId: false` turns it off). Other
 *   connection-manager header mutations (x-forwarded-*, edge request-id override) are not modelled.
 * - Headers: 1 (StopIteration) becomes StopAllIterationAndWatermark unless
 *   allowOnHeadersStopIteration; the body is then held and body callbacks do NOT run until
 *   proxy_continue_stream, which calls the body callback once with everything held.
 * - Body: 0 Continue forwards held + chunk; 1 StopIterationAndBuffer accumulates (next body_size is
 *   the total; get/set act on the whole body; over bufferLimitBytes: 413 "Payload Too Large" for a
 *   request via the plugin's own response callbacks, 500 directly or reset for a response);
 *   2 StopIterationAndWatermark holds but the next callback sees only its chunk (over the limit:
 *   `s.watermarkPaused`); 3+ StopIterationNoBuffer drops the chunk.
 * - A stop at end of stream without a later continue leaves `s.state === 'stalled'`; nothing
 *   invents a continuation.
 * - Header maps: readable/writable only during their callback (until continue if stopped), then
 *   get/add/replace/remove/size return BadArgument (2); in on_log readable (missing: NotFound),
 *   not writable; get_header_map_pairs never fails; keys lower-case; size = sum of key+value bytes.
 *   The last body callback (end_of_stream) may add trailers.
 * - Buffers: set_buffer_bytes(start 0, length n) drains n bytes then prepends; start >= size
 *   appends; else BadArgument. get past the end is Ok and empty; empty values return ptr 0, size 0.
 *   Outside a body callback the body reads empty and writes are BadArgument — except while the
 *   plugin is buffering (last body status StopIterationAndBuffer): then the whole buffered body is
 *   readable/writable from other callbacks through set_effective_context (e.g. onTick, an HTTP
 *   call response) until continue. Plugin configuration is readable only in proxy_on_configure
 *   (else NotFound); VM configuration anytime.
 * - Envoy never fixes content-length after a body change: `s.upstream.contentLengthMatches` /
 *   `s.downstream.contentLengthMatches` tell whether the forwarded content-length still fits.
 * - send_local_response: from a request callback the reply goes through this plugin's
 *   on_response_headers/on_response_body; from a response callback it goes out directly if the
 *   client got no headers yet, else the stream is reset; from a root context nothing happens
 *   (Ok). The callback's own return value becomes "stop". Headers: :status, the plugin's headers,
 *   content-length and content-type text/plain (when the body is not empty); details have
 *   whitespace replaced by '_'. gRPC requests get a trailers-only reply (grpc-status/message).
 * - close_stream resets the stream ('wasm_close_stream').
 * - A trap fails the VM: the stream (and every later stream on that worker) gets 503 with details
 *   'wasm_fail_stream' without further plugin callbacks, or passes untouched with failOpen.
 *   on_log/on_done/on_delete are skipped on a failed VM. `failurePolicy: 'fail_reload'` gives the
 *   worker a fresh VM on the next stream after `reloadBackoffMs` (default 1000); a config change
 *   always starts a fresh VM for a failed worker (cpp-host drops failed thread-local VMs).
 *   `worker.vmGeneration` counts the VMs a worker has run.
 *
 * ## Properties (get_property / set_property)
 * Paths are NUL-joined segments. Served: plugin_name, plugin_root_id, plugin_vm_id; request.*
 * (path, url_path, host, scheme, method, referer, useragent, id [x-request-id], query, headers
 * [map] — only while the request headers are readable, i.e. in their callback or on_log — and
 * time, protocol, size, total_size, duration); response.* (code, code_details, headers,
 * trailers, size, total_size); connection.id, connection.mtls (false unless given), source.*,
 * destination.*, connection_id; plus anything in the host/stream `properties` option, e.g.
 * connection.uri_san_peer_certificate (Envoy's name for the peer's first URI SAN — the SPIFFE
 * ID; Envoy has no source.principal attribute), connection.subject_peer_certificate,
 * connection.dns_san_peer_certificate, xds.cluster_name, xds.route_name, xds.node...
 * Encoding: strings raw, int64/uint64/timestamp/duration 8 bytes LE, bool 1 byte, double 8 bytes,
 * maps in the header-map encoding. Unknown names fall back to filter state set with set_property
 * on the same top-level name (Envoy keys it "wasm.<path>"). Root context: set_property NotFound.
 *
 * ## Shared state across workers
 * `workers: n` creates n VMs (separate instances, separate memories) sharing shared data (CAS:
 * non-zero must match else CasMismatch; missing keys are created whatever the CAS), shared
 * queues (on_queue_ready is delivered to the registering root after the current call), and stats.
 * `envoy.metrics.get(name)` (counter/gauge value), `.samples(name)` (histogram), `.all()`.
 * Metric ids carry the type in the low two bits; counter increment <= 0 is BadArgument; record adds
 * to counters, sets gauges, records histogram samples; get on a histogram is BadArgument.
 * `envoy.sharedData.get(key)` -> { value, text, cas }.
 *
 * ## Logs, time, callouts, reconfiguration
 * `envoy.logs` (LogEntry: level, levelName, message, source 'proxy_log'|'stdout'|'stderr'|'envoy',
 * worker, contextId) holds what Envoy would emit at its level (default info; proxy_log above 5 is
 * BadArgument). `envoy.advanceTime(ms)` moves the clock (proxy_get_current_time_nanoseconds,
 * clock_time_get) and fires due proxy_on_tick calls. `envoy.httpCalls` lists proxy_http_call
 * requests (cluster must be in `clusters`, :method/:path/:authority required); answer with
 * `call.respond({ headers, body })` or `call.fail()`. `envoy.reconfigure(config)` models a config
 * change: canary first (rejected -> `{ accepted: false, error }`, old config keeps serving), then a
 * new root context in every worker VM; the old root is retired (on_done/on_delete) after its open
 * streams complete. `envoy.shutdown()` retires every root.
 *
 * ## Not modelled
 * Network (TCP) filters, gRPC callouts (grpc_call/grpc_stream return ParseFailure as for an
 * unknown cluster), other HTTP filters in the chain, HTTP/1 vs HTTP/2 framing differences, the
 * 1 GiB memory cap is checked only after each callback.
 */
export { createEnvoyHost } from './envoy-host.js';
export type {
  ConfigureResult,
  EnvoyHost,
  EnvoyHostOptions,
  MetricsView,
  PendingHttpCall,
  SharedDataView,
  Worker,
} from './envoy-host.js';
export { HttpStream } from './http-stream.js';
export type { LocalReply, ReceivedMessage, StreamOptions, StreamState } from './http-stream.js';
export { runExchange } from './exchange.js';
export type { ExchangeResult, MessageSpec } from './exchange.js';
export { EmulatorError, EMULATOR_ERROR_CODES } from './errors.js';
export type { EmulatorErrorCode } from './errors.js';
export type { LogEntry, ForeignFunction } from './vm.js';
export type { HeaderPair } from './pairs.js';
export { encodePairs, decodePairs } from './pairs.js';
export type { PropertyInput, PropertyValue } from './properties.js';
export {
  BufferType,
  FilterDataStatus,
  FilterHeadersStatus,
  FilterTrailersStatus,
  LogLevel,
  MapType,
  MetricType,
  StreamType,
  WasmResult,
} from './abi-types.js';
export { toBytes, utf8 } from './bytes.js';
