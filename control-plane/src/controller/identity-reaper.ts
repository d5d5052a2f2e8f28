/**
 * Stops renewing the certificates of identities that left. The mesh CA renews every identity whose
 * secrets were ever served (it cannot know when an Envoy is gone); the fleet can. When the last
 * ADS stream of an identity closes, a grace timer starts; if no stream of that identity connects
 * again before it fires, the identity is deactivated (no more renewals, its certificate is
 * forgotten; a later stream simply gets a fresh one). A stream of the identity connecting cancels
 * the timer.
 *
 * Lifecycle: `createIdentityReaper()` subscribes to the fleet; `close()` unsubscribes and cancels
 * every timer. The reaper owns nothing else.
 */
import type { Clock, ClockTimer } from '../ca/clock.js';
import type { FleetView, StreamStatus } from '../xds/fleet-view.js';

export interface IdentityReaperOptions {
  readonly fleet: FleetView;
  /** What to do with an identity that is gone (the mesh CA's `deactivate`). */
  readonly deactivate: (identityId: string) => void;
  /** How long an identity may have no stream before it is deactivated. */
  readonly graceMs: number;
  readonly clock: Clock;
  readonly onDeactivated?: (identityId: string) => void;
}

export interface IdentityReaper {
  /** Identities waiting out their grace period. */
  pending(): readonly string[];
  close(): void;
}

export function createIdentityReaper(options: IdentityReaperOptions): IdentityReaper {
  const { fleet, clock } = options;
  const timers = new Map<string, ClockTimer>();
  const cancel = (id: string): void => {
    const t = timers.get(id);
    if (t !== undefined) clock.clearTimer(t);
    timers.delete(id);
  };
  const onConnect = (s: StreamStatus): void => {
    if (s.identity !== undefined) cancel(s.identity.id);
  };
  const onDisconnect = (s: StreamStatus): void => {
    const id = s.identity?.id;
    if (id === undefined || timers.has(id)) return;
    if (fleet.streams().some((o) => o.identity?.id === id)) return;
    timers.set(
      id,
      clock.setTimer(() => {
        timers.delete(id);
        if (fleet.streams().some((o) => o.identity?.id === id)) return;
        options.deactivate(id);
        options.onDeactivated?.(id);
      }, options.graceMs),
    );
  };
  fleet.on('connect', onConnect);
  fleet.on('disconnect', onDisconnect);
  return {
    pending: () => [...timers.keys()],
    close() {
      fleet.off('connect', onConnect);
      fleet.off('disconnect', onDisconnect);
      for (const id of [...timers.keys()]) cancel(id);
    },
  };
}
