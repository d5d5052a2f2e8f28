import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { SEVERITIES } from '../../alerts/alert-rule.js';
import type { Alert } from '../../alerts/alert-store.js';
import { DIMENSIONS } from '../../signals/signal-names.js';
import { ApiError } from '../problem.js';
import { ProblemSchema, StringEnum } from '../schemas/common.js';
import { mapClosedLoopErrors } from './closed-loop-errors.js';
import type { ClosedLoopPort } from './closed-loop-port.js';

const AlertSchema = Type.Object(
  {
    id: Type.Integer(),
    rule: Type.String(),
    severity: StringEnum([...SEVERITIES]),
    dimension: Type.String(),
    key: Type.String(),
    signal: Type.String(),
    state: StringEnum(['firing', 'resolved']),
    firedAt: Type.String(),
    resolvedAt: Type.Optional(Type.String()),
    value: Type.Optional(Type.Number()),
    score: Type.Optional(Type.Number()),
    threshold: Type.Optional(Type.Number()),
    summary: Type.String(),
    labels: Type.Record(Type.String(), Type.String()),
  },
  { additionalProperties: false, title: 'Alert' },
);

const Query = Type.Object(
  {
    state: Type.Optional(StringEnum(['firing', 'resolved'])),
    rule: Type.Optional(Type.String({ maxLength: 128 })),
    dimension: Type.Optional(Type.String({ maxLength: 32 })),
    key: Type.Optional(Type.String({ maxLength: 1024 })),
    severity: Type.Optional(StringEnum([...SEVERITIES])),
    since: Type.Optional(Type.String({ format: 'date-time', description: 'firedAt ≥ since.' })),
    until: Type.Optional(Type.String({ format: 'date-time', description: 'firedAt < until.' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    before: Type.Optional(Type.Integer({ minimum: 1, description: 'Page: alerts with a smaller id (the previous page’s nextBefore).' })),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });
const SignalQuery = Type.Object(
  { dimension: Type.Optional(StringEnum([...DIMENSIONS])), key: Type.Optional(Type.String({ maxLength: 1024 })) },
  { additionalProperties: false },
);
const tags = ['alerts'];

const view = (a: Alert): Record<string, unknown> => {
  const out: Record<string, unknown> = { ...a };
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
};

/**
 * GET /v1/alerts (fired and resolved alerts, newest first, filtered and paginated), GET
 * /v1/alerts/{id}, POST /v1/alerts/{id}/resolve (close an alert by hand, e.g. a rollout rollback
 * after review), and GET /v1/signals (the current window's values and anomaly scores per series).
 */
export function alertRoutes(app: FastifyInstance, port: () => ClosedLoopPort): void {
  app.get<{ Querystring: Static<typeof Query> }>(
    '/v1/alerts',
    { schema: { tags, summary: 'Query fired and resolved alerts', querystring: Query, response: { 200: Type.Object({ items: Type.Array(AlertSchema), nextBefore: Type.Optional(Type.Integer()) }), 400: ProblemSchema } } },
    async (request) => {
      const page = port().alerts.store.queryAlerts(request.query);
      return { items: page.items.map(view), ...(page.nextBefore === undefined ? {} : { nextBefore: page.nextBefore }) };
    },
  );

  app.get<{ Params: Static<typeof IdParams> }>(
    '/v1/alerts/:id',
    { schema: { tags, summary: 'Read one alert', params: IdParams, response: { 200: AlertSchema, 404: ProblemSchema } } },
    async (request) => {
      const a = port().alerts.store.getAlert(request.params.id);
      if (a === undefined) throw new ApiError('NOT_FOUND', `alert ${request.params.id} does not exist`);
      return view(a);
    },
  );

  app.post<{ Params: Static<typeof IdParams> }>(
    '/v1/alerts/:id/resolve',
    { schema: { tags, summary: 'Resolve an alert by hand (sinks get a resolved event)', params: IdParams, response: { 200: AlertSchema, 404: ProblemSchema, 409: ProblemSchema } } },
    async (request) => view(mapClosedLoopErrors(() => port().alerts.resolve(request.params.id))),
  );

  app.get<{ Querystring: Static<typeof SignalQuery> }>(
    '/v1/signals',
    {
      schema: {
        tags,
        summary: 'Signals over the current window per identity, model and version, with anomaly scores',
        querystring: SignalQuery,
        response: { 200: Type.Object({ items: Type.Array(Type.Unknown()), bucketSeconds: Type.Number(), windowSeconds: Type.Number() }), 400: ProblemSchema },
      },
    },
    async (request) => {
      const s = port().signals;
      return {
        items: s.snapshot({ ...(request.query.dimension === undefined ? {} : { dimension: request.query.dimension }), ...(request.query.key === undefined ? {} : { key: request.query.key }) }),
        bucketSeconds: s.bucketMs / 1000,
        windowSeconds: (s.bucketMs * s.windowBuckets) / 1000,
      };
    },
  );
}
