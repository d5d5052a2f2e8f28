import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { SEVERITIES, THRESHOLD_OPS } from '../../alerts/alert-rule.js';
import type { StoredAlertRule } from '../../alerts/alert-store.js';
import { DIMENSIONS } from '../../signals/signal-names.js';
import { checkIfMatch, etagOf, parseEntityTags } from '../preconditions.js';
import { ApiError } from '../problem.js';
import { ProblemSchema, StringEnum } from '../schemas/common.js';
import { mapClosedLoopErrors } from './closed-loop-errors.js';
import type { ClosedLoopPort } from './closed-loop-port.js';

const RuleName = Type.String({ pattern: '^[a-z0-9]([-a-z0-9._]*[a-z0-9])?$', maxLength: 63 });

export const AlertRuleBody = Type.Object(
  {
    name: RuleName,
    description: Type.Optional(Type.String({ maxLength: 1024 })),
    signal: Type.String({ maxLength: 80, description: 'requests, request_rate, denials, denial_ratio, rbac_denials, mtls_failures, shadow_denials, rate_limited, errors, error_ratio, dlp_findings, dlp_finding_ratio, dlp_findings:<detector>, dlp_alerted, dlp_redacted, dlp_blocked, request_bytes, response_bytes, latency_ms_mean, latency_ms_p95, tokens_input, tokens_output.' }),
    dimension: StringEnum([...DIMENSIONS], { description: 'identity (caller SPIFFE ID), model, or version (`<model>|<version>`).' }),
    match: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'Glob over the series key; defaults to *.' })),
    condition: Type.Union([
      Type.Object({ kind: Type.Literal('threshold'), op: Type.Optional(StringEnum([...THRESHOLD_OPS])), value: Type.Number() }, { additionalProperties: false }),
      Type.Object({ kind: Type.Literal('anomaly'), minScore: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1000 })), direction: Type.Optional(StringEnum(['up', 'down', 'both'])) }, { additionalProperties: false }),
    ]),
    windowSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Threshold window; a multiple of the signal bucket, at most the signal window.' })),
    for: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Consecutive evaluations before firing (default 1).' })),
    resolveAfter: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Consecutive clear evaluations before resolving (default 1).' })),
    minRequests: Type.Optional(Type.Integer({ minimum: 0, description: 'Requests the series needs in the window (default 0).' })),
    severity: StringEnum([...SEVERITIES]),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, title: 'AlertRule' },
);

const StoredRule = Type.Object(
  {
    rule: Type.Unknown({ description: 'The rule with defaults applied.' }),
    version: Type.Integer(),
    createdAt: Type.String(),
    updatedAt: Type.String(),
    updatedBy: Type.String(),
  },
  { additionalProperties: false, title: 'StoredAlertRule' },
);
const Params = Type.Object({ name: RuleName }, { additionalProperties: false });
const tags = ['alerts'];

const view = (r: StoredAlertRule) => ({ rule: r.rule, version: r.version, createdAt: r.createdAt, updatedAt: r.updatedAt, updatedBy: r.updatedBy });

/**
 * /v1/alert-rules: list, read (ETag), create (POST), replace (PUT with If-Match, or create when
 * absent), delete (If-Match optional). Changes are validated against the signal engine (signal
 * names, detectors, window) and audited (kind `alert-rules`).
 */
export function alertRuleRoutes(app: FastifyInstance, port: () => ClosedLoopPort): void {
  app.get('/v1/alert-rules', { schema: { tags, summary: 'List alert rules', response: { 200: Type.Object({ items: Type.Array(StoredRule) }) } } }, async () => ({
    items: port().alerts.listRules().map(view),
  }));

  app.get<{ Params: Static<typeof Params> }>(
    '/v1/alert-rules/:name',
    { schema: { tags, summary: 'Read an alert rule', params: Params, response: { 200: StoredRule, 404: ProblemSchema } } },
    async (request, reply) => {
      const r = port().alerts.getRule(request.params.name);
      if (r === undefined) throw new ApiError('NOT_FOUND', `alert rule ${request.params.name} does not exist`);
      void reply.header('etag', etagOf(r.version));
      return view(r);
    },
  );

  app.post<{ Body: Static<typeof AlertRuleBody> }>(
    '/v1/alert-rules',
    { schema: { tags, summary: 'Create an alert rule', body: AlertRuleBody, response: { 201: StoredRule, 400: ProblemSchema, 409: ProblemSchema } } },
    async (request, reply) => {
      const { stored } = mapClosedLoopErrors(() => port().alerts.putRule(request.body, request.principal!.name, { createOnly: true }));
      void reply.code(201).header('etag', etagOf(stored.version)).header('location', `/v1/alert-rules/${stored.rule.name}`);
      return view(stored);
    },
  );

  app.put<{ Params: Static<typeof Params>; Body: Static<typeof AlertRuleBody> }>(
    '/v1/alert-rules/:name',
    { schema: { tags, summary: 'Replace (or create) an alert rule; If-Match required to replace', params: Params, body: AlertRuleBody, response: { 200: StoredRule, 201: StoredRule, 400: ProblemSchema, 412: ProblemSchema, 428: ProblemSchema } } },
    async (request, reply) => {
      if (request.body.name !== request.params.name) throw ApiError.invalid('/name', `must equal the name in the path (${request.params.name})`);
      const current = port().alerts.getRule(request.params.name);
      const ifMatch = parseEntityTags(request.headers['if-match'], 'if-match');
      let expected: number | undefined;
      if (current !== undefined) {
        if (ifMatch === undefined) throw new ApiError('PRECONDITION_REQUIRED', `alert rule ${request.params.name} exists: send If-Match with its ETag to replace it`);
        expected = checkIfMatch(ifMatch, current.version, `alert-rules/${request.params.name}`);
      }
      const { stored, created } = mapClosedLoopErrors(() => port().alerts.putRule(request.body, request.principal!.name, expected === undefined ? { createOnly: true } : { ifMatch: expected }));
      void reply.code(created ? 201 : 200).header('etag', etagOf(stored.version));
      return view(stored);
    },
  );

  app.delete<{ Params: Static<typeof Params> }>(
    '/v1/alert-rules/:name',
    { schema: { tags, summary: 'Delete an alert rule (its open alerts resolve at the next evaluation)', params: Params, response: { 204: Type.Null(), 404: ProblemSchema, 412: ProblemSchema } } },
    async (request, reply) => {
      const ifMatch = parseEntityTags(request.headers['if-match'], 'if-match');
      const current = port().alerts.getRule(request.params.name);
      if (current === undefined) throw new ApiError('NOT_FOUND', `alert rule ${request.params.name} does not exist`);
      const expected = ifMatch === undefined ? undefined : checkIfMatch(ifMatch, current.version, `alert-rules/${request.params.name}`);
      mapClosedLoopErrors(() => port().alerts.deleteRule(request.params.name, request.principal!.name, expected));
      return reply.code(204).send();
    },
  );
}
