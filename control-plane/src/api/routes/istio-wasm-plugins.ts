import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { DlpPolicy } from '../../model/dlp-policy.js';
import { filterConfigOf } from '../../translate/budget-config.js';
import { toMeshModel } from '../model-bridge.js';
import { buildWasmPlugin, IMAGE_PULL_POLICIES, WASM_PLUGIN_PHASES, WasmPluginError, type ImagePullPolicy, type WasmPluginPhase } from '../../istio/wasm-plugin.js';
import type { ApiContext } from '../api-context.js';
import { ApiError } from '../problem.js';
import { ProblemSchema, StringEnum } from '../schemas/common.js';

const Query = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'Where proxies fetch the module: oci://registry/repo:tag, https://..., file:///...' }),
    sha256: Type.Optional(Type.String({ description: 'oci: the image manifest digest; http(s): the module digest (64 hex).' })),
    name: Type.Optional(Type.String({ maxLength: 63, description: 'metadata.name; defaults to meshward-<policy>.' })),
    namespace: Type.Optional(Type.String({ maxLength: 63 })),
    selector: Type.Optional(Type.String({ maxLength: 4096, description: 'Comma-separated key=value workload labels (spec.selector.matchLabels).' })),
    phase: Type.Optional(StringEnum([...WASM_PLUGIN_PHASES], { description: 'Defaults to STATS (after Istio authn/authz).' })),
    priority: Type.Optional(Type.Integer({ minimum: -2147483648, maximum: 2147483647, description: 'Defaults to 10.' })),
    imagePullPolicy: Type.Optional(StringEnum([...IMAGE_PULL_POLICIES], { description: 'Defaults to IfNotPresent.' })),
    imagePullSecret: Type.Optional(Type.String({ maxLength: 253 })),
    ports: Type.Optional(Type.String({ maxLength: 512, description: 'Comma-separated inbound ports to apply to; defaults to all.' })),
  },
  { additionalProperties: false },
);

type QueryType = {
  url: string;
  sha256?: string;
  name?: string;
  namespace?: string;
  selector?: string;
  phase?: WasmPluginPhase;
  priority?: number;
  imagePullPolicy?: ImagePullPolicy;
  imagePullSecret?: string;
  ports?: string;
};

/** `app=chat,tier=model` → `{ app: 'chat', tier: 'model' }`; a usage error names the bad pair. */
export function parseSelector(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of raw.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new WasmPluginError('selector', `"${pair}" must be key=value`);
    const key = pair.slice(0, eq);
    if (key in out) throw new WasmPluginError('selector', `"${key}" given twice`);
    out[key] = pair.slice(eq + 1);
  }
  return out;
}

export function parsePorts(raw: string): number[] {
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const n = Number(s);
      if (!/^\d+$/.test(s) || n < 1 || n > 65535) throw new WasmPluginError('ports', `"${s}" is not a port (1-65535)`);
      return n;
    });
}

/**
 * GET /v1/dlp-policies/{name}/wasm-plugin: the Istio WasmPlugin resource that deploys the meshward
 * filter with this policy's config (see control-plane/src/istio/wasm-plugin.ts). Admin only: the
 * resource carries the full filter config, including secrets such as the hash redaction key.
 */
export function istioWasmPluginRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get<{ Params: { name: string }; Querystring: QueryType }>(
    '/v1/dlp-policies/:name/wasm-plugin',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['dlp-policies'],
        summary: 'The Istio WasmPlugin (extensions.istio.io/v1alpha1) deploying the filter with this policy',
        params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 63 }) }, { additionalProperties: false }),
        querystring: Query,
        response: { 200: Type.Object({}, { additionalProperties: true, title: 'WasmPlugin' }), 400: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (request) => {
      const stored = ctx.store.get('dlp-policies', request.params.name);
      if (stored === undefined) throw new ApiError('NOT_FOUND', `dlp-policies/${request.params.name} does not exist`);
      const q = request.query;
      try {
        // The global policy also carries the mesh's budgets and model access lists (as over ECDS).
        const policy = stored.spec as DlpPolicy;
        const withBudgets = { ...policy, config: filterConfigOf(toMeshModel(ctx.store.snapshot(), ctx.trustDomain), policy) };
        return buildWasmPlugin(withBudgets, {
          url: q.url,
          ...(q.sha256 === undefined ? {} : { sha256: q.sha256 }),
          ...(q.name === undefined ? {} : { name: q.name }),
          ...(q.namespace === undefined ? {} : { namespace: q.namespace }),
          ...(q.selector === undefined ? {} : { selector: parseSelector(q.selector) }),
          ...(q.phase === undefined ? {} : { phase: q.phase }),
          ...(q.priority === undefined ? {} : { priority: q.priority }),
          ...(q.imagePullPolicy === undefined ? {} : { imagePullPolicy: q.imagePullPolicy }),
          ...(q.imagePullSecret === undefined ? {} : { imagePullSecret: q.imagePullSecret }),
          ...(q.ports === undefined ? {} : { ports: parsePorts(q.ports) }),
        });
      } catch (err) {
        if (err instanceof WasmPluginError) throw ApiError.invalid(err.field.split('.')[0]!, err.reason, 'querystring');
        throw err;
      }
    },
  );
}
