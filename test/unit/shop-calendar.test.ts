import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  addDays,
  dayOf,
  dayStart,
  daysOfMonth,
  monthBounds,
  monthOf,
} from '../../src/shared/shop-calendar';

// Zones with DST changes at midnight or at odd hours, half-hour offsets, and a day skipped.
const ZONES = [
  'Asia/Shanghai',
  'America/Los_Angeles',
  'America/Havana',
  'America/Santiago',
  'Asia/Kolkata',
  'Australia/Lord_Howe',
  'Pacific/Apia',
  'Europe/London',
  'UTC',
];

describe('shop calendar', () => {
  it('puts 23:59 and 00:01 Shanghai time on different days', () => {
    expect(dayOf(Date.parse('2026-03-01T23:59:00+08:00'), 'Asia/Shanghai')).toBe('2026-03-01');
    expect(dayOf(Date.parse('2026-03-02T00:01:00+08:00'), 'Asia/Shanghai')).toBe('2026-03-02');
  });

  it('uses the zone of the shop, not UTC', () => {
    const instant = Date.parse('2026-03-02T03:00:00Z');
    expect(dayOf(instant, 'Asia/Shanghai')).toBe('2026-03-02');
    expect(dayOf(instant, 'America/Los_Angeles')).toBe('2026-03-01');
  });

  it('lists every day of a month, leap years included', () => {
    expect(daysOfMonth('2028-02')).toHaveLength(29);
    expect(daysOfMonth('2026-02').at(-1)).toBe('2026-02-28');
  });

  it('bounds a month by the shop zone midnight', () => {
    const { startMs, endMs } = monthBounds('2026-01', 'Asia/Shanghai');
    expect(new Date(startMs).toISOString()).toBe('2025-12-31T16:00:00.000Z');
    expect(new Date(endMs).toISOString()).toBe('2026-01-31T16:00:00.000Z');
  });

  it('remembered days and months agree with luxon around every DST change, in any order', () => {
    // Instants clustered in a few days (so the memory is used) and spread over years (DST changes).
    const instant = fc.oneof(
      fc.integer({
        min: Date.parse('2011-12-28T00:00:00Z'),
        max: Date.parse('2012-01-03T00:00:00Z'),
      }),
      fc.integer({
        min: Date.parse('2000-01-01T00:00:00Z'),
        max: Date.parse('2035-01-01T00:00:00Z'),
      }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(instant, fc.constantFrom(...ZONES)), { maxLength: 60 }),
        (calls) => {
          for (const [ms, zone] of calls) {
            const at = DateTime.fromMillis(ms, { zone });
            expect(dayOf(ms, zone)).toBe(at.toFormat('yyyy-LL-dd'));
            expect(monthOf(ms, zone)).toBe(at.toFormat('yyyy-LL'));
          }
        },
      ),
      { numRuns: 300 },
    );
    // Every hour across the transitions of a year, in each zone, against luxon.
    for (const zone of ZONES)
      for (
        let ms = Date.parse('2024-01-01T00:00:00Z');
        ms < Date.parse('2025-01-01T00:00:00Z');
        ms += 1_800_000
      )
        expect(dayOf(ms, zone)).toBe(DateTime.fromMillis(ms, { zone }).toFormat('yyyy-LL-dd'));
  });

  it('Samoa skipped 30 December 2011: the instant after 29 December is on the 31st', () => {
    const end29 = DateTime.fromISO('2011-12-29T23:59:59', { zone: 'Pacific/Apia' }).toMillis();
    expect(dayOf(end29, 'Pacific/Apia')).toBe('2011-12-29');
    expect(dayOf(end29 + 1000, 'Pacific/Apia')).toBe('2011-12-31');
  });

  it('adds days across months, leap days and years', () => {
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
    expect(addDays('2026-02-28', 1)).toBe('2026-03-01');
    expect(addDays('2026-01-01', -1)).toBe('2025-12-31');
    expect(addDays('2026-03-30', 2)).toBe('2026-04-01');
    expect(addDays('0099-12-31', 1)).toBe('0100-01-01');
    fc.assert(
      fc.property(
        fc.integer({ min: Date.parse('1900-01-01'), max: Date.parse('2200-01-01') }),
        fc.integer({ min: -400, max: 400 }),
        (ms, n) => {
          const day = new Date(ms).toISOString().slice(0, 10);
          expect(addDays(day, n)).toBe(
            DateTime.fromISO(day, { zone: 'UTC' }).plus({ days: n }).toFormat('yyyy-LL-dd'),
          );
        },
      ),
    );
  });

  it('a day starts at its local midnight, also when asked again', () => {
    for (let i = 0; i < 2; i++) {
      expect(new Date(dayStart('2026-03-08', 'America/Los_Angeles')).toISOString()).toBe(
        '2026-03-08T08:00:00.000Z',
      );
      expect(new Date(dayStart('2026-03-09', 'America/Los_Angeles')).toISOString()).toBe(
        '2026-03-09T07:00:00.000Z',
      );
    }
  });

  it('a day and a month begin at the first instant of their date, when midnight repeats or is skipped', () => {
    // Havana falls back from 01:00 to 00:00 on 1 November 2026: the day began at the first midnight (-04:00).
    expect(new Date(dayStart('2026-11-01', 'America/Havana')).toISOString()).toBe(
      '2026-11-01T04:00:00.000Z',
    );
    expect(dayOf(Date.parse('2026-11-01T04:00:00Z'), 'America/Havana')).toBe('2026-11-01');
    expect(dayOf(Date.parse('2026-11-01T03:59:59.999Z'), 'America/Havana')).toBe('2026-10-31');
    expect(monthBounds('2026-11', 'America/Havana').startMs).toBe(
      Date.parse('2026-11-01T04:00:00Z'),
    );
    // Asuncion skipped midnight on 1 October 2023 (the day began at 01:00 -03:00), but 1 November
    // began at an ordinary midnight: October ends there, not an hour later.
    expect(monthBounds('2023-10', 'America/Asuncion')).toEqual({
      startMs: Date.parse('2023-10-01T04:00:00Z'),
      endMs: Date.parse('2023-11-01T03:00:00Z'),
    });
    expect(dayOf(Date.parse('2023-11-01T03:30:00Z'), 'America/Asuncion')).toBe('2023-11-01');
    // Every month of these zones ends where the next begins, at the first instant of its 1st.
    for (const zone of ZONES)
      for (let m = 0; m < 36; m++) {
        const month = DateTime.fromISO('2024-01-01', { zone: 'UTC' })
          .plus({ months: m })
          .toFormat('yyyy-LL');
        const { startMs, endMs } = monthBounds(month, zone);
        expect([zone, dayOf(startMs, zone), dayOf(startMs - 1, zone).slice(0, 7)]).toEqual([
          zone,
          `${month}-01`,
          DateTime.fromISO(`${month}-01`, { zone: 'UTC' }).minus({ months: 1 }).toFormat('yyyy-LL'),
        ]);
        expect([zone, month, dayOf(endMs - 1, zone).slice(0, 7)]).toEqual([zone, month, month]);
      }
  });
});
