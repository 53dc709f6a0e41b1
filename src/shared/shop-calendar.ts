import { DateTime, IANAZone } from 'luxon';

/** Days are `YYYY-MM-DD` and months `YYYY-MM`, always in the shop's own IANA time zone. */
export type Day = string;
export type Month = string;

const MONTH_RE = /^(\d{4})-(0[1-9]|1[0-2])$/;
const DAY_RE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;

// Both are pure and hot (every priced month validates its zone and lists its days): luxon is slow at them.
const validZones = new Map<string, boolean>();
const monthDays = new Map<string, readonly Day[]>();

export function isTimeZone(zone: string): boolean {
  let valid = validZones.get(zone);
  if (valid === undefined) {
    valid = IANAZone.isValidZone(zone);
    if (validZones.size < 10_000) validZones.set(zone, valid);
  }
  return valid;
}

/**
 * The zone's canonical IANA name (`asia/taipei` → `Asia/Taipei`). Zones are
 * accepted in any letter case, but stored names are compared as written.
 */
export function canonicalTimeZone(zone: string): string {
  const resolved = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  // Only the letter case is mended, and only when ICU names the same zone: for a link it
  // answers another name (Asia/Kolkata → Asia/Calcutta), and the shop's own is kept as given.
  return resolved.toLowerCase() === zone.toLowerCase() ? resolved : zone;
}

export function isMonth(value: string): boolean {
  return MONTH_RE.test(value);
}

export function isDay(value: string): boolean {
  return DAY_RE.test(value) && DateTime.fromISO(value, { zone: 'UTC' }).isValid;
}

/** A calendar day of one zone as the instant range [startMs, endMs) it covers. */
interface DaySpan {
  day: Day;
  startMs: number;
  endMs: number;
}

/**
 * The last few days looked up per zone. Every buyer message asks for its day
 * (and month) in its shop's zone, and luxon's zone arithmetic costs tens of µs
 * per call; nearly every instant falls on one of the last few days seen.
 */
const recentDays = new Map<string, DaySpan[]>();
const RECENT_DAYS_PER_ZONE = 4;

function daySpan(instantMs: number, zone: string): DaySpan {
  let spans = recentDays.get(zone);
  if (spans) {
    for (const span of spans) if (instantMs >= span.startMs && instantMs < span.endMs) return span;
  } else {
    spans = [];
    if (recentDays.size >= 10_000) recentDays.clear();
    recentDays.set(zone, spans);
  }
  const at = DateTime.fromMillis(instantMs, { zone });
  const start = at.startOf('day');
  const span = {
    day: at.toFormat('yyyy-LL-dd'),
    startMs: start.toMillis(),
    endMs: start.plus({ days: 1 }).startOf('day').toMillis(),
  };
  // Only a plain 24-hour day with one UTC offset throughout is remembered: on a day with a DST
  // change (or an invalid zone or instant) the local date need not follow the instant, so each
  // lookup asks luxon.
  const plain =
    span.endMs - span.startMs === 86_400_000 &&
    DateTime.fromMillis(span.endMs - 1, { zone }).offset === start.offset &&
    instantMs >= span.startMs &&
    instantMs < span.endMs;
  if (plain) {
    spans.unshift(span);
    if (spans.length > RECENT_DAYS_PER_ZONE) spans.pop();
  }
  return span;
}

/** The calendar day an instant falls on in `zone`. */
export function dayOf(instantMs: number, zone: string): Day {
  return daySpan(instantMs, zone).day;
}

export function monthOf(instantMs: number, zone: string): Month {
  return daySpan(instantMs, zone).day.slice(0, 7);
}

/** Every calendar day of a month, in order. */
export function daysOfMonth(month: Month): Day[] {
  let days = monthDays.get(month);
  if (!days) {
    const start = DateTime.fromISO(`${month}-01`, { zone: 'UTC' });
    const count = start.daysInMonth ?? 0;
    days = Array.from({ length: count }, (_, i) => start.plus({ days: i }).toFormat('yyyy-LL-dd'));
    if (monthDays.size < 10_000) monthDays.set(month, days);
  }
  return [...days];
}

/** Month bounds already computed, by zone and month (every metered event asks for its month's end). */
const monthBoundsMemo = new Map<string, { startMs: number; endMs: number }>();

/** The half-open instant range [start, end) that a month covers in `zone`. */
export function monthBounds(month: Month, zone: string): { startMs: number; endMs: number } {
  const key = `${zone} ${month}`;
  let bounds = monthBoundsMemo.get(key);
  if (!bounds) {
    // Each end is the first instant of a 1st: adding a month to a start moved by a DST gap
    // (Asuncion, 1 October 2023 began at 01:00) would end the month an hour late.
    bounds = {
      startMs: dayStart(`${month}-01`, zone),
      endMs: dayStart(`${nextMonth(month)}-01`, zone),
    };
    if (monthBoundsMemo.size >= 10_000) monthBoundsMemo.clear();
    monthBoundsMemo.set(key, bounds);
  }
  return { ...bounds };
}

/** Local midnights already computed, by zone and day (the meter asks for the same few all day). */
const dayStarts = new Map<string, number>();

/** The instant a calendar day begins in `zone` (its local midnight, whatever DST does). */
export function dayStart(day: Day, zone: string): number {
  const key = `${zone} ${day}`;
  let start = dayStarts.get(key);
  if (start === undefined) {
    // luxon moves a skipped midnight forward (the day's real start) but gives a repeated one
    // its later offset: Havana falls back from 01:00 to 00:00 on 1 November 2026, and that
    // day began at the first midnight, an hour earlier.
    const midnight = DateTime.fromISO(day, { zone });
    const before = DateTime.fromMillis(midnight.toMillis() - 1, { zone });
    start =
      before.toFormat('yyyy-LL-dd') === day
        ? midnight.toMillis() + (midnight.offset - before.offset) * 60_000
        : midnight.toMillis();
    if (dayStarts.size >= 10_000) dayStarts.clear();
    dayStarts.set(key, start);
  }
  return start;
}

/** The calendar day `days` after (or before, when negative) `day`: plain proleptic Gregorian arithmetic. */
export function addDays(day: Day, days: number): Day {
  const date = new Date(0);
  date.setUTCFullYear(
    Number(day.slice(0, 4)),
    Number(day.slice(5, 7)) - 1,
    Number(day.slice(8, 10)) + days,
  );
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth() + 1;
  const dayOfMonth = date.getUTCDate();
  return `${String(year).padStart(4, '0')}-${month < 10 ? '0' : ''}${month}-${dayOfMonth < 10 ? '0' : ''}${dayOfMonth}`;
}

export function nextMonth(month: Month): Month {
  return DateTime.fromISO(`${month}-01`, { zone: 'UTC' }).plus({ months: 1 }).toFormat('yyyy-LL');
}

export function previousMonth(month: Month): Month {
  return DateTime.fromISO(`${month}-01`, { zone: 'UTC' }).minus({ months: 1 }).toFormat('yyyy-LL');
}

/** Days between two calendar days (b - a), ignoring the zone's DST shifts. */
export function daysBetween(a: Day, b: Day): number {
  const from = DateTime.fromISO(a, { zone: 'UTC' });
  const to = DateTime.fromISO(b, { zone: 'UTC' });
  return Math.round(to.diff(from, 'days').days);
}
