import type { Shop } from '../shops/shop-registry';
import { daysOfMonth } from '../shared/shop-calendar';
import type { ConsultationMeter } from './consultation-meter';

export interface UsageReport {
  shopId: string;
  month: string;
  timezone: string;
  days: Array<{ date: string; consultations: number; receptions: number }>;
  consultations: number;
  receptions: number;
  /** Consultations / calendar days of the month, to two decimals. */
  averageDaily: number;
}

/** A month's usage for one shop, every calendar day listed (zero days too). */
export async function buildUsageReport(meter: ConsultationMeter, shop: Shop, month: string): Promise<UsageReport> {
  const days = await meter.countDays(shop.id, daysOfMonth(month));
  const consultations = days.reduce((sum, d) => sum + d.consultations, 0);
  const receptions = days.reduce((sum, d) => sum + d.receptions, 0);
  return {
    shopId: shop.id,
    month,
    timezone: shop.timezone,
    days,
    consultations,
    receptions,
    averageDaily: Math.round((consultations * 100) / days.length) / 100,
  };
}
