import { describe, expect, it } from 'vitest';
import {
  compareRatios,
  exactDecimal,
  formatRatio,
  ratio,
} from '../../../src/billing/exact-decimal';
import { formatYuan, roundHalfUp } from '../../../src/billing/fen';

describe('roundHalfUp', () => {
  it('rounds to the nearest integer with halves up', () => {
    expect(roundHalfUp(37035, 100)).toBe(370); // 370.35
    expect(roundHalfUp(37050, 100)).toBe(371); // 370.5
    expect(roundHalfUp(37049, 100)).toBe(370); // 370.49
    expect(roundHalfUp(7, 2)).toBe(4); // 3.5
    expect(roundHalfUp(0, 3)).toBe(0);
  });

  it('rounds negative halves away from zero and accepts bigints', () => {
    expect(roundHalfUp(-7, 2)).toBe(-4);
    expect(roundHalfUp(-37035, 100)).toBe(-370);
    expect(roundHalfUp(7, -2)).toBe(-4);
    expect(roundHalfUp(10n ** 18n + 5n * 10n ** 3n, 10n ** 4n)).toBe(10 ** 14 + 1); // 1e14 + 0.5 → 1e14 + 1
  });

  it('refuses a zero denominator, unsafe inputs and results beyond the safe range', () => {
    expect(() => roundHalfUp(1, 0)).toThrow(RangeError);
    expect(() => roundHalfUp(0.5, 1)).toThrow(RangeError);
    expect(() => roundHalfUp(10n ** 17n, 1n)).toThrow(RangeError);
  });
});

describe('formatYuan', () => {
  it('shows fen as yuan with two decimals', () => {
    expect(formatYuan(12345)).toBe('123.45');
    expect(formatYuan(5)).toBe('0.05');
    expect(formatYuan(-1000)).toBe('-10.00');
    expect(formatYuan(0)).toBe('0.00');
  });
});

describe('exactDecimal', () => {
  it('reads a number as the decimal that was typed', () => {
    expect(exactDecimal(3.5)).toEqual({ num: 35n, den: 10n });
    expect(exactDecimal(1.15)).toEqual({ num: 115n, den: 100n });
    expect(exactDecimal(50)).toEqual({ num: 50n, den: 1n });
    expect(exactDecimal(-0.25)).toEqual({ num: -25n, den: 100n });
  });

  it('handles exponent notation', () => {
    expect(exactDecimal(1e-7)).toEqual({ num: 1n, den: 10n ** 7n });
    expect(exactDecimal(1.5e21)).toEqual({ num: 15n * 10n ** 21n, den: 10n }); // 15e21 / 10
  });

  it('refuses NaN and infinities', () => {
    expect(() => exactDecimal(Number.NaN)).toThrow(RangeError);
    expect(() => exactDecimal(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it('compares and formats ratios exactly', () => {
    expect(compareRatios(ratio(1550, 31), exactDecimal(50))).toBe(0);
    expect(compareRatios(ratio(1551, 31), exactDecimal(50))).toBe(1);
    expect(compareRatios(ratio(999, 30), exactDecimal(33.3))).toBe(0);
    expect(formatRatio(ratio(1551, 31), 2)).toBe('50.03');
    expect(formatRatio(ratio(1, 8), 2)).toBe('0.13'); // 0.125 → 0.13
    expect(formatRatio(ratio(7, 2), 0)).toBe('4');
  });
});
