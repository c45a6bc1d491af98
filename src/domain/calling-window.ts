import { DateTime } from 'luxon';

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

function hm(text: string): { hour: number; minute: number } {
  const [hour, minute] = text.split(':').map(Number) as [number, number];
  return { hour, minute };
}

/**
 * The first moment at or after `nowMs` when a contact in `timeZone` may be called, in epoch ms.
 * luxon does the time-zone arithmetic (DST gaps and overlaps included); it only reads the clock passed
 * in, so workflow code may call this.
 */
export function nextCallableAt(nowMs: number, window: CallWindow, timeZone: string | undefined): number {
  const zone = timeZone ?? window.timeZone;
  const now = DateTime.fromMillis(nowMs, { zone });
  const from = hm(window.from);
  const to = hm(window.to);
  for (let i = 0; i < 8; i++) {
    const day = now.plus({ days: i }).startOf('day');
    if (!window.days.includes(day.weekday)) continue;
    const opens = day.set({ ...from, second: 0, millisecond: 0 }).toMillis();
    const closes = day.set({ ...to, second: 0, millisecond: 0 }).toMillis();
    if (nowMs < closes) return Math.max(nowMs, opens);
  }
  // Unreachable with at least one weekday; stay safe and try again in a day.
  return nowMs + 86_400_000;
}
