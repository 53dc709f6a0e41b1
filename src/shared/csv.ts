/** RFC 4180 CSV for owners' downloads (invoices, audits), safe to open in a spreadsheet. */

/** Text cells starting with these would run as a formula in Excel, WPS or LibreOffice (OWASP CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

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

/** RFC 4180: quote a field holding a comma, quote or line break, doubling inner quotes. */
function quote(field: string): string {
  return /[",\r\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}
