import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { explainAuthorization } from '../../policy/explain.js';
import { explainBudgets, explainModelAccess } from '../../policy/explain-budget.js';
import type { ApiContext } from '../api-context.js';
import { toMeshModel } from '../model-bridge.js';
import { ApiError } from '../problem.js';
import { ProblemSchema, StringEnum } from '../schemas/common.js';

const Operation = Type.Object(
  {
    method: Type.String({ pattern: '^[A-Z][A-Z0-9-]*$', maxLength: 32, description: 'e.g. POST' }),
    path: Type.String({ pattern: '^/', maxLength: 2048, description: 'e.g. /v1/chat/completions (no query string).' }),
  },
  { additionalProperties: false },
);

const Request = Type.Object(
  {
    caller: Type.Union([Type.String({ minLength: 1, maxLength: 2048 }), Type.Null()], {
      description: "The caller's SPIFFE ID, or null for a plaintext caller.",
    }),
    model: Type.String({ minLength: 1, maxLength: 256, description: 'Model service name or one of its model names.' }),
    operation: Type.Union([StringEnum(['infer', 'read_models', 'admin']), Operation], {
      description: 'A named operation set (its first method/path is used) or an explicit method and path.',
    }),
    time: Type.Optional(Type.String({ format: 'date-time', description: 'Defaults to now.' })),
    workload: Type.Optional(
      Type.String({ pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 127, description: 'The enforcing workload <namespace>/<name>; absent: every policy.' }),
    ),
    headers: Type.Optional(Type.Record(Type.String({ pattern: '^:?[a-z0-9!#$%&\'*+.^_`|~-]+$' }), Type.String({ maxLength: 4096 }), { additionalProperties: false, maxProperties: 64 })),
  },
  { additionalProperties: false },
);

const RuleRef = Type.Object({ policy: Type.String(), rule: Type.Integer() }, { additionalProperties: false });
const Response = Type.Object(
  {
    allowed: Type.Boolean(),
    decision: StringEnum(['ALLOW', 'DENY']),
    decidingRule: Type.Optional(RuleRef),
    reason: Type.String(),
    resolvedModel: Type.Optional(Type.String()),
    applicablePolicies: Type.Array(Type.String()),
    rules: Type.Array(
      Type.Object(
        { policy: Type.String(), rule: Type.Integer(), dryRun: Type.Boolean(), matched: Type.Boolean(), failed: Type.Array(Type.String()) },
        { additionalProperties: false },
      ),
    ),
    shadow: Type.Optional(Type.Object({ allowed: Type.Boolean(), decidingRule: Type.Optional(RuleRef) }, { additionalProperties: false })),
    modelAccess: Type.Optional(
      Type.Object(
        {
          decision: StringEnum(['allowed', 'denied', 'unrestricted']),
          matchingLists: Type.Array(Type.String()),
          allowedBy: Type.Optional(Type.String()),
          reason: Type.String(),
        },
        { additionalProperties: false },
      ),
    ),
    budgets: Type.Optional(
      Type.Array(
        Type.Object(
          {
            budget: Type.String(),
            window: Type.String(),
            windowStart: Type.String(),
            windowEnd: Type.String(),
            tokens: Type.Integer(),
            key: Type.String(),
            spent: Type.Optional(Type.Integer()),
            remaining: Type.Optional(Type.Integer()),
            onExceed: Type.String(),
            dryRun: Type.Boolean(),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    configVersion: Type.Integer(),
    time: Type.String(),
  },
  { additionalProperties: false },
);

/** POST /v1/explain: read-only authorization check against the current config (viewer). */
export function explainRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.post<{
    Body: {
      caller: string | null;
      model: string;
      operation: 'infer' | 'read_models' | 'admin' | { method: string; path: string };
      time?: string;
      workload?: string;
      headers?: Record<string, string>;
    };
  }>(
    '/v1/explain',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['explain'],
        summary: 'Would this caller be allowed to call this model operation at this time, which rule decides, may it use this model, and how much budget is left?',
        body: Request,
        response: { 200: Response, 400: ProblemSchema },
      },
    },
    async (request) => {
      const b = request.body;
      const snapshot = ctx.store.snapshot();
      const mesh = toMeshModel(snapshot, ctx.trustDomain);
      let method: string;
      let path: string;
      if (typeof b.operation === 'string') {
        // A representative call of the set: its first operation's first method and a concrete path.
        const samples = { infer: ['POST', '/v1/chat/completions'], read_models: ['GET', '/v1/models'], admin: ['POST', '/v1/models'] } as const;
        [method, path] = samples[b.operation];
      } else {
        ({ method, path } = b.operation);
      }
      if (b.workload !== undefined && snapshot.get('workloads', b.workload) === undefined) {
        throw ApiError.invalid('/workload', `workload ${b.workload} does not exist`);
      }
      const time = b.time === undefined ? ctx.now() : new Date(b.time);
      const result = explainAuthorization(mesh, {
        caller: b.caller ?? undefined,
        model: b.model,
        method,
        path,
        time,
        ...(b.headers === undefined ? {} : { headers: b.headers }),
        ...(b.workload === undefined ? {} : { workload: b.workload }),
      });
      // Model access lists and budgets (model/budget.ts): what the filter would decide on the body's model.
      const modelAccess = stripUndefined(explainModelAccess(mesh, b.caller ?? undefined, b.model));
      const usage = app.budgetLeases;
      const budgets = explainBudgets(mesh, b.caller ?? undefined, b.model, result.resolvedModel, time, usage === undefined ? undefined : (n, k) => usage.usage(n, k)).map(stripUndefined);
      return { ...stripUndefined(result), modelAccess, budgets, configVersion: snapshot.revision, time: time.toISOString() };
    },
  );
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
