/**
 * A protobuf-es registry of every message type the generated Envoy code defines (plus the
 * well-known types), for toJson/fromJson of resources that pack configs in google.protobuf.Any
 * (HCM in listeners, filters, transport sockets, access loggers, ECDS Wasm configs...).
 * JSON conversion of an Any fails on a type missing here, so keep it complete: it lists every
 * file under gen/ (update when proto/buf.gen.yaml adds paths).
 */
import { createRegistry, type Registry } from '@bufbuild/protobuf';
import {
  file_google_protobuf_any,
  file_google_protobuf_duration,
  file_google_protobuf_empty,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
  file_google_protobuf_wrappers,
} from '@bufbuild/protobuf/wkt';
import { file_envoy_annotations_deprecation } from '../gen/envoy/annotations/deprecation_pb.js';
import { file_envoy_annotations_resource } from '../gen/envoy/annotations/resource_pb.js';
import { file_envoy_config_accesslog_v3_accesslog } from '../gen/envoy/config/accesslog/v3/accesslog_pb.js';
import { file_envoy_config_bootstrap_v3_bootstrap } from '../gen/envoy/config/bootstrap/v3/bootstrap_pb.js';
import { file_envoy_config_cluster_v3_circuit_breaker } from '../gen/envoy/config/cluster/v3/circuit_breaker_pb.js';
import { file_envoy_config_cluster_v3_cluster } from '../gen/envoy/config/cluster/v3/cluster_pb.js';
import { file_envoy_config_cluster_v3_filter } from '../gen/envoy/config/cluster/v3/filter_pb.js';
import { file_envoy_config_cluster_v3_outlier_detection } from '../gen/envoy/config/cluster/v3/outlier_detection_pb.js';
import { file_envoy_config_core_v3_address } from '../gen/envoy/config/core/v3/address_pb.js';
import { file_envoy_config_core_v3_backoff } from '../gen/envoy/config/core/v3/backoff_pb.js';
import { file_envoy_config_core_v3_base } from '../gen/envoy/config/core/v3/base_pb.js';
import { file_envoy_config_core_v3_config_source } from '../gen/envoy/config/core/v3/config_source_pb.js';
import { file_envoy_config_core_v3_event_service_config } from '../gen/envoy/config/core/v3/event_service_config_pb.js';
import { file_envoy_config_core_v3_extension } from '../gen/envoy/config/core/v3/extension_pb.js';
import { file_envoy_config_core_v3_grpc_service } from '../gen/envoy/config/core/v3/grpc_service_pb.js';
import { file_envoy_config_core_v3_health_check } from '../gen/envoy/config/core/v3/health_check_pb.js';
import { file_envoy_config_core_v3_http_uri } from '../gen/envoy/config/core/v3/http_uri_pb.js';
import { file_envoy_config_core_v3_protocol } from '../gen/envoy/config/core/v3/protocol_pb.js';
import { file_envoy_config_core_v3_proxy_protocol } from '../gen/envoy/config/core/v3/proxy_protocol_pb.js';
import { file_envoy_config_core_v3_resolver } from '../gen/envoy/config/core/v3/resolver_pb.js';
import { file_envoy_config_core_v3_socket_option } from '../gen/envoy/config/core/v3/socket_option_pb.js';
import { file_envoy_config_core_v3_substitution_format_string } from '../gen/envoy/config/core/v3/substitution_format_string_pb.js';
import { file_envoy_config_core_v3_udp_socket_config } from '../gen/envoy/config/core/v3/udp_socket_config_pb.js';
import { file_envoy_config_endpoint_v3_endpoint_components } from '../gen/envoy/config/endpoint/v3/endpoint_components_pb.js';
import { file_envoy_config_endpoint_v3_endpoint } from '../gen/envoy/config/endpoint/v3/endpoint_pb.js';
import { file_envoy_config_listener_v3_api_listener } from '../gen/envoy/config/listener/v3/api_listener_pb.js';
import { file_envoy_config_listener_v3_listener_components } from '../gen/envoy/config/listener/v3/listener_components_pb.js';
import { file_envoy_config_listener_v3_listener } from '../gen/envoy/config/listener/v3/listener_pb.js';
import { file_envoy_config_listener_v3_quic_config } from '../gen/envoy/config/listener/v3/quic_config_pb.js';
import { file_envoy_config_listener_v3_udp_listener_config } from '../gen/envoy/config/listener/v3/udp_listener_config_pb.js';
import { file_envoy_config_metrics_v3_stats } from '../gen/envoy/config/metrics/v3/stats_pb.js';
import { file_envoy_config_overload_v3_overload } from '../gen/envoy/config/overload/v3/overload_pb.js';
import { file_envoy_config_ratelimit_v3_rls } from '../gen/envoy/config/ratelimit/v3/rls_pb.js';
import { file_envoy_config_rbac_v3_rbac } from '../gen/envoy/config/rbac/v3/rbac_pb.js';
import { file_envoy_config_route_v3_route_components } from '../gen/envoy/config/route/v3/route_components_pb.js';
import { file_envoy_config_route_v3_route } from '../gen/envoy/config/route/v3/route_pb.js';
import { file_envoy_config_route_v3_scoped_route } from '../gen/envoy/config/route/v3/scoped_route_pb.js';
import { file_envoy_config_trace_v3_http_tracer } from '../gen/envoy/config/trace/v3/http_tracer_pb.js';
import { file_envoy_data_accesslog_v3_accesslog } from '../gen/envoy/data/accesslog/v3/accesslog_pb.js';
import { file_envoy_extensions_access_loggers_file_v3_file } from '../gen/envoy/extensions/access_loggers/file/v3/file_pb.js';
import { file_envoy_extensions_access_loggers_grpc_v3_als } from '../gen/envoy/extensions/access_loggers/grpc/v3/als_pb.js';
import { file_envoy_extensions_common_ratelimit_v3_ratelimit } from '../gen/envoy/extensions/common/ratelimit/v3/ratelimit_pb.js';
import { file_envoy_extensions_filters_http_local_ratelimit_v3_local_rate_limit } from '../gen/envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit_pb.js';
import { file_envoy_extensions_filters_http_ratelimit_v3_rate_limit } from '../gen/envoy/extensions/filters/http/ratelimit/v3/rate_limit_pb.js';
import { file_envoy_extensions_filters_http_rbac_v3_rbac } from '../gen/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import { file_envoy_extensions_filters_http_router_v3_router } from '../gen/envoy/extensions/filters/http/router/v3/router_pb.js';
import { file_envoy_extensions_filters_http_wasm_v3_wasm } from '../gen/envoy/extensions/filters/http/wasm/v3/wasm_pb.js';
import { file_envoy_extensions_filters_listener_tls_inspector_v3_tls_inspector } from '../gen/envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector_pb.js';
import { file_envoy_extensions_filters_network_http_connection_manager_v3_http_connection_manager } from '../gen/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import { file_envoy_extensions_transport_sockets_tls_v3_common } from '../gen/envoy/extensions/transport_sockets/tls/v3/common_pb.js';
import { file_envoy_extensions_transport_sockets_tls_v3_secret } from '../gen/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import { file_envoy_extensions_transport_sockets_tls_v3_tls } from '../gen/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import { file_envoy_extensions_upstreams_http_v3_http_protocol_options } from '../gen/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import { file_envoy_extensions_wasm_v3_wasm } from '../gen/envoy/extensions/wasm/v3/wasm_pb.js';
import { file_envoy_service_accesslog_v3_als } from '../gen/envoy/service/accesslog/v3/als_pb.js';
import { file_envoy_service_discovery_v3_ads } from '../gen/envoy/service/discovery/v3/ads_pb.js';
import { file_envoy_service_discovery_v3_discovery } from '../gen/envoy/service/discovery/v3/discovery_pb.js';
import { file_envoy_service_extension_v3_config_discovery } from '../gen/envoy/service/extension/v3/config_discovery_pb.js';
import { file_envoy_service_ratelimit_v3_rls } from '../gen/envoy/service/ratelimit/v3/rls_pb.js';
import { file_envoy_service_secret_v3_sds } from '../gen/envoy/service/secret/v3/sds_pb.js';
import { file_envoy_type_http_v3_path_transformation } from '../gen/envoy/type/http/v3/path_transformation_pb.js';
import { file_envoy_type_matcher_v3_filter_state } from '../gen/envoy/type/matcher/v3/filter_state_pb.js';
import { file_envoy_type_matcher_v3_metadata } from '../gen/envoy/type/matcher/v3/metadata_pb.js';
import { file_envoy_type_matcher_v3_number } from '../gen/envoy/type/matcher/v3/number_pb.js';
import { file_envoy_type_matcher_v3_path } from '../gen/envoy/type/matcher/v3/path_pb.js';
import { file_envoy_type_matcher_v3_regex } from '../gen/envoy/type/matcher/v3/regex_pb.js';
import { file_envoy_type_matcher_v3_string } from '../gen/envoy/type/matcher/v3/string_pb.js';
import { file_envoy_type_matcher_v3_value } from '../gen/envoy/type/matcher/v3/value_pb.js';
import { file_envoy_type_metadata_v3_metadata } from '../gen/envoy/type/metadata/v3/metadata_pb.js';
import { file_envoy_type_tracing_v3_custom_tag } from '../gen/envoy/type/tracing/v3/custom_tag_pb.js';
import { file_envoy_type_v3_http } from '../gen/envoy/type/v3/http_pb.js';
import { file_envoy_type_v3_http_status } from '../gen/envoy/type/v3/http_status_pb.js';
import { file_envoy_type_v3_percent } from '../gen/envoy/type/v3/percent_pb.js';
import { file_envoy_type_v3_range } from '../gen/envoy/type/v3/range_pb.js';
import { file_envoy_type_v3_ratelimit_unit } from '../gen/envoy/type/v3/ratelimit_unit_pb.js';
import { file_envoy_type_v3_semantic_version } from '../gen/envoy/type/v3/semantic_version_pb.js';
import { file_envoy_type_v3_token_bucket } from '../gen/envoy/type/v3/token_bucket_pb.js';
import { file_google_api_annotations } from '../gen/google/api/annotations_pb.js';
import { file_google_api_expr_v1alpha1_checked } from '../gen/google/api/expr/v1alpha1/checked_pb.js';
import { file_google_api_expr_v1alpha1_syntax } from '../gen/google/api/expr/v1alpha1/syntax_pb.js';
import { file_google_api_http } from '../gen/google/api/http_pb.js';
import { file_google_rpc_status } from '../gen/google/rpc/status_pb.js';
import { file_udpa_annotations_migrate } from '../gen/udpa/annotations/migrate_pb.js';
import { file_udpa_annotations_security } from '../gen/udpa/annotations/security_pb.js';
import { file_udpa_annotations_sensitive } from '../gen/udpa/annotations/sensitive_pb.js';
import { file_udpa_annotations_status } from '../gen/udpa/annotations/status_pb.js';
import { file_udpa_annotations_versioning } from '../gen/udpa/annotations/versioning_pb.js';
import { file_validate_validate } from '../gen/validate/validate_pb.js';
import { file_xds_annotations_v3_status } from '../gen/xds/annotations/v3/status_pb.js';
import { file_xds_core_v3_authority } from '../gen/xds/core/v3/authority_pb.js';
import { file_xds_core_v3_collection_entry } from '../gen/xds/core/v3/collection_entry_pb.js';
import { file_xds_core_v3_context_params } from '../gen/xds/core/v3/context_params_pb.js';
import { file_xds_core_v3_extension } from '../gen/xds/core/v3/extension_pb.js';
import { file_xds_core_v3_resource_locator } from '../gen/xds/core/v3/resource_locator_pb.js';
import { file_xds_type_matcher_v3_matcher } from '../gen/xds/type/matcher/v3/matcher_pb.js';
import { file_xds_type_matcher_v3_regex } from '../gen/xds/type/matcher/v3/regex_pb.js';
import { file_xds_type_matcher_v3_string } from '../gen/xds/type/matcher/v3/string_pb.js';
import { file_xds_type_v3_typed_struct } from '../gen/xds/type/v3/typed_struct_pb.js';

