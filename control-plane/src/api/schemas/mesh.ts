import { Type } from '@sinclair/typebox';
import { MtlsMode } from './workloads.js';

/** MeshSettings (control-plane/src/model/mesh-settings.ts): the singleton `/v1/mesh`. */
export const Mesh = Type.Object(
  {
    trustDomain: Type.String({
      minLength: 1,
      maxLength: 255,
      pattern: '^[a-z0-9._-]+$',
      description: 'SPIFFE trust domain. Must match the CA\'s.',
    }),
    mtlsMode: Type.Optional(MtlsMode),
    namespaceMtlsModes: Type.Optional(
      Type.Record(Type.String({ pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$' }), MtlsMode, {
        additionalProperties: false,
        maxProperties: 10000,
      }),
    ),
    accessLog: Type.Optional(Type.Object({ enabled: Type.Optional(Type.Boolean()) }, { additionalProperties: false })),
  },
  { additionalProperties: false, description: 'Mesh-wide settings: trust domain and default mTLS modes.' },
);
