import { Type, type TObject, type TProperties, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decodeCursor, encodeCursor, pageLimit } from '../store/cursor.js';
import type { ResourceKind, StoredResource } from '../store/store.js';
import type { ApiContext } from './api-context.js';
import { etagOf, checkIfMatch, parseEntityTags } from './preconditions.js';
import { ApiError } from './problem.js';
import { maskSecrets, restoreSecrets, type SecretPath } from './secret-fields.js';
import { Metadata, ProblemSchema } from './schemas/common.js';

/** Response header carrying the store revision a write produced (or the current one on reads). */
export const CONFIG_VERSION_HEADER = 'meshward-config-version';
/** Set (to `true`) on responses of `?dryRun=true` writes: everything was checked, nothing written. */
export const DRY_RUN_HEADER = 'meshward-dry-run';

/**
 * `?dryRun=true` on any write: run every check (schema, model, translation, preconditions) and
 * answer with what would be stored, writing nothing (like `kubectl --dry-run=server`).
 */
export const WriteQuery = Type.Object(
  { dryRun: Type.Optional(Type.Boolean({ description: 'Check only: validate fully and return the result without writing.' })) },
  { additionalProperties: false },
);

export function isDryRun(request: FastifyRequest): boolean {
  return (request.query as { dryRun?: boolean } | undefined)?.dryRun === true;
}

/**
 * A resource kind served under /v1/<kind> with the standard verbs:
 * - `GET /v1/<kind>`: list, ordered by key, paginated (`limit`, `cursor`).
 * - `POST /v1/<kind>`: create; 201 + Location + ETag; 409 if it exists.
 * - `GET /v1/<kind>/<key>`: read; ETag; `If-None-Match` → 304.
 * - `PUT /v1/<kind>/<key>`: replace; **If-Match required** (428 without, 412 on mismatch; `*`
 *   accepted to overwrite knowingly); an identical body is a no-op (no new version).
 * - `DELETE /v1/<kind>/<key>`: delete; If-Match optional (412 on mismatch).
 * The body is the domain object itself (e.g. a Workload); `kind`, `metadata` and `status` from a
 * previous GET may be sent back and are ignored. Every write is validated by the schema, then the
 * kind's own `check`, then the whole candidate model (ApiContext.validate), and only then committed.
 */
export interface ResourceDefinition {
  readonly kind: ResourceKind;
  /** Singular, PascalCase: the `kind` field of responses. */
  readonly kindName: string;
  /** OpenAPI tag and docs. */
  readonly description: string;
  /** The domain object's schema, including its `name` (and `namespace` for namespaced kinds). */
  readonly body: TObject;
  /** Namespaced kinds are addressed `/v1/<kind>/<namespace>/<name>` and stored as `<namespace>/<name>`. */
  readonly namespaced: boolean;
  /** Server-derived, read-only fields. */
  readonly status?: { readonly schema: TSchema; of(resource: StoredResource, ctx: ApiContext): unknown };
  /** Checks that need more than the schema (and less than the whole model). Throw ApiError to refuse. */
  readonly check?: (spec: Record<string, unknown>, ctx: ApiContext) => void | Promise<void>;
  /**
   * A field of the stored object that the server owns (e.g. a rollout's progress): not writable
   * (absent from `body`), set to `initial` on create, carried over unchanged by PUT, and hidden
   * from the response's top level (a `status` view shows it).
   */
  readonly serverOwned?: { readonly key: string; initial(spec: Record<string, unknown>): unknown };
  /** Write-only fields (paths into the spec): masked in responses and audit views; see secret-fields.ts. */
  readonly secretPaths?: readonly SecretPath[];
  /** Extra list filters (query parameter → predicate over the stored spec). */
  readonly filters?: Readonly<Record<string, { readonly schema: TSchema; matches(spec: unknown, value: string): boolean }>>;
}

const IGNORED_ON_WRITE = ['kind', 'metadata', 'status'] as const;

