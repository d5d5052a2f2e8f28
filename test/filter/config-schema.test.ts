// filter/config.schema.json (for the control plane, docs and editors) agrees with the filter's own
// parser on the documented example and on typical mistakes.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { EmulatorError } from '../host/index.js';
import { meshward } from './helpers.js';

const schema = JSON.parse(readFileSync(fileURLToPath(new URL('../../filter/config.schema.json', import.meta.url)), 'utf8')) as object;
const ajv = new (Ajv2020 as unknown as typeof Ajv2020.default)({ allErrors: true, strict: false });
const validate = ajv.compile(schema);

async function filterAccepts(config: unknown): Promise<boolean> {
  try {
    await meshward(JSON.stringify(config));
    return true;
  } catch (e) {
    if (e instanceof EmulatorError && e.code === 'PLUGIN_START_FAILED') return false;
    throw e;
  }
}

const VALID = [
  {},
  {
    mode: 'enforce',
    failure_mode: 'open',
    max_body_bytes: 1048576,
    redaction: { style: 'type_tag' },
    detectors: { email: 'redact', credit_card: 'block', phone: 'alert' },
    custom_detectors: [{ id: 'codename', keywords: ['Project Falcon'], action: 'block' }],
    principals: [{ match: 'spiffe://corp.example/ns/batch/*', detectors: { iban: 'off' } }],
  },
  {
    mode: 'monitor',
    redaction: { style: 'hash', hash_key: '0123456789abcdef' },
    detectors: {
      email: { action: 'redact', directions: ['response'] },
      oversized_request: { action: 'block', max_bytes: 65536 },
      request_rate: { action: 'alert', max_requests: 100, window_seconds: 10 },
    },
    inspect: { request_shape: 'openai_chat', response_shape: 'auto' },
    audit: { log: 'findings' },
  },
  {
    budgets: {
      limits: [
        { name: 'team-a', principals: ['spiffe://corp.example/ns/team-a/*'], models: ['gpt-4o*'], routes: ['chat'], tokens: 100000, window: 'hour', shared: false, on_exceed: 'clamp', min_output_tokens: 32, dry_run: false, costs: [{ model: 'gpt-4o*', input: 2.5, cached_input: 1.25, output: 10 }] },
      ],
      api_keys: { header: 'x-api-key', keys: [{ sha256: 'a'.repeat(64), identity: 'apikey:team-a' }] },
      default_output_tokens: 512,
      lease: { cluster: 'meshward_cp', authority: 'cp', path: '/v1/budget-leases', tokens: 1000, timeout_ms: 500, authorization: 'Bearer x', release_after_ms: 60000 },
    },
    model_access: { lists: [{ name: 'all', principals: ['*'], models: [] }], check_model_header: false },
  },
];

const INVALID = [
  { mode: 'strict' },
  { modee: 'enforce' },
  { max_body_bytes: 0 },
  { detectors: { email: 'redcat' } },
  { detectors: { email: { directions: ['request'] } } },
  { detectors: { oversized_request: { action: 'redact', max_bytes: 1 } } },
  { redaction: { style: 'hash', hash_key: 'short' } },
  { custom_detectors: [{ id: 'Bad Id', keywords: ['ab'] }] },
  { custom_detectors: [{ id: 'email', keywords: ['ab'] }] },
  { principals: [{ detectors: {} }] },
  { audit: { log: 'verbose' } },
  { budgets: { limits: [{ name: 'x', principals: ['*'], tokens: 10, window: 'week' }] } },
  { budgets: { limits: [{ name: 'x', principals: [], tokens: 10, window: 'hour' }] } },
  { budgets: { limits: [{ name: 'x', principals: ['*'], tokens: 0, window: 'hour' }] } },
  { budgets: { limits: [{ name: 'x', principals: ['*'], tokens: 10, window: 'hour', on_exceed: 'cut' }] } },
  { budgets: { limits: [], lease: { cluster: 'c' } } },
  { budgets: { limits: [{ name: 'x', principals: ['*'], tokens: 10, window: 'hour' }], lease: { cluster: 'c', authority: 'a', release_after_ms: 500 } } },
  { budgets: { limits: [{ name: 'x', principals: ['*'], tokens: 10, window: 'hour' }], lease: { cluster: 'c', authority: 'a', release_after_ms: 3600001 } } },
  { model_access: { lists: [{ name: 'x', principals: ['*'] }] } },
];

describe('config.schema.json', () => {
  it.each(VALID.map((c) => [JSON.stringify(c).slice(0, 60), c]))('schema and filter accept %s', async (_n, config) => {
    expect(validate(config), JSON.stringify(validate.errors)).toBe(true);
    expect(await filterAccepts(config)).toBe(true);
  });

  it.each(INVALID.map((c) => [JSON.stringify(c), c]))('schema and filter reject %s', async (_n, config) => {
    expect(validate(config)).toBe(false);
    expect(await filterAccepts(config)).toBe(false);
  });
});
