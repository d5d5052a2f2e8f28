import { Type } from '@sinclair/typebox';
import { StringEnum } from './common.js';
import { ResourceName } from './workloads.js';

/** FilterModule (control-plane/src/model/filter-module.ts): where proxies load the meshward .wasm from. */
export const FilterModule = Type.Object(
  {
    name: ResourceName,
    source: Type.Object(
      {
        kind: StringEnum(['local', 'remote']),
        path: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'kind local: absolute path on the proxy host.' })),
        url: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'kind remote: http(s) URL.' })),
        timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 600_000 })),
        retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
      },
      { additionalProperties: false },
    ),
    sha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
    allowPrecompiled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, description: 'A compiled meshward filter module and where proxies load it from.' },
);
