/**
 * The fields of a month aggregate (`m:MONTH:agg`, one hash per shop and
 * month), named once here. The meter's Lua scripts get them as generated
 * constants (`AGGREGATE_FIELDS_LUA`), and the readers use `dayField` and
 * `MONTH_FIELDS`, so the two sides cannot drift apart.
 */

/** Per-day figures, stored as `DAY|code`. */
export const DAY_FIELDS = {
  /** distinct buyers who wrote that day */
  consultations: 'c',
  /** consultations an agent answered */
  receptions: 'r',
  /** distinct agents who replied that day */
  seatDays: 's',
  /** consultations with a first response */
  answered: 'a',
  /** sum of first-response times (ms) */
  responseMs: 't',
  /** first responses within 3 minutes */
  within3Min: 'w',
  /** consultations followed by a paid order within the attribution window */
  converted: 'v',
} as const;

/** Whole-month figures. */
export const MONTH_FIELDS = {
  ratings: 'ratings',
  ratingSum: 'ratingSum',
  attributedFen: 'attributedFen',
} as const;

export type DayFigure = keyof typeof DAY_FIELDS;

export function dayField(day: string, figure: DayFigure): string {
  return `${day}|${DAY_FIELDS[figure]}`;
}

/** Lua tables `F` (suffix of each day field: `day .. F.consultations`) and `M` (month fields). */
export const AGGREGATE_FIELDS_LUA = [
  `local F = { ${Object.entries(DAY_FIELDS)
    .map(([name, code]) => `${name} = '|${code}'`)
    .join(', ')} }`,
  `local M = { ${Object.entries(MONTH_FIELDS)
    .map(([name, field]) => `${name} = '${field}'`)
    .join(', ')} }`,
].join('\n');
