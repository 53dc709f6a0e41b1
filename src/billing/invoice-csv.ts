import type { InvoiceLine } from './priced-month';

export const INVOICE_CSV_HEADER = ['kind', 'description', 'quantity', 'unitFen', 'amountFen'] as const;

/** Text cells starting with these would run as a formula in Excel, WPS or LibreOffice (OWASP CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

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
    ...invoice.lines.map((l) => [text(l.kind), text(l.description), num(l.quantity), num(l.unitFen), num(l.amountFen)]),
    ['total', text(`Total (${invoice.currency})`), '', '', num(invoice.totalFen)],
  ];
  const body = rows.map((r) => r.map(quote).join(',')).join('\r\n') + '\r\n';
  return options.bom ? `\uFEFF${body}` : body;
}

function text(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

function num(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`invoice CSV: ${value} is not a finite number`);
  return String(value);
}

/** RFC 4180: quote a field holding a comma, quote or line break, doubling inner quotes. */
function quote(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}
