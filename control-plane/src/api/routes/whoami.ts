import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';

/** GET /v1/whoami: the caller's token name and role, and its client certificate identity under mTLS. */
export function whoamiRoutes(app: FastifyInstance): void {
  app.get(
    '/v1/whoami',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Who the API thinks you are',
        response: {
          200: Type.Object(
            {
              tokenId: Type.String(),
              name: Type.String(),
              role: Type.String(),
              clientIdentity: Type.Optional(Type.String({ description: 'SPIFFE ID of the TLS client certificate (mTLS only).' })),
            },
            { additionalProperties: false },
          ),
        },
      },
    },
    async (request) => {
      const p = request.principal!;
      return { tokenId: p.tokenId, name: p.name, role: p.role, ...(p.clientIdentity === undefined ? {} : { clientIdentity: p.clientIdentity }) };
    },
  );
}
