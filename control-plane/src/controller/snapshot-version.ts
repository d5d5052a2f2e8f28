/**
 * Snapshot versions: the store revision, so a restarted control plane serves the versions it
 * served before (the store keeps revisions across restarts) and the API's config version is the
 * xDS version_info operators see ACKed in the fleet view.
 *
 * Time-windowed authorization rules change the translated content without a new revision, so
 * while a model has any, the version carries which windows are open: `<revision>.w<bits>` (one bit
 * per window in model order, `1` = open; hashed when there are more than 32). The same revision and
 * window state always give the same content, so the version stays a pure function of the content's
 * inputs. Pure.
 */
import { createHash } from 'node:crypto';
import type { TimeWindow } from '../model/authorization-policy.js';
import type { MeshModel } from '../model/mesh-model.js';
import { isWithinTimeWindow, nextTimeWindowTransition } from '../model/time-window.js';

/** Every time window of every authorization rule, in model order. */
export function timeWindowsOf(model: MeshModel): TimeWindow[] {
  const out: TimeWindow[] = [];
  for (const p of model.authorizationPolicies) for (const r of p.rules) for (const w of r.when ?? []) out.push(w);
  return out;
}

/** The snapshot version for `revision` of `model` at `now`. */
export function snapshotVersion(revision: number, model: MeshModel, now: Date): string {
  const windows = timeWindowsOf(model);
  if (windows.length === 0) return String(revision);
  const bits = windows.map((w) => (isWithinTimeWindow(w, now) ? '1' : '0')).join('');
  const tag = bits.length <= 32 ? bits : createHash('sha256').update(bits).digest('hex').slice(0, 12);
  return `${revision}.w${tag}`;
}

/** The store revision a version was made from (the part before any `.w` tag); NaN when not one of ours. */
export function revisionOfVersion(version: string): number {
  const m = /^(\d+)(?:\.w[0-9a-f]+)?$/.exec(version);
  return m === null ? NaN : Number(m[1]);
}

/** When the open/closed state of any window of the model next changes (minute precision), if ever within 8 days. */
export function nextWindowFlip(model: MeshModel, now: Date): Date | undefined {
  return nextTimeWindowTransition(timeWindowsOf(model), now);
}
