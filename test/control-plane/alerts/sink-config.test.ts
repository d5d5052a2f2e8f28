import { describe, expect, it } from 'vitest';
import { ClosedLoopError } from '../../../control-plane/src/alerts/alert-error.js';
import { createSinksFromConfig } from '../../../control-plane/src/alerts/sink-config.js';

const io = { env: { HOOK_SECRET: 'a-secret-of-enough-length' }, readFile: (p: string) => (p === '/ca.pem' ? 'PEM' : (() => { throw new Error('ENOENT'); })()) };

describe('sinks from configuration', () => {
  it('builds webhook, syslog and JSON-lines sinks with their names', () => {
    const sinks = createSinksFromConfig(
      [
        { type: 'webhook', name: 'soc', url: 'https://siem.example/hook', secretEnv: 'HOOK_SECRET' },
        { type: 'syslog', host: 'siem.example', port: 6514, transport: 'tls', format: 'cef', caFile: '/ca.pem' },
        { type: 'syslog', host: 'siem.example', port: 514, format: 'json', name: 'plain' },
        { type: 'jsonl', path: '/var/log/meshward/alerts.jsonl' },
      ],
      io,
    );
    expect(sinks.map((s) => s.name)).toEqual(['soc', 'syslog-tls', 'plain', 'jsonl']);
  });

  it('rejects the whole list naming every bad field', () => {
    let err: ClosedLoopError | undefined;
    try {
      createSinksFromConfig(
        [
          { type: 'webhook', url: 'ftp://x', secretEnv: 'MISSING', secret: 'inline' },
          { type: 'syslog', host: 'h', port: 70000, transport: 'udp', format: 'xml', caFile: '/nope.pem' },
          { type: 'jsonl', path: '/a', name: 'dup' },
          { type: 'jsonl', path: '/b', name: 'dup' },
          { type: 'pager' },
        ],
        io,
      );
    } catch (e) {
      err = e as ClosedLoopError;
    }
    expect(err?.code).toBe('INVALID');
    expect(err!.issues.map((i) => i.field)).toEqual(expect.arrayContaining(['/0/secret', '/0/secretEnv', '/1/port', '/1/transport', '/1/format', '/1/caFile', '/3/name', '/4/type']));
    expect(() => createSinksFromConfig([{ type: 'webhook', url: 'ftp://x', secretEnv: 'HOOK_SECRET' }], io)).toThrow(/\/0\/url must be http/);
    expect(() => createSinksFromConfig({}, io)).toThrow(/must be an array/);
  });
});