const KeyName = Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9._]{0,61}[a-z0-9])?$' });
const KeyLabel = Type.String({ minLength: 1, maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$' });

export function storeKeyOf(def: ResourceDefinition, spec: { name?: unknown; namespace?: unknown }): string {
  return def.namespaced ? `${String(spec.namespace)}/${String(spec.name)}` : String(spec.name);
}

/** The response representation of a stored resource. */
export function present(def: ResourceDefinition, r: StoredResource, ctx: ApiContext): Record<string, unknown> {
  const spec = def.secretPaths === undefined ? r.spec : maskSecrets(r.spec, def.secretPaths);
  const out: Record<string, unknown> = { kind: def.kindName, ...(spec as Record<string, unknown>) };
  if (def.serverOwned !== undefined) delete out[def.serverOwned.key];
  if (def.status !== undefined) out['status'] = def.status.of(r, ctx);
  out['metadata'] = {
    resourceVersion: r.resourceVersion,
    generation: r.generation,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    createdBy: r.createdBy,
    updatedBy: r.updatedBy,
  };
  return out;
}

export function responseSchema(def: ResourceDefinition): TObject {
  const props: TProperties = { kind: Type.Literal(def.kindName), ...def.body.properties };
  if (def.status !== undefined) props['status'] = def.status.schema;
  props['metadata'] = Metadata;
  return Type.Object(props, { additionalProperties: false, title: def.kindName });
}

function writeBodySchema(def: ResourceDefinition, forUpdate: boolean): TObject {
  const props: TProperties = { ...def.body.properties };
  const keyFields = def.namespaced ? ['name', 'namespace'] : ['name'];
  if (forUpdate) for (const k of keyFields) props[k] = Type.Optional(props[k]!);
  props['kind'] = Type.Optional(Type.Literal(def.kindName));
  props['metadata'] = Type.Optional(Type.Object({}, { additionalProperties: true, description: 'Ignored on writes.' }));
  props['status'] = Type.Optional(Type.Object({}, { additionalProperties: true, description: 'Ignored on writes.' }));
  return Type.Object(props, { additionalProperties: false, ...(def.body.description === undefined ? {} : { description: def.body.description }) });
}

function specOf(body: Record<string, unknown>): Record<string, unknown> {
  const spec = { ...body };
  for (const k of IGNORED_ON_WRITE) delete spec[k];
  return spec;
}

function actorOf(request: FastifyRequest): string {
  return request.principal?.name ?? 'anonymous';
}

interface KeyParams {
  name: string;
  namespace?: string;
}

/** Paginates an ordered list by key with the store's opaque cursors. */
export function paginate<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  query: { limit?: number; cursor?: string },
): { items: T[]; nextCursor?: string } {
  const limit = pageLimit(query.limit);
  let start = 0;
  if (query.cursor !== undefined) {
    const { k } = decodeCursor(query.cursor, (v): v is { k: string } => typeof v['k'] === 'string');
    start = items.findIndex((i) => keyOf(i) > k);
    if (start < 0) start = items.length;
  }
  const page = items.slice(start, start + limit);
  return start + limit < items.length ? { items: page, nextCursor: encodeCursor({ k: keyOf(page[page.length - 1]!) }) } : { items: page };
}

export function registerResourceRoutes(app: FastifyInstance, def: ResourceDefinition, ctx: ApiContext): void {
  const base = `/v1/${def.kind}`;
  const itemPath = def.namespaced ? `${base}/:namespace/:name` : `${base}/:name`;
  const params = def.namespaced
    ? Type.Object({ namespace: KeyLabel, name: KeyLabel }, { additionalProperties: false })
    : Type.Object({ name: KeyName }, { additionalProperties: false });
  const Resource = responseSchema(def);
  const tags = [def.kind];
  const errors = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema };

  const keyFrom = (p: KeyParams): string => (def.namespaced ? `${p.namespace}/${p.name}` : p.name);
  const label = (key: string): string => `${def.kind}/${key}`;
  const findOr404 = (key: string): StoredResource => {
    const r = ctx.store.get(def.kind, key);
    if (r === undefined) throw new ApiError('NOT_FOUND', `${label(key)} does not exist`);
    return r;
  };
  const sendDryRun = (reply: FastifyReply, r: StoredResource, status = 200): FastifyReply => {
    void reply.header(DRY_RUN_HEADER, 'true').header(CONFIG_VERSION_HEADER, String(ctx.store.revision));
    return reply.code(status).send(present(def, r, ctx));
  };
  const sendResource = (reply: FastifyReply, r: StoredResource, status = 200): FastifyReply => {
    void reply.header('etag', etagOf(r.resourceVersion));
    void reply.header(CONFIG_VERSION_HEADER, String(ctx.store.revision));
    return reply.code(status).send(present(def, r, ctx));
  };

  const filterProps: TProperties = {};
  for (const [name, f] of Object.entries(def.filters ?? {})) filterProps[name] = Type.Optional(f.schema);
  const ListQuery = Type.Object(
    {
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Page size (1-1000, default 50).' })),
      cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'nextCursor of the previous page.' })),
      ...filterProps,
    },
    { additionalProperties: false },
  );

  app.get<{ Querystring: Record<string, string | number | undefined> }>(
    base,
    {
      schema: {
        tags,
        summary: `List ${def.kind}`,
        querystring: ListQuery,
        response: {
          200: Type.Object(
            { items: Type.Array(Resource), nextCursor: Type.Optional(Type.String()) },
            { additionalProperties: false },
          ),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      let items = ctx.store.snapshot().resources[def.kind];
      for (const [name, f] of Object.entries(def.filters ?? {})) {
        const v = q[name];
        if (v !== undefined) items = items.filter((r) => f.matches(r.spec, String(v)));
      }
      const page = paginate(items, (r) => r.name, {
        ...(q['limit'] !== undefined ? { limit: Number(q['limit']) } : {}),
        ...(q['cursor'] !== undefined ? { cursor: String(q['cursor']) } : {}),
      });
      void reply.header(CONFIG_VERSION_HEADER, String(ctx.store.revision));
      return { items: page.items.map((r) => present(def, r, ctx)), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
    },
  );

  app.post<{ Body: Record<string, unknown> }>(
    base,
    {
      schema: {
        tags,
        summary: `Create a ${def.kindName}`,
        querystring: WriteQuery,
        body: writeBodySchema(def, false),
        response: { 201: Resource, ...errors, 409: ProblemSchema, 413: ProblemSchema, 415: ProblemSchema },
      },
    },
    async (request, reply) => {
      const spec = def.secretPaths === undefined ? specOf(request.body) : restoreSecrets(specOf(request.body), undefined, def.secretPaths);
      await def.check?.(spec, ctx);
      const key = storeKeyOf(def, spec);
      if (def.serverOwned !== undefined) spec[def.serverOwned.key] = def.serverOwned.initial(spec);
      const result = ctx.store.commit([{ op: 'create', kind: def.kind, name: key, spec }], {
        actor: actorOf(request),
        validate: ctx.validate,
        dryRun: isDryRun(request),
      });
      const created = result.results[0]!.resource!;
      if (result.dryRun) return sendDryRun(reply, created, 201);
      ctx.metrics.commits.inc({ kind: def.kind, op: 'create' });
      void reply.header('location', `${base}/${key}`);
      return sendResource(reply, created, 201);
    },
  );

  app.get<{ Params: KeyParams }>(
    itemPath,
    {
      schema: {
        tags,
        summary: `Read a ${def.kindName}`,
        params,
        response: { 200: Resource, 304: Type.Null(), ...errors, 404: ProblemSchema },
      },
    },
    async (request, reply) => {
      const r = findOr404(keyFrom(request.params));
      const inm = parseEntityTags(request.headers['if-none-match'], 'if-none-match');
      if (inm !== undefined && (inm.any || inm.versions.includes(r.resourceVersion))) {
        void reply.header('etag', etagOf(r.resourceVersion));
        return reply.code(304).send();
      }
      return sendResource(reply, r);
    },
  );

  app.put<{ Params: KeyParams; Body: Record<string, unknown> }>(
    itemPath,
    {
      schema: {
        tags,
        summary: `Replace a ${def.kindName} (If-Match required)`,
        params,
        querystring: WriteQuery,
        body: writeBodySchema(def, true),
        headers: Type.Object({ 'if-match': Type.Optional(Type.String({ description: 'ETag of the version you read, or *.' })) }),
        response: {
          200: Resource,
          ...errors,
          404: ProblemSchema,
          409: ProblemSchema,
          412: ProblemSchema,
          413: ProblemSchema,
          415: ProblemSchema,
          428: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const key = keyFrom(request.params);
      const spec = specOf(request.body);
      if (spec['name'] !== undefined && spec['name'] !== request.params.name) {
        throw ApiError.invalid('/name', `must equal the name in the path (${request.params.name}); renaming is create + delete`);
      }
      if (def.namespaced && spec['namespace'] !== undefined && spec['namespace'] !== request.params.namespace) {
        throw ApiError.invalid('/namespace', `must equal the namespace in the path (${request.params.namespace})`);
      }
      spec['name'] = request.params.name;
      if (def.namespaced) spec['namespace'] = request.params.namespace;
      const ifMatch = parseEntityTags(request.headers['if-match'], 'if-match');
      const current = findOr404(key);
      if (ifMatch === undefined) {
        throw new ApiError(
          'PRECONDITION_REQUIRED',
          `updating ${label(key)} requires If-Match with the ETag you read (currently ${etagOf(current.resourceVersion)}), or If-Match: * to overwrite whatever is there`,
          { issues: [{ in: 'headers', field: 'if-match', reason: 'is required on PUT' }], currentVersion: current.resourceVersion },
        );
      }
      const expected = checkIfMatch(ifMatch, current.resourceVersion, label(key));
      const restored = def.secretPaths === undefined ? spec : restoreSecrets(spec, current.spec, def.secretPaths);
      await def.check?.(restored, ctx);
      if (def.serverOwned !== undefined) {
        restored[def.serverOwned.key] = (current.spec as Record<string, unknown>)[def.serverOwned.key];
      }
      const result = ctx.store.commit([{ op: 'update', kind: def.kind, name: key, spec: restored, ifMatch: expected }], {
        actor: actorOf(request),
        validate: ctx.validate,
        dryRun: isDryRun(request),
      });
      if (result.dryRun) return sendDryRun(reply, result.results[0]!.resource!);
      if (result.changed) ctx.metrics.commits.inc({ kind: def.kind, op: 'update' });
      return sendResource(reply, result.results[0]!.resource!);
    },
  );

  app.delete<{ Params: KeyParams }>(
    itemPath,
    {
      schema: {
        tags,
        summary: `Delete a ${def.kindName}`,
        params,
        querystring: WriteQuery,
        headers: Type.Object({ 'if-match': Type.Optional(Type.String()) }),
        response: {
          200: Type.Object(
            {
              kind: Type.String(),
              name: Type.String(),
              deleted: Type.Literal(true),
              configVersion: Type.Integer({ description: 'Store revision produced by the delete.' }),
            },
            { additionalProperties: false },
          ),
          ...errors,
          404: ProblemSchema,
          409: ProblemSchema,
          412: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const key = keyFrom(request.params);
      const current = findOr404(key);
      const ifMatch = parseEntityTags(request.headers['if-match'], 'if-match');
      const expected = ifMatch === undefined ? undefined : checkIfMatch(ifMatch, current.resourceVersion, label(key));
      const result = ctx.store.commit(
        [{ op: 'delete', kind: def.kind, name: key, ...(expected === undefined ? {} : { ifMatch: expected }) }],
        { actor: actorOf(request), validate: ctx.validate, dryRun: isDryRun(request) },
      );
      if (result.dryRun) void reply.header(DRY_RUN_HEADER, 'true');
      else ctx.metrics.commits.inc({ kind: def.kind, op: 'delete' });
      void reply.header(CONFIG_VERSION_HEADER, String(result.dryRun ? ctx.store.revision : result.revision));
      return { kind: def.kindName, name: key, deleted: true as const, configVersion: result.revision };
    },
  );
}
