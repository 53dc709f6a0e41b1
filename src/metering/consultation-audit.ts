import { DateTime } from 'luxon';
import { csvDocument, csvText } from '../shared/csv';
import type { ConsultationMeter } from './consultation-meter';

export interface AuditRow {
  buyer: string;
  /** ISO-8601 with the shop zone's offset */
  firstMessageAt: string;
  firstResponseSeconds: number | null;
  converted: boolean;
}

/** Shows enough of a buyer id for an owner to recognise it, not enough to copy it: `bu***42`. */
export function maskBuyerId(id: string): string {
  const chars = [...id];
  if (chars.length <= 2) return `${chars[0] ?? ''}***`;
  if (chars.length <= 4) return `${chars[0]}***${chars[chars.length - 1]}`;
  return `${chars.slice(0, 2).join('')}***${chars.slice(-2).join('')}`;
}

/** One row per consultation of the day, in order of first message. */
export async function consultationAudit(
  meter: ConsultationMeter,
  shop: { id: string; timezone: string },
  day: string,
): Promise<AuditRow[]> {
  const rows = await meter.consultationsOn(shop.id, day);
  return rows.map((r) => ({
    buyer: maskBuyerId(r.buyerId),
    firstMessageAt:
      DateTime.fromMillis(r.firstAt, { zone: shop.timezone }).toISO({
        suppressMilliseconds: true,
      }) ?? '',
    firstResponseSeconds: r.firstResponseMs === null ? null : r.firstResponseMs / 1000,
    converted: r.converted,
  }));
}

export function auditToCsv(rows: readonly AuditRow[]): string {
  return csvDocument(
    [
      ['buyer', 'firstMessageAt', 'firstResponseSeconds', 'converted'],
      ...rows.map((r) => [
        csvText(r.buyer),
        r.firstMessageAt,
        r.firstResponseSeconds === null ? '' : String(r.firstResponseSeconds),
        String(r.converted),
      ]),
    ],
    { bom: true },
  );
}
