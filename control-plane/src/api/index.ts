/**
 * The REST API's public surface (see README.md in this directory). Wiring only.
 */
export { createApp, meshwardApi, updateApiTls, type ApiOptions, type AppOptions, type ApiTlsOptions, type RouteAccess } from './app.js';
export { bootstrapAdminToken, ADMIN_TOKEN_FILE, type BootstrapResult } from './bootstrap.js';
export { issueApiToken, verifyApiToken, type IssuedToken } from './api-token.js';
export { createDlpEngine, DlpConfigRefused, type DlpEngineOptions, type DryRunHost, type DryRunHostFactory, type DryRunStream } from './dlp-engine.js';
export { buildOpenApiDocument } from './openapi-document.js';
export { ApiError, API_ERRORS, toProblem, PROBLEM_CONTENT_TYPE, type ApiErrorCode, type Problem, type ProblemIssue } from './problem.js';
export type { CertificateAuthorityPort, DlpEnginePort, DlpDryRunResult, DlpFinding } from './ports.js';
export type { PublishReport } from './fleet-metrics.js';
export { CONFIG_VERSION_HEADER, DRY_RUN_HEADER } from './resource-routes.js';
