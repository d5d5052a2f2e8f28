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

/**
 * The earliest instant after `now` (to the minute, searched up to 8 days ahead) at which the open/closed
 * state of any of the windows changes, or undefined if none ever changes. Minute granularity: the
 * scheduler re-translates at that instant.
 */
export function nextTimeWindowTransition(windows: readonly TimeWindow[], now: Date): Date | undefined {
  if (windows.length === 0) return undefined;
  const state = (t: Date): string => windows.map((w) => (isWithinTimeWindow(w, t) ? '1' : '0')).join('');
  const initial = state(now);
  const startMinute = Math.floor(now.getTime() / 60_000) * 60_000;
  for (let i = 1; i <= 8 * 24 * 60; i++) {
    const t = new Date(startMinute + i * 60_000);
    if (state(t) !== initial) return t;
  }
  return undefined;
}
