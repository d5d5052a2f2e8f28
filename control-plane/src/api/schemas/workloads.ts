import { Type } from '@sinclair/typebox';
import { StringEnum } from './common.js';

/** Workload (control-plane/src/model/workload.ts) as the API accepts it. Cross-references are checked by validateMeshModel. */

const Label = Type.String({
  minLength: 1,
  maxLength: 63,
  pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$',
  description: 'RFC 1123 label (lower-case letters, digits, "-"; max 63).',
});
export const ResourceName = Type.String({
  minLength: 1,
  maxLength: 63,
  pattern: '^[a-z0-9]([-a-z0-9._]{0,61}[a-z0-9])?$',
  description: 'Lower-case letters, digits, "-", ".", "_"; alphanumeric at both ends; max 63.',
});
export const MtlsMode = StringEnum(['STRICT', 'PERMISSIVE'], {
  description: 'STRICT: only mTLS; PERMISSIVE: mTLS and plaintext (migration).',
});

export const WorkloadLabels = Type.Record(
  Type.String({ pattern: '^[A-Za-z0-9]([-A-Za-z0-9_./]{0,251}[A-Za-z0-9])?$' }),
  Type.String({ maxLength: 253 }),
  { additionalProperties: false, maxProperties: 64 },
);

export const Workload = Type.Object(
  {
    name: Label,
    namespace: Label,
    serviceAccount: Label,
    role: StringEnum(['gateway', 'sidecar', 'proxyless']),
    labels: Type.Optional(WorkloadLabels),
    mtlsMode: Type.Optional(MtlsMode),
    listener: Type.Optional(
      Type.Object(
        {
          address: Type.Optional(Type.String({ minLength: 2, maxLength: 45, description: 'IP literal; defaults to 0.0.0.0.' })),
          port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
        },
        { additionalProperties: false },
      ),
    ),
    serves: Type.Optional(
      Type.Object(
        {
          model: ResourceName,
          version: ResourceName,
          appPort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
        },
        { additionalProperties: false, description: 'The model version a sidecar (or proxyless server) serves.' },
      ),
    ),
    models: Type.Optional(Type.Array(ResourceName, { maxItems: 1000, uniqueItems: true })),
  },
  {
    additionalProperties: false,
    description:
      'A workload: one identity (spiffe://<trust-domain>/ns/<namespace>/sa/<serviceAccount>) fronted by an Envoy or speaking xDS itself.',
  },
);

export const WorkloadStatus = Type.Object(
  {
    spiffeId: Type.String({ description: 'The identity its certificates carry.' }),
    mtlsMode: MtlsMode,
  },
  { additionalProperties: false, description: 'Derived: identity and effective mTLS mode.' },
);

export const JoinTokenRequest = Type.Object(
  {
    ttlSeconds: Type.Optional(
      Type.Integer({ minimum: 60, maximum: 30 * 24 * 3600, description: "Lifetime; defaults to the CA's default (24 h)." }),
    ),
    description: Type.Optional(Type.String({ maxLength: 256, description: 'Free text shown in listings (e.g. which host it is for).' })),
  },
  { additionalProperties: false },
);

export const JoinToken = Type.Object(
  {
    id: Type.String(),
    spiffeId: Type.String(),
    createdAt: Type.String(),
    expiresAt: Type.String(),
    revokedAt: Type.Optional(Type.String()),
    lastUsedAt: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const IssuedJoinToken = Type.Object(
  {
    token: Type.String({ description: 'The join token. Shown once: only its hash is kept.' }),
    joinToken: JoinToken,
  },
  { additionalProperties: false },
);
