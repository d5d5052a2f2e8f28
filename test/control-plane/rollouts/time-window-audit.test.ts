/**
 * Authorization time windows opening and closing on schedule under a controlled clock, each switch
 * audited; config edits re-read the states without auditing them as switches.
 */
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../../control-plane/src/ca/clock.js';
import { nextWindowFlip } from '../../../control-plane/src/controller/snapshot-version.js';
import { createTimeWindowAuditor, SCHEDULER_ACTOR } from '../../../control-plane/src/rollouts/time-window-audit.js';
import { createSqliteStore } from '../../../control-plane/src/store/sqlite-store.js';
import { toMeshModel } from '../../../control-plane/src/store/to-mesh-model.js';

const TD = 'meshward.local';
const officeHours = {
  name: 'office-hours',
  rules: [
    { from: [`spiffe://${TD}/ns/apps/*`], to: ['infer'], when: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00', timeZone: 'Europe/Paris' }] },
    { from: [`spiffe://${TD}/ns/ops/*`], to: ['admin'] },
  ],
};

describe('time-window audit', () => {
  it('records window-open and window-close at the transitions the controller re-publishes at', async () => {
    const clock = createManualClock(Date.parse('2026-11-23T07:59:30Z')); // Monday 08:59:30 in Paris
    const store = createSqliteStore({ path: ':memory:', now: () => new Date(clock.now()) });
    store.commit([{ op: 'create', kind: 'authorization-policies', name: 'office-hours', spec: officeHours }], { actor: 'alice' });
    const auditor = createTimeWindowAuditor({ store, clock });
    auditor.start();
    // the same instant the controller arms its re-publish for
    expect(auditor.nextTransition()?.toISOString()).toBe('2026-11-23T08:00:00.000Z');
    expect(auditor.nextTransition()).toEqual(nextWindowFlip(toMeshModel(store.snapshot(), TD), new Date(clock.now())));
    const switches = () => store.audit.query({ actor: SCHEDULER_ACTOR, order: 'asc' }).items;

    await clock.advance(29_000);
    expect(switches()).toHaveLength(0);
    await clock.advance(1_000); // 09:00 Paris
    expect(switches()).toMatchObject([{ action: 'window-open', kind: 'authorization-policies', name: 'office-hours', after: { rule: 0, open: true, at: '2026-11-23T08:00:00.000Z' }, at: '2026-11-23T08:00:00.000Z' }]);
    expect(auditor.nextTransition()?.toISOString()).toBe('2026-11-23T16:00:00.000Z');

    await clock.advance(8 * 3_600_000); // 17:00 Paris
    expect(switches().map((e) => [e.action, e.at])).toEqual([
      ['window-open', '2026-11-23T08:00:00.000Z'],
      ['window-close', '2026-11-23T16:00:00.000Z'],
    ]);
    // through the week: one open and one close per weekday, none on the weekend
    await clock.advance(6 * 86_400_000);
    const days = switches().map((e) => `${e.action}@${e.at.slice(0, 10)}`);
    expect(days.filter((d) => d.startsWith('window-open'))).toHaveLength(5);
    expect(days.filter((d) => d.startsWith('window-close'))).toHaveLength(5);
    expect(days.some((d) => d.includes('2026-11-28') || d.includes('2026-11-29'))).toBe(false);
    auditor.stop();
    expect(clock.pendingTimers()).toBe(0);
  });

  it('a policy edit is not a switch: states are re-read, the timer re-armed, nothing audited as window-*', async () => {
    const clock = createManualClock(Date.parse('2026-11-23T10:00:00Z')); // Monday 11:00 Paris: open
    const store = createSqliteStore({ path: ':memory:', now: () => new Date(clock.now()) });
    const auditor = createTimeWindowAuditor({ store, clock });
    auditor.start();
    expect(auditor.nextTransition()).toBeUndefined();
    store.commit([{ op: 'create', kind: 'authorization-policies', name: 'office-hours', spec: officeHours }], { actor: 'alice' });
    expect(auditor.nextTransition()?.toISOString()).toBe('2026-11-23T16:00:00.000Z');
    expect(store.audit.query({ actor: SCHEDULER_ACTOR }).items).toHaveLength(0);
    store.commit([{ op: 'delete', kind: 'authorization-policies', name: 'office-hours' }], { actor: 'alice' });
    expect(auditor.nextTransition()).toBeUndefined();
    await clock.advance(86_400_000);
    expect(store.audit.query({ actor: SCHEDULER_ACTOR }).items).toHaveLength(0);
    auditor.stop();
  });
});
