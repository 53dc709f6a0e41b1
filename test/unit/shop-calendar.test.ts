import { describe, expect, it } from 'vitest';
import { dayOf, daysOfMonth, monthBounds } from '../../src/shared/shop-calendar';

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
});
