import type { InvoiceLine } from './priced-month';

export const INVOICE_CSV_HEADER = [
  'kind',
  'description',
  'quantity',
  'unitFen',
  'amountFen',
] as const;

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

/**
 * RFC 4180 CSV from rows of cells already written as text; every CSV
 * Seatmate serves (invoices, the consultations audit) goes through here.
 * Text cells must pass through `csvText` first (formula guard).
 */
export function csvDocument(
  rows: readonly (readonly string[])[],
  options: { bom?: boolean } = {},
): string {
  const body = `${rows.map((r) => r.map(quote).join(',')).join('\r\n')}\r\n`;
  return options.bom ? `\uFEFF${body}` : body;
}

/** A text cell, with a leading ' when it would otherwise start a formula. */
export function csvText(value: string): string {
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
