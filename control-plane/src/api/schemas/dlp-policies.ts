import { Type } from '@sinclair/typebox';
import { StringEnum } from './common.js';
import { ResourceName } from './workloads.js';

/** DlpPolicy (control-plane/src/model/dlp-policy.ts). `config` is checked by the filter's own schema and configure. */
export const DlpPolicy = Type.Object(
  {
    name: ResourceName,
    scope: Type.Object(
      {
        kind: StringEnum(['global', 'model']),
        model: Type.Optional(ResourceName),
      },
      { additionalProperties: false, description: '{"kind":"global"} or {"kind":"model","model":"<model>"}.' },
    ),
    config: Type.Object({}, { additionalProperties: true, description: "The filter's JSON configuration (filter/config.schema.json)." }),
    module: Type.Optional(ResourceName),
    failureMode: Type.Optional(StringEnum(['FAIL_CLOSED', 'FAIL_OPEN'])),
  },
  { additionalProperties: false, description: "A DLP policy: the meshward filter's configuration, global or for one model." },
);

export const DryRunRequest = Type.Object(
  {
    policy: Type.Optional(
      Type.String({ minLength: 1, maxLength: 63, description: 'Name of a stored DLP policy whose config to use.' }),
    ),
    config: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'A config to try instead of a stored one.' })),
    payload: Type.String({ maxLength: 512 * 1024, description: 'The sample body (e.g. an OpenAI chat request).' }),
    contentType: Type.Optional(Type.String({ maxLength: 128, description: 'Defaults to application/json.' })),
    path: Type.Optional(Type.String({ maxLength: 1024, pattern: '^/', description: 'Request path; defaults to /v1/chat/completions.' })),
    direction: Type.Optional(StringEnum(['request', 'response'], { description: 'Scan as a request (default) or a response body.' })),
    caller: Type.Optional(
      Type.String({ minLength: 1, maxLength: 2048, pattern: '^spiffe://', description: "The caller's SPIFFE ID as the proxy would see it (per-principal rules)." }),
    ),
  },
  { additionalProperties: false },
);

export const DryRunResult = Type.Object(
  {
    verdict: Type.String(),
    findings: Type.Array(Type.Object({ detector: Type.String() }, { additionalProperties: true })),
    localReply: Type.Optional(
      Type.Object(
        { status: Type.Integer(), body: Type.String(), headers: Type.Record(Type.String(), Type.String()) },
        { additionalProperties: false },
      ),
    ),
    output: Type.Optional(Type.String()),
    logs: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);
