import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { renderReportHtml } from '../../reports/report-html.js';
import { ProblemSchema, StringEnum } from '../schemas/common.js';
import { mapClosedLoopErrors } from './closed-loop-errors.js';
import type { ClosedLoopPort } from './closed-loop-port.js';

const Query = Type.Object(
  {
    since: Type.Optional(Type.String({ format: 'date-time', description: 'Start of the period (inclusive); defaults to 24 h before `until`.' })),
    until: Type.Optional(Type.String({ format: 'date-time', description: 'End of the period (exclusive); defaults to now.' })),
    format: Type.Optional(StringEnum(['json', 'html'], { description: 'Defaults to json, or html when the client accepts text/html but not JSON.' })),
  },
  { additionalProperties: false },
);

/**
 * GET /v1/reports: the audit report over a period (who called which model, denials, redactions and
 * blocks, alerts, certificate rotations, policy changes, time-window switches, rollouts), as JSON
 * or as a readable, self-contained HTML page (`format=html`).
 */
export function reportRoutes(app: FastifyInstance, port: () => ClosedLoopPort): void {
  app.get<{ Querystring: Static<typeof Query> }>(
    '/v1/reports',
    {
      schema: {
        tags: ['reports'],
        summary: 'Audit report over a period, as JSON or HTML',
        querystring: Query,
        produces: ['application/json', 'text/html'],
        response: { 200: Type.Unknown({ description: 'The AuditReport (JSON) or an HTML page.' }), 400: ProblemSchema },
      },
    },
    async (request, reply) => {
      const report = mapClosedLoopErrors(() => port().report(request.query.since, request.query.until), 'querystring');
      const accept = request.headers.accept ?? '';
      const html = request.query.format === 'html' || (request.query.format === undefined && accept.includes('text/html') && !accept.includes('application/json'));
      if (html) {
        void reply.type('text/html; charset=utf-8').header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'");
        return renderReportHtml(report);
      }
      void reply.type('application/json');
      return JSON.stringify(report);
    },
  );
}
