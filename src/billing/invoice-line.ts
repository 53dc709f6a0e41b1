import { exactDecimal } from './exact-decimal';
import { AmountOutOfRange, roundHalfUp } from './fen';
import type { InvoiceLine, LineKind } from './priced-month';

/**
 * Builds a line and computes its amount as one exact product, rounded once:
 * quantity and percent are read as decimals (2.5 h, 3.5 %), scaled to integers.
 */
export function invoiceLine(
  kind: LineKind,
  description: string,
  quantity: number,
  unitFen: number,
  percent?: number,
): InvoiceLine {
  if (!Number.isSafeInteger(unitFen)) throw new RangeError(`unitFen ${unitFen} is not an integer`);
  const q = exactDecimal(quantity);
  const p = exactDecimal(percent ?? 100);
  const amountFen = roundHalfUp(q.num * BigInt(unitFen) * p.num, q.den * p.den * 100n);
  return percent === undefined
    ? { kind, description, quantity, unitFen, amountFen }
    : { kind, description, quantity, unitFen, percent, amountFen };
}

export function sumAmounts(lines: readonly InvoiceLine[]): number {
  const total = lines.reduce((acc, l) => acc + l.amountFen, 0);
  if (!Number.isSafeInteger(total))
    throw new AmountOutOfRange('invoice total exceeds the safe integer range');
  return total;
}
