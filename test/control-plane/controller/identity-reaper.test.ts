import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../../control-plane/src/ca/clock.js';
import { createIdentityReaper } from '../../../control-plane/src/controller/identity-reaper.js';
import type { FleetView, StreamStatus } from '../../../control-plane/src/xds/fleet-view.js';

/** A fleet whose streams the test opens and closes. */
function fakeFleet() {
  const open = new Map<number, StreamStatus>();
  const handlers = { connect: new Set<(s: StreamStatus) => void>(), disconnect: new Set<(s: StreamStatus) => void>() };
  let next = 1;
  const view = {
    get size() {
      return open.size;
    },
    streams: () => [...open.values()],
    byNode: () => [],
    on(e: 'connect' | 'disconnect', l: (s: StreamStatus) => void) {
      handlers[e].add(l);
      return view;
    },
    off(e: 'connect' | 'disconnect', l: (s: StreamStatus) => void) {
      handlers[e].delete(l);
      return view;
    },
  } as unknown as FleetView;
  return {
    view,
    connect(id: string): number {
      const s = { streamId: next++, identity: { id } } as unknown as StreamStatus;
      open.set(s.streamId, s);
      for (const l of handlers.connect) l(s);
      return s.streamId;
    },
    disconnect(streamId: number): void {
      const s = open.get(streamId)!;
      open.delete(streamId);
      for (const l of handlers.disconnect) l(s);
    },
    listeners: () => handlers.connect.size + handlers.disconnect.size,
  };
}

describe('identity reaper', () => {
  it('deactivates an identity only after its last stream has been gone for the grace period', async () => {
    const clock = createManualClock(0);
    const fleet = fakeFleet();
    const deactivated: string[] = [];
    const reaper = createIdentityReaper({ fleet: fleet.view, clock, graceMs: 60_000, deactivate: (id) => deactivated.push(id) });
    const a1 = fleet.connect('spiffe://t/ns/a/sa/a');
    const a2 = fleet.connect('spiffe://t/ns/a/sa/a');
    const b = fleet.connect('spiffe://t/ns/b/sa/b');

    fleet.disconnect(a1); // a still has a2
    await clock.advance(120_000);
    expect(deactivated).toEqual([]);

    fleet.disconnect(a2);
    expect(reaper.pending()).toEqual(['spiffe://t/ns/a/sa/a']);
    await clock.advance(59_999);
    expect(deactivated).toEqual([]);
    // a reconnects within the grace period: nothing happens
    const a3 = fleet.connect('spiffe://t/ns/a/sa/a');
    await clock.advance(120_000);
    expect(deactivated).toEqual([]);
    fleet.disconnect(a3);
    await clock.advance(60_000);
    expect(deactivated).toEqual(['spiffe://t/ns/a/sa/a']);

    fleet.disconnect(b);
    reaper.close();
    await clock.advance(120_000);
    expect(deactivated).toEqual(['spiffe://t/ns/a/sa/a']);
    expect(fleet.listeners()).toBe(0);
  });
});
