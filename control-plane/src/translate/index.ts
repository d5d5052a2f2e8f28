/** translate/'s public surface: pure domain model → Envoy resources. */
export * from './check-consistency.js';
export * from './clusters.js';
export * from './envoy-registry.js';
export * from './http-connection-manager.js';
export * from './listeners.js';
export * from './names.js';
export * from './node-group-of.js';
export * from './proxyless.js';
export * from './rate-limit.js';
export * from './rbac.js';
export * from './routes.js';
export * from './tls.js';
export * from './translate-all.js';
export * from './translate-error.js';
export * from './translated-resources.js';
export * from './validate-proto-rules.js';
export * from './wasm.js';
