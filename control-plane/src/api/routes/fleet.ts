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
    snapshotVersion: Type.Optional(
      Type.String({
        description:
          "This type's version_info in the node group's current snapshot: the revision at which its content last changed (absent for SDS, whose versions are per identity).",
      }),
    ),
    inSync: Type.Optional(Type.Boolean({ description: 'This config type is up to date on the node (absent for SDS).' })),
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
    snapshotVersion: Type.Optional(Type.String({ description: "Version of the node group's current snapshot (the store revision it was built from)." })),
    ackedConfigVersion: Type.Optional(
      Type.Integer({
        description:
          "Store revision whose configuration the node runs: its group's snapshot revision when inSync; otherwise the lowest revision ACKed across its config types (SDS excluded: secrets have their own versions).",
      }),
    ),
    inSync: Type.Boolean({
      description:
        "Every subscribed config type (SDS excluded) ACKed its group's current version of the type — or, when later changes left the resources it subscribes untouched, the last version pushed to it — and has no unresolved NACK.",
    }),
  },
  { additionalProperties: false, title: 'FleetNode' },
);

const iso = (d: Date | undefined): string | undefined => (d === undefined ? undefined : d.toISOString());

/** The store revision a version_info names (`12` or `12.w101` with time-window bits); undefined otherwise. */
function revisionOf(version: string | undefined): number | undefined {
  const m = version === undefined ? null : /^(\d+)(?:\.|$)/.exec(version);
  return m === null ? undefined : Number(m[1]);
}

/** A group's current snapshot as the controller serves it (version, and version_info per short type name). */
type GroupVersions = { readonly version: string | undefined; readonly types: Readonly<Record<string, string>> };

/**
 * Whether one config type is current on a stream. Versions are per type: a type keeps the version
 * at which its content last changed, and a commit that does not touch a group does not bump it,
 * so the store revision says nothing about a node. The type is current when the node ACKed the
 * group's current version of it, or ACKed the last version pushed to it: the server evaluates
 * every stream synchronously when a snapshot is published and pushes only when the resources the
 * stream subscribes changed (a named subscription, e.g. a proxyless client's one listener, can
 * leave it on an older version), so "last push ACKed" means nothing newer is owed to it.
 * A NACK newer than the last ACK keeps it out of sync.
 */
function typeInSync(t: StreamStatus['types'][string], current: string | undefined): boolean {
  if (t.ackedVersion === undefined) return false;
  if (t.lastNack !== undefined && (t.ackedAt === undefined || t.lastNack.at > t.ackedAt)) return false;
  return t.ackedVersion === current || t.ackedVersion === t.sentVersion;
}

/** `group` is undefined when the API has no controller; `null` when the controller serves no snapshot for the stream's group. */
function view(s: StreamStatus, group: GroupVersions | null | undefined): Record<string, unknown> {
  const types: Record<string, unknown> = {};
  let configTypes = 0;
  let synced = true;
  for (const [short, t] of Object.entries(s.types)) {
    const isConfig = short !== 'SDS';
    const current = isConfig ? group?.types[short] : undefined;
    // A named type the node never asked anything of (empty subscription, nothing sent) does not count.
    const counts = isConfig && !(t.subscribed.length === 0 && t.sentVersion === undefined && t.ackedVersion === undefined);
    const ok = counts ? typeInSync(t, current) : undefined;
    if (counts) {
      configTypes++;
      synced &&= ok === true;
    }
    types[short] = prune({
      typeUrl: t.typeUrl,
      subscribed: [...t.subscribed],
      sentVersion: t.sentVersion,
      sentAt: iso(t.sentAt),
      ackedVersion: t.ackedVersion,
      ackedAt: iso(t.ackedAt),
      snapshotVersion: current,
      inSync: isConfig ? ok === true : undefined,
      lastNack: t.lastNack === undefined ? undefined : { ...t.lastNack, at: t.lastNack.at.toISOString() },
    });
  }
  const inSync = configTypes > 0 && synced && group !== null && (group === undefined || group.version !== undefined);
  let ackedConfigVersion: number | undefined;
  if (inSync && group !== undefined && group !== null) {
    ackedConfigVersion = revisionOf(group.version);
  } else {
    const acked = Object.entries(s.types)
      .filter(([short]) => short !== 'SDS')
      .map(([, t]) => revisionOf(t.ackedVersion));
    ackedConfigVersion = acked.length === 0 || acked.some((v) => v === undefined) ? undefined : Math.min(...(acked as number[]));
  }
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
    snapshotVersion: group?.version,
    ackedConfigVersion,
    inSync,
  });
}

function prune(o: Record<string, unknown>): Record<string, unknown> {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/**
 * GET /v1/fleet: the connected Envoys (one entry per ADS stream, ordered by node id) with, per xDS
 * type, the version sent and ACKed, the group's current version and the last NACK. A write's
 * meshward-config-version shows up as the ackedVersion of the types it changed (types it left alone
 * keep their older version); `inSync` says the node runs its group's current snapshot.
 */
export function fleetRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const tags = ['fleet'];
  /** The controller's groups once per request (undefined without a controller); a group without a snapshot maps to null. */
  const groupsNow = (): ((group: string) => GroupVersions | null) | undefined => {
    if (ctx.controller === undefined) return undefined;
    const byGroup = new Map(ctx.controller.status().groups.map((g) => [g.group, g] as const));
    return (group) => {
      const g = byGroup.get(group);
      return g === undefined || g.version === undefined ? null : g;
    };
  };
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
      const groupOf = groupsNow();
      return {
        configVersion: ctx.store.revision,
        connected: all.length,
        items: page.items.map((s) => view(s, groupOf?.(s.group))),
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
      const groupOf = groupsNow();
      return { configVersion: ctx.store.revision, items: streams.map((s) => view(s, groupOf?.(s.group))) };
    },
  );
}
