import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { IssuedCertificateRecord } from '../../ca/issued-certificate-store.js';
import { KEY_ALGORITHMS, type KeyAlgorithm } from '../../ca/key-material.js';
import type { ApiContext } from '../api-context.js';
import { ApiError } from '../problem.js';
import { ProblemSchema, StringEnum } from '../schemas/common.js';

const Certificate = Type.Object(
  {
    serialNumber: Type.String(),
    spiffeId: Type.String(),
    notBefore: Type.String(),
    notAfter: Type.String(),
    issuedAt: Type.String(),
    issuerKeyId: Type.String(),
    keyAlgorithm: Type.String(),
    status: StringEnum(['active', 'superseded', 'revoked']),
    revokedAt: Type.Optional(Type.String()),
    revocationReason: Type.Optional(Type.String()),
  },
  { additionalProperties: false, title: 'Certificate' },
);

const Authority = Type.Object(
  {
    id: Type.String(),
    role: Type.String({ description: 'active | incoming | outgoing' }),
    source: Type.String(),
    keyAlgorithm: Type.String(),
    subject: Type.String(),
    serialNumber: Type.String(),
    notBefore: Type.String(),
    notAfter: Type.String(),
    rootFingerprint: Type.String(),
    certificatePem: Type.String(),
  },
  { additionalProperties: false },
);

const Rotation = Type.Object(
  {
    phase: Type.String({ description: 'publish | reissue | retire' }),
    fromId: Type.String(),
    toId: Type.String(),
    startedAt: Type.String(),
    phaseDeadline: Type.String(),
    pendingIdentities: Type.Integer(),
  },
  { additionalProperties: false },
);

const CaStatus = Type.Object(
  { trustDomain: Type.String(), authorities: Type.Array(Authority), rotation: Type.Optional(Rotation) },
  { additionalProperties: false },
);

const Serial = Type.Object({ serialNumber: Type.String({ pattern: '^[0-9a-fA-F]{1,64}$' }) }, { additionalProperties: false });

/**
 * Certificates issued by the mesh CA (list, read, revoke) and the CA itself (status, rotation).
 * The CA persists its own state; each operation is audited right after the CA confirmed it
 * (kind `certificates` / `ca`).
 */
export function certificateRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const tags = ['certificates'];
  const requireCa = () => {
    if (ctx.ca === undefined) throw new ApiError('UNAVAILABLE', 'no certificate authority is configured in this control plane');
    return ctx.ca;
  };
  const prune = (r: IssuedCertificateRecord): Record<string, unknown> =>
    Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined));
  const status = () => {
    const ca = requireCa();
    const rotation = ca.rotationStatus();
    return { trustDomain: ca.trustDomain, authorities: ca.authorities(), ...(rotation === undefined ? {} : { rotation }) };
  };

  app.get<{ Querystring: { spiffeId?: string; status?: 'active' | 'superseded' | 'revoked'; limit?: number; cursor?: string } }>(
    '/v1/certificates',
    {
      schema: {
        tags,
        summary: 'List issued workload certificates',
        querystring: Type.Object(
          {
            spiffeId: Type.Optional(Type.String({ maxLength: 2048 })),
            status: Type.Optional(StringEnum(['active', 'superseded', 'revoked'])),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
            cursor: Type.Optional(Type.String({ maxLength: 512 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ items: Type.Array(Certificate), nextCursor: Type.Optional(Type.String()) }), 503: ProblemSchema },
      },
    },
    async (request) => {
      const page = await requireCa().listCertificates(request.query);
      return { items: page.items.map(prune), ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }) };
    },
  );

  app.get<{ Params: { serialNumber: string } }>(
    '/v1/certificates/:serialNumber',
    { schema: { tags, summary: 'Read one certificate record', params: Serial, response: { 200: Certificate, 404: ProblemSchema, 503: ProblemSchema } } },
    async (request) => {
      const r = await requireCa().getCertificate(request.params.serialNumber.toLowerCase());
      if (r === undefined) throw new ApiError('NOT_FOUND', `certificate ${request.params.serialNumber} is not recorded`);
      return prune(r);
    },
  );

  app.post<{ Params: { serialNumber: string }; Body: { reason?: string } }>(
    '/v1/certificates/:serialNumber/revoke',
    {
      schema: {
        tags,
        summary: "Revoke a certificate: it goes on the CRL and its identity gets no renewal until a new join token is issued",
        params: Serial,
        body: Type.Object({ reason: Type.Optional(Type.String({ maxLength: 256 })) }, { additionalProperties: false }),
        response: { 200: Certificate, 400: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema, 503: ProblemSchema },
      },
    },
    async (request) => {
      const ca = requireCa();
      const serial = request.params.serialNumber.toLowerCase();
      const before = await ca.getCertificate(serial);
      if (before === undefined) throw new ApiError('NOT_FOUND', `certificate ${serial} is not recorded`);
      const after = await ca.revokeCertificate(serial, request.body.reason);
      ctx.store.audit.record({
        actor: request.principal!.name,
        action: 'revoke',
        kind: 'certificates',
        name: serial,
        before: prune(before),
        after: prune(after),
        ...(request.body.reason === undefined ? {} : { reason: request.body.reason }),
      });
      return prune(after);
    },
  );

  app.get('/v1/ca', { schema: { tags, summary: 'The CA: trust domain, authorities in the trust bundle, rotation in progress', response: { 200: CaStatus, 503: ProblemSchema } } }, async () =>
    status(),
  );

  app.post<{ Body: { keyAlgorithm?: KeyAlgorithm } }>(
    '/v1/ca/rotate',
    {
      schema: {
        tags,
        summary: 'Start a CA rotation (publish new root, re-issue every workload, retire the old root)',
        body: Type.Object({ keyAlgorithm: Type.Optional(StringEnum(KEY_ALGORITHMS, { description: "The new CA key's algorithm; defaults to the current one's." })) }, { additionalProperties: false }),
        response: { 202: CaStatus, 400: ProblemSchema, 409: ProblemSchema, 503: ProblemSchema },
      },
    },
    async (request, reply) => {
      const ca = requireCa();
      const before = status();
      const rotation = await ca.rotateCa(request.body.keyAlgorithm === undefined ? {} : { keyAlgorithm: request.body.keyAlgorithm });
      const after = status();
      ctx.store.audit.record({
        actor: request.principal!.name,
        action: 'rotate',
        kind: 'ca',
        name: ca.trustDomain,
        before: before.authorities.map((a) => ({ id: a.id, role: a.role })),
        after: { rotation, authorities: after.authorities.map((a) => ({ id: a.id, role: a.role })) },
      });
      return reply.code(202).send(after);
    },
  );
}
