// Host functions of Proxy-Wasm ABI v0.2.1 as Envoy registers them (module "env").
// AssemblyScript imports only the functions that are reachable from the entry file, so declaring
// all of them here costs nothing. proxy_clear_route_cache, proxy_get_configuration,
// proxy_continue_request and proxy_continue_response are ABI 0.1.0 only: Envoy does not link them
// for a 0.2.1 module, so they are deliberately absent.
//
// Every pointer is a guest address; every `*_out` parameter is a guest address the host writes to.
// Nothing outside abi/ may call these directly.

// Logging
@external("env", "proxy_log")
export declare function proxy_log(level: u32, message: usize, messageSize: usize): u32;
@external("env", "proxy_get_log_level")
export declare function proxy_get_log_level(levelOut: usize): u32;

// Clock and timers
@external("env", "proxy_get_current_time_nanoseconds")
export declare function proxy_get_current_time_nanoseconds(timeOut: usize): u32;
@external("env", "proxy_set_tick_period_milliseconds")
export declare function proxy_set_tick_period_milliseconds(periodMs: u32): u32;

// Properties
@external("env", "proxy_get_property")
export declare function proxy_get_property(path: usize, pathSize: usize, valuePtrOut: usize, valueSizeOut: usize): u32;
@external("env", "proxy_set_property")
export declare function proxy_set_property(path: usize, pathSize: usize, value: usize, valueSize: usize): u32;

// Buffers
@external("env", "proxy_get_buffer_bytes")
export declare function proxy_get_buffer_bytes(bufferType: u32, start: usize, maxSize: usize, dataPtrOut: usize, dataSizeOut: usize): u32;
@external("env", "proxy_get_buffer_status")
export declare function proxy_get_buffer_status(bufferType: u32, sizeOut: usize, flagsOut: usize): u32;
@external("env", "proxy_set_buffer_bytes")
export declare function proxy_set_buffer_bytes(bufferType: u32, start: usize, size: usize, data: usize, dataSize: usize): u32;

// Header maps
@external("env", "proxy_get_header_map_pairs")
export declare function proxy_get_header_map_pairs(mapType: u32, dataPtrOut: usize, dataSizeOut: usize): u32;
@external("env", "proxy_set_header_map_pairs")
export declare function proxy_set_header_map_pairs(mapType: u32, data: usize, dataSize: usize): u32;
@external("env", "proxy_get_header_map_value")
export declare function proxy_get_header_map_value(mapType: u32, key: usize, keySize: usize, valuePtrOut: usize, valueSizeOut: usize): u32;
@external("env", "proxy_add_header_map_value")
export declare function proxy_add_header_map_value(mapType: u32, key: usize, keySize: usize, value: usize, valueSize: usize): u32;
@external("env", "proxy_replace_header_map_value")
export declare function proxy_replace_header_map_value(mapType: u32, key: usize, keySize: usize, value: usize, valueSize: usize): u32;
@external("env", "proxy_remove_header_map_value")
export declare function proxy_remove_header_map_value(mapType: u32, key: usize, keySize: usize): u32;
@external("env", "proxy_get_header_map_size")
export declare function proxy_get_header_map_size(mapType: u32, sizeOut: usize): u32;

// Stream control
@external("env", "proxy_send_local_response")
export declare function proxy_send_local_response(statusCode: u32, details: usize, detailsSize: usize, body: usize, bodySize: usize, headers: usize, headersSize: usize, grpcStatus: i32): u32;
@external("env", "proxy_continue_stream")
export declare function proxy_continue_stream(streamType: u32): u32;
@external("env", "proxy_close_stream")
export declare function proxy_close_stream(streamType: u32): u32;
@external("env", "proxy_get_status")
export declare function proxy_get_status(codeOut: usize, messagePtrOut: usize, messageSizeOut: usize): u32;

// Shared data and queues
@external("env", "proxy_get_shared_data")
export declare function proxy_get_shared_data(key: usize, keySize: usize, valuePtrOut: usize, valueSizeOut: usize, casOut: usize): u32;
@external("env", "proxy_set_shared_data")
export declare function proxy_set_shared_data(key: usize, keySize: usize, value: usize, valueSize: usize, cas: u32): u32;
@external("env", "proxy_register_shared_queue")
export declare function proxy_register_shared_queue(name: usize, nameSize: usize, queueIdOut: usize): u32;
@external("env", "proxy_resolve_shared_queue")
export declare function proxy_resolve_shared_queue(vmId: usize, vmIdSize: usize, name: usize, nameSize: usize, queueIdOut: usize): u32;
@external("env", "proxy_enqueue_shared_queue")
export declare function proxy_enqueue_shared_queue(queueId: u32, value: usize, valueSize: usize): u32;
@external("env", "proxy_dequeue_shared_queue")
export declare function proxy_dequeue_shared_queue(queueId: u32, valuePtrOut: usize, valueSizeOut: usize): u32;

// Metrics
@external("env", "proxy_define_metric")
export declare function proxy_define_metric(metricType: u32, name: usize, nameSize: usize, metricIdOut: usize): u32;
@external("env", "proxy_increment_metric")
export declare function proxy_increment_metric(metricId: u32, delta: i64): u32;
@external("env", "proxy_record_metric")
export declare function proxy_record_metric(metricId: u32, value: u64): u32;
@external("env", "proxy_get_metric")
export declare function proxy_get_metric(metricId: u32, valueOut: usize): u32;

// HTTP callouts
@external("env", "proxy_http_call")
export declare function proxy_http_call(upstream: usize, upstreamSize: usize, headers: usize, headersSize: usize, body: usize, bodySize: usize, trailers: usize, trailersSize: usize, timeoutMs: u32, tokenOut: usize): u32;

// gRPC callouts (declared for completeness; meshward has no wrapper for them yet)
@external("env", "proxy_grpc_call")
export declare function proxy_grpc_call(upstream: usize, upstreamSize: usize, service: usize, serviceSize: usize, method: usize, methodSize: usize, metadata: usize, metadataSize: usize, message: usize, messageSize: usize, timeoutMs: u32, tokenOut: usize): u32;
@external("env", "proxy_grpc_stream")
export declare function proxy_grpc_stream(upstream: usize, upstreamSize: usize, service: usize, serviceSize: usize, method: usize, methodSize: usize, metadata: usize, metadataSize: usize, tokenOut: usize): u32;
@external("env", "proxy_grpc_send")
export declare function proxy_grpc_send(token: u32, message: usize, messageSize: usize, endOfStream: u32): u32;
@external("env", "proxy_grpc_cancel")
export declare function proxy_grpc_cancel(token: u32): u32;
@external("env", "proxy_grpc_close")
export declare function proxy_grpc_close(token: u32): u32;

// Contexts and foreign functions
@external("env", "proxy_set_effective_context")
export declare function proxy_set_effective_context(contextId: u32): u32;
@external("env", "proxy_done")
export declare function proxy_done(): u32;
@external("env", "proxy_call_foreign_function")
export declare function proxy_call_foreign_function(name: usize, nameSize: usize, args: usize, argsSize: usize, resultPtrOut: usize, resultSizeOut: usize): u32;
