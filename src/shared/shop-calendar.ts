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

export function isMonth(value: string): boolean {
  return MONTH_RE.test(value);
}

export function isDay(value: string): boolean {
  return DAY_RE.test(value) && DateTime.fromISO(value, { zone: 'UTC' }).isValid;
}

/** The calendar day an instant falls on in `zone`. */
export function dayOf(instantMs: number, zone: string): Day {
  return DateTime.fromMillis(instantMs, { zone }).toFormat('yyyy-LL-dd');
}

export function monthOf(instantMs: number, zone: string): Month {
  return DateTime.fromMillis(instantMs, { zone }).toFormat('yyyy-LL');
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

/** The half-open instant range [start, end) that a month covers in `zone`. */
export function monthBounds(month: Month, zone: string): { startMs: number; endMs: number } {
  const start = DateTime.fromISO(`${month}-01`, { zone });
  return { startMs: start.toMillis(), endMs: start.plus({ months: 1 }).toMillis() };
}

/** The instant a calendar day begins in `zone` (its local midnight, whatever DST does). */
export function dayStart(day: Day, zone: string): number {
  return DateTime.fromISO(day, { zone }).startOf('day').toMillis();
}

/** The calendar day `days` after (or before, when negative) `day`. */
export function addDays(day: Day, days: number): Day {
  return DateTime.fromISO(day, { zone: 'UTC' }).plus({ days }).toFormat('yyyy-LL-dd');
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
