import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { StreamStatus } from '../../xds/fleet-view.js';
import type { ApiContext } from '../api-context.js';
import { ApiError } from '../problem.js';
import { paginate } from '../resource-routes.js';
import { ProblemSchema } from '../schemas/common.js';

const TypeState = Type.Object(
  {
    typeUrl: Type.String(),
    subscribed: Type.Array(Type.String()),
    sentVersion: Type.Optional(Type.String()),
    sentAt: Type.Optional(Type.String()),
    ackedVersion: Type.Optional(Type.String()),
    ackedAt: Type.Optional(Type.String()),
    lastNack: Type.Optional(
      Type.Object(
        { version: Type.String(), nonce: Type.String(), code: Type.Integer(), message: Type.String(), at: Type.String() },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const Node = Type.Object(
  {
    nodeId: Type.String(),
    cluster: Type.String(),
    group: Type.String(),
    identity: Type.Optional(Type.Unknown({ description: 'How the stream proved its identity (SPIFFE ID and method).' })),
    peer: Type.String(),
    protocol: Type.String({ description: 'sotw or delta' }),
    streamId: Type.Integer(),
    connectedSince: Type.String(),
    lastSeen: Type.String(),
    staleRequests: Type.Optional(Type.Integer({ description: 'Requests with a stale or unknown nonce (ignored, as Envoy expects).' })),
    unknownTypeRequests: Type.Optional(Type.Integer({ description: 'Requests for type URLs this server does not serve.' })),
    types: Type.Record(Type.String(), TypeState, { description: 'Per xDS type (LDS, RDS, CDS, EDS, SDS, ECDS).' }),
    ackedConfigVersion: Type.Optional(
      Type.Integer({ description: 'Lowest store revision ACKed across the subscribed config types (SDS excluded: secrets have their own versions).' }),
    ),
    inSync: Type.Boolean({ description: 'Every subscribed config type ACKed the current config version (or later) and none has an unresolved NACK.' }),
  },
  { additionalProperties: false, title: 'FleetNode' },
);

const iso = (d: Date | undefined): string | undefined => (d === undefined ? undefined : d.toISOString());

/** The store revision a version_info names (`12` or `12.w101` with time-window bits); undefined otherwise. */
function revisionOf(version: string | undefined): number | undefined {
  const m = version === undefined ? null : /^(\d+)(?:\.|$)/.exec(version);
  return m === null ? undefined : Number(m[1]);
}

function view(s: StreamStatus, configVersion: number): Record<string, unknown> {
  const types: Record<string, unknown> = {};
  for (const [short, t] of Object.entries(s.types)) {
    types[short] = prune({
      typeUrl: t.typeUrl,
      subscribed: [...t.subscribed],
      sentVersion: t.sentVersion,
      sentAt: iso(t.sentAt),
      ackedVersion: t.ackedVersion,
      ackedAt: iso(t.ackedAt),
      lastNack: t.lastNack === undefined ? undefined : { ...t.lastNack, at: t.lastNack.at.toISOString() },
    });
  }
  const config = Object.entries(s.types).filter(([short]) => short !== 'SDS');
  const acked = config.map(([, t]) => revisionOf(t.ackedVersion));
  const ackedConfigVersion = acked.length === 0 || acked.some((v) => v === undefined) ? undefined : Math.min(...(acked as number[]));
  const nacked = config.some(([, t]) => t.lastNack !== undefined && (t.ackedAt === undefined || t.lastNack.at > t.ackedAt));
  return prune({
    nodeId: s.nodeId,
    cluster: s.cluster,
    group: s.group,
    identity: s.identity,
    peer: s.peer,
    protocol: s.protocol,
    streamId: s.streamId,
    connectedSince: s.connectedSince.toISOString(),
    lastSeen: s.lastSeen.toISOString(),
    staleRequests: (s as { staleRequests?: number }).staleRequests,
    unknownTypeRequests: (s as { unknownTypeRequests?: number }).unknownTypeRequests,
    types,
    ackedConfigVersion,
    inSync: ackedConfigVersion !== undefined && ackedConfigVersion >= configVersion && !nacked,
  });
}

function prune(o: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/**
 * GET /v1/fleet: the connected Envoys (one entry per ADS stream, ordered by node id) with, per xDS
 * type, the version sent and ACKed and the last NACK — compare ackedVersion with the
 * meshward-config-version a write returned to see when a change reached each proxy.
 */
export function fleetRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const tags = ['fleet'];
  const sorted = (): StreamStatus[] =>
    (ctx.fleet?.streams() ?? []).sort((a, b) => (a.nodeId === b.nodeId ? a.streamId - b.streamId : a.nodeId < b.nodeId ? -1 : 1));
  app.get<{ Querystring: { limit?: number; cursor?: string } }>(
    '/v1/fleet',
    {
      schema: {
        tags,
        summary: 'Connected Envoys and what they ACKed',
        querystring: Type.Object(
          { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })), cursor: Type.Optional(Type.String({ maxLength: 512 })) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ configVersion: Type.Integer(), connected: Type.Integer(), items: Type.Array(Node), nextCursor: Type.Optional(Type.String()) }),
          400: ProblemSchema,
        },
      },
    },
    async (request) => {
      const all = sorted();
      const page = paginate(all, (s) => `${s.nodeId}\u0000${String(s.streamId).padStart(12, '0')}`, request.query);
      return {
        configVersion: ctx.store.revision,
        connected: all.length,
        items: page.items.map((s) => view(s, ctx.store.revision)),
        ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
      };
    },
  );
  app.get<{ Params: { nodeId: string } }>(
    '/v1/fleet/:nodeId',
    {
      schema: {
        tags,
        summary: "One node's streams",
        params: Type.Object({ nodeId: Type.String({ minLength: 1, maxLength: 1024 }) }, { additionalProperties: false }),
        response: { 200: Type.Object({ configVersion: Type.Integer(), items: Type.Array(Node) }), 404: ProblemSchema },
      },
    },
    async (request) => {
      const streams = ctx.fleet?.byNode(request.params.nodeId) ?? [];
      if (streams.length === 0) throw new ApiError('NOT_FOUND', `no connected node ${request.params.nodeId}`);
      return { configVersion: ctx.store.revision, items: streams.map((s) => view(s, ctx.store.revision)) };
    },
  );
}