/** Every generated Envoy/xDS/udpa/google file plus the well-known types. */
export const envoyRegistry: Registry = createRegistry(
  file_google_protobuf_any, file_google_protobuf_duration, file_google_protobuf_empty, file_google_protobuf_struct,
  file_google_protobuf_timestamp, file_google_protobuf_wrappers,
  file_envoy_annotations_deprecation,
  file_envoy_annotations_resource,
  file_envoy_config_accesslog_v3_accesslog,
  file_envoy_config_bootstrap_v3_bootstrap,
  file_envoy_config_cluster_v3_circuit_breaker,
  file_envoy_config_cluster_v3_cluster,
  file_envoy_config_cluster_v3_filter,
  file_envoy_config_cluster_v3_outlier_detection,
  file_envoy_config_core_v3_address,
  file_envoy_config_core_v3_backoff,
  file_envoy_config_core_v3_base,
  file_envoy_config_core_v3_config_source,
  file_envoy_config_core_v3_event_service_config,
  file_envoy_config_core_v3_extension,
  file_envoy_config_core_v3_grpc_service,
  file_envoy_config_core_v3_health_check,
  file_envoy_config_core_v3_http_uri,
  file_envoy_config_core_v3_protocol,
  file_envoy_config_core_v3_proxy_protocol,
  file_envoy_config_core_v3_resolver,
  file_envoy_config_core_v3_socket_option,
  file_envoy_config_core_v3_substitution_format_string,
  file_envoy_config_core_v3_udp_socket_config,
  file_envoy_config_endpoint_v3_endpoint_components,
  file_envoy_config_endpoint_v3_endpoint,
  file_envoy_config_listener_v3_api_listener,
  file_envoy_config_listener_v3_listener_components,
  file_envoy_config_listener_v3_listener,
  file_envoy_config_listener_v3_quic_config,
  file_envoy_config_listener_v3_udp_listener_config,
  file_envoy_config_metrics_v3_stats,
  file_envoy_config_overload_v3_overload,
  file_envoy_config_ratelimit_v3_rls,
  file_envoy_config_rbac_v3_rbac,
  file_envoy_config_route_v3_route_components,
  file_envoy_config_route_v3_route,
  file_envoy_config_route_v3_scoped_route,
  file_envoy_config_trace_v3_http_tracer,
  file_envoy_data_accesslog_v3_accesslog,
  file_envoy_extensions_access_loggers_file_v3_file,
  file_envoy_extensions_access_loggers_grpc_v3_als,
  file_envoy_extensions_common_ratelimit_v3_ratelimit,
  file_envoy_extensions_filters_http_local_ratelimit_v3_local_rate_limit,
  file_envoy_extensions_filters_http_ratelimit_v3_rate_limit,
  file_envoy_extensions_filters_http_rbac_v3_rbac,
  file_envoy_extensions_filters_http_router_v3_router,
  file_envoy_extensions_filters_http_wasm_v3_wasm,
  file_envoy_extensions_filters_listener_tls_inspector_v3_tls_inspector,
  file_envoy_extensions_filters_network_http_connection_manager_v3_http_connection_manager,
  file_envoy_extensions_transport_sockets_tls_v3_common,
  file_envoy_extensions_transport_sockets_tls_v3_secret,
  file_envoy_extensions_transport_sockets_tls_v3_tls,
  file_envoy_extensions_upstreams_http_v3_http_protocol_options,
  file_envoy_extensions_wasm_v3_wasm,
  file_envoy_service_accesslog_v3_als,
  file_envoy_service_discovery_v3_ads,
  file_envoy_service_discovery_v3_discovery,
  file_envoy_service_extension_v3_config_discovery,
  file_envoy_service_ratelimit_v3_rls,
  file_envoy_service_secret_v3_sds,
  file_envoy_type_http_v3_path_transformation,
  file_envoy_type_matcher_v3_filter_state,
  file_envoy_type_matcher_v3_metadata,
  file_envoy_type_matcher_v3_number,
  file_envoy_type_matcher_v3_path,
  file_envoy_type_matcher_v3_regex,
  file_envoy_type_matcher_v3_string,
  file_envoy_type_matcher_v3_value,
  file_envoy_type_metadata_v3_metadata,
  file_envoy_type_tracing_v3_custom_tag,
  file_envoy_type_v3_http,
  file_envoy_type_v3_http_status,
  file_envoy_type_v3_percent,
  file_envoy_type_v3_range,
  file_envoy_type_v3_ratelimit_unit,
  file_envoy_type_v3_semantic_version,
  file_envoy_type_v3_token_bucket,
  file_google_api_annotations,
  file_google_api_expr_v1alpha1_checked,
  file_google_api_expr_v1alpha1_syntax,
  file_google_api_http,
  file_google_rpc_status,
  file_udpa_annotations_migrate,
  file_udpa_annotations_security,
  file_udpa_annotations_sensitive,
  file_udpa_annotations_status,
  file_udpa_annotations_versioning,
  file_validate_validate,
  file_xds_annotations_v3_status,
  file_xds_core_v3_authority,
  file_xds_core_v3_collection_entry,
  file_xds_core_v3_context_params,
  file_xds_core_v3_extension,
  file_xds_core_v3_resource_locator,
  file_xds_type_matcher_v3_matcher,
  file_xds_type_matcher_v3_regex,
  file_xds_type_matcher_v3_string,
  file_xds_type_v3_typed_struct,
);
