/**
 * Money arithmetic in integer fen. Every invoice line is rounded exactly once,
 * here, from an exact integer ratio, so no float ever reaches an amount.
 */

/**
 * An amount past what a number holds exactly: the plan's figures are too large to bill, which
 * is the plan's problem, not a bug (see month-report.ts).
 */
export class AmountOutOfRange extends RangeError {}

/**
 * `numerator / denominator` rounded to the nearest integer, halves rounded up
 * (away from zero for negative values, the commercial convention).
 * Throws when the result is not a safe integer, rather than lose fen silently.
 */
export function roundHalfUp(numerator: bigint | number, denominator: bigint | number): number {
  const n = toBigInt(numerator, 'numerator');
  const d = toBigInt(denominator, 'denominator');
  if (d === 0n) throw new RangeError('roundHalfUp: denominator is zero');
  const negative = n < 0n !== d < 0n;
  const absN = n < 0n ? -n : n;
  const absD = d < 0n ? -d : d;
  const rounded = (2n * absN + absD) / (2n * absD);
  return toSafeNumber(negative ? -rounded : rounded);
}

/** A bigint amount back to a number, refusing anything a number cannot hold exactly. */
export function toSafeNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new AmountOutOfRange(`amount ${value} fen exceeds the safe integer range`);
  }
  return Number(value);
}

/** `12345` → `"123.45"`, `-5` → `"-0.05"`: fen shown as yuan for invoice descriptions. */
export function formatYuan(amountFen: number): string {
  const sign = amountFen < 0 ? '-' : '';
  const abs = Math.abs(amountFen);
  return `${sign}${Math.trunc(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

function toBigInt(value: bigint | number, name: string): bigint {
  if (typeof value === 'bigint') return value;
  if (!Number.isSafeInteger(value))
    throw new RangeError(`roundHalfUp: ${name} ${value} is not a safe integer`);
  return BigInt(value);
}
