// Plugin configuration: the issue's example shape, defaults, and bad configs failing plugin start
// with a log line naming the field and the reason (and a rejected reconfigure keeping the old one).
import { describe, expect, it } from 'vitest';
import { EmulatorError } from '../host/index.js';
import { SAMPLES, chat, chatRequest, meshward } from './helpers.js';

const ISSUE_EXAMPLE = {
  mode: 'enforce',
  failure_mode: 'open',
  max_body_bytes: 1048576,
  redaction: { style: 'type_tag' },
  detectors: { email: 'redact', credit_card: 'block', phone: 'alert' },
  custom_detectors: [{ id: 'codename', keywords: ['Project Falcon'], action: 'block' }],
  principals: [{ match: 'spiffe://corp.example/ns/batch/*', detectors: { iban: 'off' } }],
};

async function startError(config: unknown): Promise<EmulatorError> {
  try {
    await meshward(typeof config === 'string' ? config : JSON.stringify(config));
  } catch (e) {
    expect(e).toBeInstanceOf(EmulatorError);
    return e as EmulatorError;
  }
  throw new Error('plugin start unexpectedly succeeded');
}

describe('plugin configuration', () => {
  it('accepts the documented example and acts on it', async () => {
    const envoy = await meshward(ISSUE_EXAMPLE);
    expect(chat(envoy, chatRequest('status of Project Falcon?')).result.localReply?.status).toBe(403);
    expect(JSON.parse(chat(envoy, chatRequest('status of project falcon?')).result.localReply!.bodyText).error.code).toBe('codename');
    expect(envoy.logsAtLeast('info').some((l) => l.includes('configuration 1 loaded'))).toBe(true);
    expect(envoy.metrics.get('meshward.config.loads')).toBeGreaterThanOrEqual(1n);
  });

  it('treats an empty configuration as all defaults (alert everything, change nothing)', async () => {
    const envoy = await meshward('');
    const req = chatRequest(`mail ${SAMPLES.email}, card ${SAMPLES.card}`);
    const { result } = chat(envoy, req);
    expect(result.upstream.bodyText).toBe(req);
    expect(envoy.metrics.get('meshward.detector.email.direction.request.action.alert.mode.enforce.findings')).toBe(1n);
    expect(envoy.metrics.get('meshward.detector.credit_card.direction.request.action.alert.mode.enforce.findings')).toBe(1n);
  });

  it.each([
    ['not JSON', '{mode:', '$: invalid JSON'],
    ['trailing comma', '{"mode":"enforce",}', 'trailing comma'],
    ['duplicate key', '{"mode":"enforce","mode":"monitor"}', '$.mode: invalid JSON: duplicate key'],
    ['not an object', '[]', '$: the configuration must be a JSON object'],
    ['unknown top-level field', { modee: 'enforce' }, '$.modee: unknown field'],
    ['bad mode', { mode: 'strict' }, '$.mode: "strict" is not one of monitor, enforce'],
    ['bad failure_mode', { failure_mode: 1 }, '$.failure_mode: must be one of open, closed'],
    ['fractional max_body_bytes', { max_body_bytes: 10.5 }, '$.max_body_bytes: must be an integer'],
    ['zero max_body_bytes', { max_body_bytes: 0 }, '$.max_body_bytes: must be between 1 and'],
    ['unknown detector', { detectors: { emial: 'redact' } }, '$.detectors.emial: unknown detector id "emial"'],
    ['bad action', { detectors: { email: 'redcat' } }, '$.detectors.email: "redcat" is not an action'],
    ['object without action', { detectors: { email: { directions: ['request'] } } }, '$.detectors.email.action: required'],
    ['bad direction', { detectors: { email: { action: 'alert', directions: ['inbound'] } } }, '$.detectors.email.directions[0]'],
    ['unknown detector option', { detectors: { email: { action: 'alert', level: 3 } } }, '$.detectors.email.level: unknown field'],
    ['rate without limit', { detectors: { request_rate: 'block' } }, '$.detectors.request_rate.max_requests: required'],
    ['redact a size', { detectors: { oversized_request: { action: 'redact', max_bytes: 10 } } }, '$.detectors.oversized_request.action'],
    ['hash without key', { redaction: { style: 'hash' } }, '$.redaction.hash_key: required'],
    ['short hash key', { redaction: { style: 'hash', hash_key: 'short' } }, '$.redaction.hash_key: must be at least 16 bytes'],
    ['bad style', { redaction: { style: 'blur' } }, '$.redaction.style: "blur" is not one of type_tag, mask, hash'],
    ['custom id clash', { custom_detectors: [{ id: 'email', keywords: ['ab'] }] }, '$.custom_detectors[0].id: "email" is a built-in detector id'],
    ['custom bad id', { custom_detectors: [{ id: 'Code Name', keywords: ['ab'] }] }, '$.custom_detectors[0].id: "Code Name" is not a valid id'],
    ['custom duplicate id', { custom_detectors: [{ id: 'a', keywords: ['ab'] }, { id: 'a', keywords: ['cd'] }] }, '$.custom_detectors[1].id: duplicate'],
    ['custom no keywords', { custom_detectors: [{ id: 'a', keywords: [] }] }, '$.custom_detectors[0].keywords: must not be empty'],
    ['custom short keyword', { custom_detectors: [{ id: 'a', keywords: ['x'] }] }, '$.custom_detectors[0].keywords[0]: must be at least 2 bytes'],
    ['custom keyword with edge space', { custom_detectors: [{ id: 'a', keywords: [' padded'] }] }, '$.custom_detectors[0].keywords[0]: must not start or end with whitespace'],
    ['principal without match', { principals: [{ detectors: { iban: 'off' } }] }, '$.principals[0].match: required'],
    ['principal unknown detector', { principals: [{ match: '*', detectors: { ibna: 'off' } }] }, '$.principals[0].detectors.ibna: unknown detector id'],
    ['principal enabling rate without limit', { principals: [{ match: '*', detectors: { request_rate: 'block' } }] }, '$.principals[0].detectors.request_rate'],
    ['bad shape', { inspect: { request_shape: 'xml' } }, '$.inspect.request_shape: "xml" is not one of'],
    ['bad audit', { audit: { log: 'verbose' } }, '$.audit.log: "verbose" is not one of off, findings, all'],
  ])('rejects %s, naming the field and the reason', async (_name, config, expected) => {
    const err = await startError(config);
    expect(err.code).toBe('PLUGIN_START_FAILED');
    expect(err.message).toContain('meshward: invalid plugin configuration: ');
    expect(err.message).toContain(expected);
  });

  it('custom detector ids are valid in detectors and principal overrides', async () => {
    const envoy = await meshward({
      custom_detectors: [{ id: 'customer', keywords: ['Globex Corporation', 'Initech'], action: 'alert' }],
      detectors: { customer: 'redact' },
      principals: [{ match: 'spiffe://corp.example/ns/sales/*', detectors: { customer: 'off' } }],
    });
    const req = chatRequest('Summarise the Initech contract');
    expect(JSON.parse(chat(envoy, req).result.upstream.bodyText).messages[1].content).toBe('Summarise the [CUSTOMER] contract');
    expect(chat(envoy, req, undefined, { principal: 'spiffe://corp.example/ns/sales/sa/crm' }).result.upstream.bodyText).toBe(req);
  });

  it('a rejected reconfiguration leaves the previous configuration serving', async () => {
    const envoy = await meshward({ detectors: { credit_card: 'block' } });
    const r = envoy.reconfigure(JSON.stringify({ detectors: { credit_card: 'blok' } }));
    expect(r.accepted).toBe(false);
    expect(envoy.logsAtLeast('error').join('\n')).toContain('meshward: invalid plugin configuration: $.detectors.credit_card: "blok" is not an action');
    expect(chat(envoy, chatRequest(`card ${SAMPLES.card}`)).result.localReply?.status).toBe(403);
    expect(envoy.metrics.get('meshward.config.rejections')).toBeGreaterThanOrEqual(1n);
  });

  it('an accepted reconfiguration applies to new streams', async () => {
    const envoy = await meshward({ detectors: { credit_card: 'block' } });
    expect(envoy.reconfigure(JSON.stringify({ detectors: { credit_card: 'redact' } })).accepted).toBe(true);
    const { result } = chat(envoy, chatRequest(`card ${SAMPLES.card}`));
    expect(result.localReply).toBeUndefined();
    expect(result.upstream.bodyText).toContain('[CREDIT_CARD]');
  });

  it('rejects an invalid VM configuration at VM start', async () => {
    await expect(meshward({}, { vmConfig: '{"hash_key": 5}' })).rejects.toThrow(/invalid VM configuration: \$\.hash_key: must be a string/);
  });

  it('takes the hash key from the VM configuration', async () => {
    const envoy = await meshward({ redaction: { style: 'hash' }, detectors: { email: 'redact' } }, { vmConfig: '{"hash_key":"vm-secret-0123456789"}' });
    const out = JSON.parse(chat(envoy, chatRequest(`mail ${SAMPLES.email}`)).result.upstream.bodyText).messages[1].content as string;
    expect(out).toMatch(/^mail \[EMAIL:[0-9a-f]{12}\]$/);
  });
});
