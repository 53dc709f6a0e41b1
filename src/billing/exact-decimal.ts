/**
 * Plan figures such as 3.5 (percent) or 50.5 (average daily) arrive as JSON
 * numbers. Read them as the decimal the operator typed (the shortest string
 * that round-trips), never as the binary float, so 3.5% of 12345 fen is
 * computed as 35/1000 × 12345 exactly.
 */
export interface Ratio {
  /** numerator */
  readonly num: bigint;
  /** denominator, always a positive power of ten */
  readonly den: bigint;
}

const DECIMAL_RE = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/i;

export function exactDecimal(value: number): Ratio {
  if (!Number.isFinite(value))
    throw new RangeError(`exactDecimal: ${value} is not a finite number`);
  const match = DECIMAL_RE.exec(String(value));
  if (!match) throw new RangeError(`exactDecimal: cannot read ${value} as a decimal`);
  const [, sign = '', whole = '0', fraction = '', exponent = '0'] = match;
  let num = BigInt(`${sign}${whole}${fraction}`);
  let den = 10n ** BigInt(fraction.length);
  const exp = Number(exponent);
  if (exp >= 0) num *= 10n ** BigInt(exp);
  else den *= 10n ** BigInt(-exp);
  return { num, den };
}

/** a/b compared with c/d by cross-multiplying (denominators are positive): -1, 0 or 1. */
export function compareRatios(a: Ratio, b: Ratio): -1 | 0 | 1 {
  const left = a.num * b.den;
  const right = b.num * a.den;
  return left < right ? -1 : left > right ? 1 : 0;
}

/** `num / den` for integer counts, as a Ratio (den must be positive). */
export function ratio(num: number | bigint, den: number | bigint): Ratio {
  const d = BigInt(den);
  if (d <= 0n) throw new RangeError('ratio: denominator must be positive');
  return { num: BigInt(num), den: d };
}

/** A ratio shown with `places` decimals, rounded half up: for descriptions and inputs only. */
export function formatRatio(r: Ratio, places: number): string {
  const scale = 10n ** BigInt(places);
  const negative = r.num < 0n;
  const abs = negative ? -r.num : r.num;
  const scaled = (2n * abs * scale + r.den) / (2n * r.den);
  const whole = scaled / scale;
  const fraction = (scaled % scale).toString().padStart(places, '0');
  return `${negative && scaled !== 0n ? '-' : ''}${whole}${places > 0 ? `.${fraction}` : ''}`;
}
