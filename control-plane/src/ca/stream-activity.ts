/**
 * Keeps the mesh CA's set of *active* identities in step with the xDS fleet: an identity with no
 * open stream for `idleMs` is deactivated (no more renewals, and it no longer holds up the
 * retirement of an old CA during a CA rotation). An identity that connects again simply gets a
 * fresh certificate.
 */
import type { FleetView, StreamStatus } from '../xds/fleet-view.js';
import type { ClockTimer } from './clock.js';
import type { MeshCa } from './mesh-ca.js';

export interface StreamActivityOptions {
  /** How long an identity may have no stream before it is deactivated. Defaults to 1 hour. */
  readonly idleMs?: number;
}

/** Subscribes to the fleet's connect/disconnect events; returns the function that stops it. */
export function trackStreamActivity(meshCa: MeshCa, fleet: Pick<FleetView, 'on' | 'off'>, options: StreamActivityOptions = {}): () => void {
  const idleMs = options.idleMs ?? 3600_000;
  const open = new Map<string, number>();
  const idleTimers = new Map<string, ClockTimer>();
  const onConnect = (s: StreamStatus): void => {
    const id = s.identity?.id;
    if (id === undefined) return;
    open.set(id, (open.get(id) ?? 0) + 1);
    const t = idleTimers.get(id);
    if (t) {
      meshCa.clock.clearTimer(t);
      idleTimers.delete(id);
    }
  };
  const onDisconnect = (s: StreamStatus): void => {
    const id = s.identity?.id;
    if (id === undefined) return;
    const n = (open.get(id) ?? 1) - 1;
    if (n > 0) {
      open.set(id, n);
      return;
    }
    open.delete(id);
    idleTimers.set(
      id,
      meshCa.clock.setTimer(() => {
        idleTimers.delete(id);
        if (!open.has(id)) meshCa.deactivate(id);
      }, idleMs),
    );
  };
  fleet.on('connect', onConnect);
  fleet.on('disconnect', onDisconnect);
  return () => {
    fleet.off('connect', onConnect);
    fleet.off('disconnect', onDisconnect);
    for (const t of idleTimers.values()) meshCa.clock.clearTimer(t);
    idleTimers.clear();
  };
}
