/** Local calling hours: [from, to) on the listed weekdays, read in the contact's own time zone. */
export interface CallWindow {
  /** "HH:MM", local time. */
  from: string;
  /** "HH:MM", local time, after `from`. */
  to: string;
  /** ISO weekdays, 1 = Monday … 7 = Sunday. */
  days: number[];
  /** Used for contacts without a time zone of their own. */
  timeZone: string;
}

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

// Plain Intl, not a date library: workflow code imports this, and every module in the workflow bundle is
// instantiated once per running workflow (a date library measured ~20 ms and megabytes per session).
const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** Wall-clock fields of an instant in a zone. */
function wallClock(ms: number, timeZone: string) {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(ms)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!, second: parts.second! };
}

/** How far the zone's wall clock is ahead of UTC at an instant, in ms. */
function offsetAt(ms: number, timeZone: string): number {
  const w = wallClock(ms, timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - Math.floor(ms / 1000) * 1000;
}

/** The instant a wall-clock time occurs in a zone (in a DST gap: the moment just after it). */
function instantOf(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): number {
  const asUtc = Date.UTC(year, month - 1, day, hour, minute);
  const first = asUtc - offsetAt(asUtc, timeZone);
  const second = asUtc - offsetAt(first, timeZone);
  return Math.max(first, second);
}

/** The first moment at or after `nowMs` when a contact in `timeZone` may be called, in epoch ms. */
export function nextCallableAt(nowMs: number, window: CallWindow, timeZone: string | undefined): number {
  const zone = timeZone ?? window.timeZone;
  const today = wallClock(nowMs, zone);
  const [fromH, fromM] = window.from.split(':').map(Number) as [number, number];
  const [toH, toM] = window.to.split(':').map(Number) as [number, number];
  for (let i = 0; i < 8; i++) {
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day + i));
    const isoWeekday = ((date.getUTCDay() + 6) % 7) + 1;
    if (!window.days.includes(isoWeekday)) continue;
    const [y, m, d] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
    const closes = instantOf(y, m, d, toH, toM, zone);
    if (nowMs < closes) return Math.max(nowMs, instantOf(y, m, d, fromH, fromM, zone));
  }
  // Unreachable with at least one weekday; stay safe and look again in a day.
  return nowMs + 86_400_000;
}
