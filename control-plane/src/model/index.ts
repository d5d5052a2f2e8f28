/** The domain model's public surface (plain types and pure helpers; no protobuf). */
export * from './authorization-policy.js';
export * from './authorize.js';
export * from './budget.js';
export * from './dlp-policy.js';
export * from './filter-module.js';
export * from './mesh-model.js';
export * from './mesh-settings.js';
export * from './model-service.js';
export * from './path-pattern.js';
export * from './rate-limit.js';
export * from './spiffe-id.js';
export * from './time-window.js';
export * from './validate-mesh-model.js';
export * from './validation-issue.js';
export * from './workload.js';
