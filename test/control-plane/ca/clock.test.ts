import { describe, expect, it } from 'vitest';
import { createManualClock, createSystemClock } from '../../../control-plane/src/ca/index.js';

describe('manual clock', () => {
  it('fires due timers in order, at their due time, awaiting async callbacks', async () => {
    const clock = createManualClock(1000);
    const seen: string[] = [];
    clock.setTimer(() => void seen.push(`b@${clock.now()}`), 200);
    clock.setTimer(async () => {
      await new Promise((r) => setTimeout(r, 5));
      seen.push(`a@${clock.now()}`);
      clock.setTimer(() => void seen.push(`c@${clock.now()}`), 50); // re-armed inside the window
    }, 100);
    const cancelled = clock.setTimer(() => void seen.push('never'), 150);
    clock.clearTimer(cancelled);
    clock.setTimer(() => void seen.push('later'), 10_000);
    await clock.advance(300);
    expect(seen).toEqual(['a@1100', 'c@1150', 'b@1200']);
    expect(clock.now()).toBe(1300);
    expect(clock.pendingTimers()).toBe(1);
  });
});

describe('system clock', () => {
  it('runs timers and can cancel them', async () => {
    const clock = createSystemClock();
    const fired: number[] = [];
    clock.setTimer(() => void fired.push(1), 5);
    const t = clock.setTimer(() => void fired.push(2), 5);
    clock.clearTimer(t);
    await new Promise((r) => setTimeout(r, 30));
    expect(fired).toEqual([1]);
    expect(Math.abs(clock.now() - Date.now())).toBeLessThan(5);
  });
});
