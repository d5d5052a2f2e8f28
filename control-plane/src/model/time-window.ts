/**
 * Time-window evaluation for authorization rules. Pure: the caller passes `now`. The control plane's
 * scheduler re-translates at {@link nextTimeWindowTransition} so timed rules appear and disappear.
 */
import { WEEKDAYS, type TimeWindow, type Weekday } from './authorization-policy.js';

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;

/** Minutes since midnight for `HH:MM` (00:00..24:00), or undefined when malformed. */
export function parseClock(s: string): number | undefined {
  if (!HHMM.test(s)) return undefined;
  const [h, m] = s.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

/** True when `tz` is an IANA zone this runtime knows. */
export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Weekday and minute-of-day of `now` in `timeZone`. */
export function localClock(now: Date, timeZone: string): { day: Weekday; minute: number } {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, f);
  }
  let day: Weekday = 'mon';
  let hour = 0;
  let minute = 0;
  for (const part of f.formatToParts(now)) {
    if (part.type === 'weekday') day = part.value.slice(0, 3).toLowerCase() as Weekday;
    else if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { day, minute: hour * 60 + minute };
}

function previousDay(d: Weekday): Weekday {
  return WEEKDAYS[(WEEKDAYS.indexOf(d) + 6) % 7]!;
}

/**
 * True when `now` falls inside the window. Assumes a validated window (see validateMeshModel);
 * a malformed one is never open.
 */
export function isWithinTimeWindow(w: TimeWindow, now: Date): boolean {
  const start = parseClock(w.start);
  const end = parseClock(w.end);
  if (start === undefined || end === undefined) return false;
  const { day, minute } = localClock(now, w.timeZone ?? 'UTC');
  const days = w.days && w.days.length > 0 ? w.days : WEEKDAYS;
  if (start < end) return days.includes(day) && minute >= start && minute < end;
  // Crosses midnight (or start == end: a full 24 h from start).
  if (minute >= start) return days.includes(day);
  return minute < end && days.includes(previousDay(day));
}

/** True when any window is open (an empty/absent list means always). */
export function isWithinAnyTimeWindow(windows: readonly TimeWindow[] | undefined, now: Date): boolean {
  if (!windows || windows.length === 0) return true;
  return windows.some((w) => isWithinTimeWindow(w, now));
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** Local wall-clock time minus UTC at instant `t` (ms), in `timeZone`. */
function tzOffsetMs(t: number, timeZone: string): number {
  let f = offsetFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', hourCycle: 'h23' });
    offsetFormatters.set(timeZone, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(t))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const wall = Date.UTC(p['year']!, p['month']! - 1, p['day']!, p['hour']!, p['minute']!);
  return wall - Math.floor(t / 60_000) * 60_000;
}

/** The UTC instant of a local wall-clock minute (approximate across DST gaps; callers refine). */
function localToUtc(localMidnightUtc: number, minuteOfDay: number, timeZone: string): number {
  const wall = localMidnightUtc + minuteOfDay * 60_000;
  const first = wall - tzOffsetMs(wall, timeZone);
  return wall - tzOffsetMs(first, timeZone);
}

/** The earliest minute after `now` at which this window opens or closes (within 9 days). */
function nextFlip(w: TimeWindow, now: Date): number | undefined {
  const start = parseClock(w.start);
  const end = parseClock(w.end);
  if (start === undefined || end === undefined) return undefined;
  const tz = w.timeZone ?? 'UTC';
  const t0 = now.getTime();
  const initial = isWithinTimeWindow(w, now);
  const localNow = t0 + tzOffsetMs(t0, tz);
  const localMidnight = Math.floor(localNow / 86_400_000) * 86_400_000;
  const candidates: number[] = [];
  for (let day = -1; day <= 8; day++) {
    const midnight = localMidnight + day * 86_400_000;
    for (const minute of [start, end]) {
      const c = localToUtc(midnight, minute, tz);
      // DST moves wall clocks by up to an hour: also try an hour later and refine backwards.
      for (const x of [c, c + 3_600_000]) if (x > t0) candidates.push(Math.floor(x / 60_000) * 60_000);
    }
  }
  candidates.sort((a, b) => a - b);
  for (const c of candidates) {
    if (isWithinTimeWindow(w, new Date(c)) === initial) continue;
    let t = c;
    for (let i = 0; i < 120 && t - 60_000 > t0 && isWithinTimeWindow(w, new Date(t - 60_000)) !== initial; i++) t -= 60_000;
    return t;
  }
  return undefined;
}

/**
 * The earliest instant after `now` (to the minute, looking up to 8 days ahead) at which any of the
 * windows opens or closes, or undefined if none does. Computed from each window's start and end in
 * its own time zone (DST-aware), not by scanning, so it is cheap enough to call after every push.
 */
export function nextTimeWindowTransition(windows: readonly TimeWindow[], now: Date): Date | undefined {
  let best: number | undefined;
  for (const w of windows) {
    const f = nextFlip(w, now);
    if (f !== undefined && (best === undefined || f < best)) best = f;
  }
  return best === undefined ? undefined : new Date(best);
}
