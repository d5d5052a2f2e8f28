import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ApiContext } from '../api-context.js';
import { ApiError } from '../problem.js';
import { ProblemSchema } from '../schemas/common.js';

const failure = (description: string) =>
  Type.Object(
    {
      code: Type.String({ description: 'Controller error code, e.g. INVALID_MODEL, UNTRANSLATABLE, INCONSISTENT.' }),
      message: Type.String(),
      revision: Type.Integer({ description: 'Store revision whose build failed.' }),
    },
    { additionalProperties: false, description },
  );

const Group = Type.Object(
  {
    group: Type.String({ description: 'Node group key, e.g. role=gateway;workload=ai/edge.' }),
    version: Type.Optional(Type.String({ description: 'Version of the snapshot being served (absent: none yet).' })),
    types: Type.Record(Type.String(), Type.String(), {
      description: "version_info served per config type (LDS, RDS, CDS, EDS, ECDS): the revision at which that type's content last changed.",
    }),
    connectedStreams: Type.Integer({ description: 'ADS streams of this group connected now.' }),
    error: Type.Optional(failure('Why the latest build of this group failed; its previous snapshot keeps serving.')),
  },
  { additionalProperties: false, title: 'ControllerGroup' },
);

const FailingGroup = Type.Object(
  { group: Type.String(), version: Type.Optional(Type.String({ description: 'Snapshot still being served, if any.' })), error: failure('Why its latest build failed.') },
  { additionalProperties: false },
);

const ControllerStatusSchema = Type.Object(
  {
    storeRevision: Type.Integer({ description: 'Latest committed store revision (the config version writes return).' }),
    publishedRevision: Type.Optional(Type.Integer({ description: 'Revision of the latest publish that succeeded.' })),
    inSyncWithStore: Type.Boolean({ description: 'The latest committed revision is published (no pending or refused change).' }),
    lastPublishAt: Type.Optional(Type.String({ format: 'date-time', description: 'When the latest publish attempt ended (published or refused).' })),
    lastPublishedAt: Type.Optional(Type.String({ format: 'date-time', description: 'When the latest successful publish ended.' })),
    nextWindowFlip: Type.Optional(
      Type.String({ format: 'date-time', description: 'When the next authorization time-window transition re-publishes.' }),
    ),
    error: Type.Optional(failure('Set when the whole latest publish was refused (e.g. the stored model is invalid); every group keeps its snapshot.')),
    groups: Type.Array(Group),
    failingGroups: Type.Array(FailingGroup, { description: 'The groups whose latest build failed, with the reason.' }),
  },
  { additionalProperties: false, title: 'ControllerStatus' },
);

const iso = (d: Date | undefined): string | undefined => (d === undefined ? undefined : d.toISOString());

/**
 * GET /v1/controller (viewer): what the controller publishes — the revision it last published
 * and when, each node group's snapshot version (and per-type versions) with its connected streams,
 * and the groups (or the whole publish) it could not build, with the error. 503 when the API runs
 * without a controller.
 */
export function controllerRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get(
    '/v1/controller',
    {
      schema: {
        tags: ['fleet'],
        summary: 'The controller: published revision, node groups and their versions, failures',
        response: { 200: ControllerStatusSchema, 503: ProblemSchema },
      },
    },
    async () => {
      if (ctx.controller === undefined) throw new ApiError('UNAVAILABLE', 'no controller runs in this control plane (the API was started without one)');
      const s = ctx.controller.status();
      const streams = new Map<string, number>();
      for (const st of ctx.fleet?.streams() ?? []) streams.set(st.group, (streams.get(st.group) ?? 0) + 1);
      const groups = s.groups.map((g) =>
        prune({ group: g.group, version: g.version, types: { ...g.types }, connectedStreams: streams.get(g.group) ?? 0, error: g.error === undefined ? undefined : { ...g.error } }),
      );
      return prune({
        storeRevision: s.storeRevision,
        publishedRevision: s.publishedRevision,
        inSyncWithStore: s.error === undefined && s.publishedRevision === s.storeRevision,
        lastPublishAt: iso(s.lastPublishAt),
        lastPublishedAt: iso(s.lastPublishedAt),
        nextWindowFlip: iso(s.nextWindowFlip),
        error: s.error === undefined ? undefined : { ...s.error },
        groups,
        failingGroups: s.groups
          .filter((g) => g.error !== undefined)
          .map((g) => prune({ group: g.group, version: g.version, error: { ...g.error! } })),
      });
    },
  );
}

function prune<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}
