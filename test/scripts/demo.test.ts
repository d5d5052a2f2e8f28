/**
 * `npm run demo`'s core: control plane + two mock models + the real filter in the emulator; every
 * step's table shows what the README says it shows.
 */
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../scripts/demo.js';

describe('npm run demo', () => {
  it('runs the tour: canary split, blocked card, redacted email, identity allow/deny, redacted stream', async () => {
    const report = await runDemo({ canaryRequests: 40, seed: 7 });
    expect(report.steps.map((s) => s.failed)).toEqual(report.steps.map(() => []));
    expect(report.ok).toBe(true);
    const [setup, canary, card, mail, identity, stream] = report.steps;
    expect(setup!.rows.filter((r) => r[0] === 'meshward apply').map((r) => r[1]!.replace(/ \(config version \d+\)/, ''))).toEqual([
      'models/chat created',
      'filter-modules/default created',
      'dlp-policies/global created',
      'authorization-policies/demo-client created',
    ]);
    const counts = Object.fromEntries(canary!.rows.map((r) => [r[0], Number(r[1])]));
    expect(counts['v1']! + counts['v2']!).toBe(40);
    expect(counts['v1']!).toBeGreaterThan(counts['v2']!);
    expect(card!.rows[0]!.slice(0, 2)).toEqual(['403', 'no']);
    expect(card!.rows[0]![2]).toContain('credit_card');
    expect(mail!.rows[0]![2]).toBe('write to [EMAIL] about the invoice');
    expect(mail!.rows[0]![3]).toMatch(/^\[v\d\] echo: write to \[EMAIL\] about the invoice$/);
    expect(identity!.rows.map((r) => r[1])).toEqual(['200', '403']);
    expect(stream!.rows[0]![2]).toBe('the deploy key is [AWS_ACCESS_KEY], rotate it soon');
    expect(report.text).toContain('== 1. canary split');
    expect(report.text).not.toContain('jane.doe@corp.example');
  }, 60_000);
});
