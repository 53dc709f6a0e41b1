import { csvDocument, csvText } from '../shared/csv';
import type { InvoiceLine } from './priced-month';

export { csvDocument };

export const INVOICE_CSV_HEADER = [
  'kind',
  'description',
  'quantity',
  'unitFen',
  'amountFen',
] as const;

/**
 * An invoice as RFC 4180 CSV: CRLF line ends, a header, one row per line and a
 * total row. Text cells are guarded against formula injection; numeric cells
 * are written from numbers we computed, so a credit stays a number (-1000).
 * `bom` prefixes a UTF-8 byte-order mark so Excel reads Chinese text correctly.
 */
export function invoiceToCsv(
  invoice: { currency: 'CNY'; lines: readonly InvoiceLine[]; totalFen: number },
  options: { bom?: boolean } = {},
): string {
  const rows: string[][] = [
    [...INVOICE_CSV_HEADER],
    ...invoice.lines.map((l) => [
      csvText(l.kind),
      csvText(l.description),
      num(l.quantity),
      num(l.unitFen),
      num(l.amountFen),
    ]),
    ['total', csvText(`Total (${invoice.currency})`), '', '', num(invoice.totalFen)],
  ];
  return csvDocument(rows, options);
}

function num(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`invoice CSV: ${value} is not a finite number`);
  return String(value);
}
