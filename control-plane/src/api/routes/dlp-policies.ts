import type { FastifyInstance } from 'fastify';
import type { DlpPolicy as DlpPolicyModel } from '../../model/index.js';
import type { ApiContext } from '../api-context.js';
import { DlpConfigRefused } from '../dlp-engine.js';
import { ApiError } from '../problem.js';
import { registerResourceRoutes, type ResourceDefinition } from '../resource-routes.js';
import { ProblemSchema } from '../schemas/common.js';
import { DlpPolicy, DryRunRequest, DryRunResult } from '../schemas/dlp-policies.js';

/**
 * A DLP policy's config is accepted only when (1) the filter's own JSON Schema accepts it and
 * (2) the compiled filter's configure step accepts it (run through the emulator host when a DLP
 * engine is wired), so a config the proxies would refuse never reaches them.
 */
export async function checkDlpConfig(config: unknown, ctx: ApiContext, field = '/config'): Promise<void> {
  const issues = ctx.dlpConfigCheck?.(config) ?? [];
  if (issues.length > 0) {
    throw new ApiError('VALIDATION_FAILED', `the filter configuration is invalid: ${issues[0]!.field} ${issues[0]!.reason}`, {
      issues: issues.slice(0, 50),
    });
  }
  if (ctx.dlp !== undefined) {
    const refusal = await ctx.dlp.checkConfig(config);
    if (refusal !== undefined) throw refused(refusal, field);
  }
}

/** `$.detectors.email.action: reason` (the filter's JSONPath) → a 400 naming `/config/detectors/email/action`. */
function refused(reason: string, field: string): ApiError {
  const m = /^\$((?:\.[A-Za-z0-9_-]+|\[\d+\])*): (.*)$/s.exec(reason);
  const pointer = m === null ? field : field + m[1]!.replace(/\[(\d+)\]/g, '.$1').split('.').join('/');
  return ApiError.invalid(pointer, `was refused by the compiled filter: ${m === null ? reason : m[2]!}`);
}

export const dlpPolicyDefinition: ResourceDefinition = {
  kind: 'dlp-policies',
  kindName: 'DlpPolicy',
  description: "DLP policies: the filter's configuration, global or per model",
  body: DlpPolicy,
  namespaced: false,
  check: (spec, ctx) => {
    const scope = spec['scope'] as { kind: string; model?: string };
    if (scope.kind === 'model' && scope.model === undefined) throw ApiError.invalid('/scope/model', 'is required when scope.kind is model');
    if (scope.kind === 'global' && scope.model !== undefined) throw ApiError.invalid('/scope/model', 'must be absent when scope.kind is global');
    return checkDlpConfig(spec['config'], ctx);
  },
  filters: {},
  // The HMAC key of the `hash` redaction style: whoever holds it can test guesses against hashes.
  secretPaths: [['config', 'redaction', 'hash_key']],
};

const DEFAULT_DRY_RUN_PATH = '/v1/chat/completions';

export function dlpPolicyRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{
    Body: { policy?: string; config?: Record<string, unknown>; payload: string; contentType?: string; path?: string; direction?: 'request' | 'response'; caller?: string };
  }>(
    '/v1/dlp-policies/dry-run',
    {
      // Read-only: runs the filter in a sandbox, changes nothing.
      config: { access: 'viewer' },
      schema: {
        tags: ['dlp-policies'],
        summary: 'Run the compiled filter over a sample payload with a stored or given config',
        body: DryRunRequest,
        response: { 200: DryRunResult, 400: ProblemSchema, 404: ProblemSchema, 503: ProblemSchema },
      },
    },
    async (request) => {
      const { policy, config, payload, contentType, path, direction, caller } = request.body;
      if ((policy === undefined) === (config === undefined)) {
        throw ApiError.invalid('', 'give exactly one of policy (a stored policy name) or config (a config to try)');
      }
      if (ctx.dlp === undefined) throw new ApiError('UNAVAILABLE', 'the DLP engine (compiled filter) is not available in this control plane');
      let effective: unknown = config;
      if (policy !== undefined) {
        const stored = ctx.store.get('dlp-policies', policy);
        if (stored === undefined) throw new ApiError('NOT_FOUND', `dlp-policies/${policy} does not exist`);
        effective = (stored.spec as DlpPolicyModel).config;
      } else {
        await checkDlpConfig(config, ctx);
      }
      try {
        return await ctx.dlp.dryRun({
          config: effective,
          payload,
          contentType: contentType ?? 'application/json',
          path: path ?? DEFAULT_DRY_RUN_PATH,
          direction: direction ?? 'request',
          ...(caller === undefined ? {} : { principal: caller }),
        });
      } catch (err) {
        if (err instanceof DlpConfigRefused) throw refused(err.message, '/config');
        throw err;
      }
    },
  );
  registerResourceRoutes(app, dlpPolicyDefinition, ctx);
}
