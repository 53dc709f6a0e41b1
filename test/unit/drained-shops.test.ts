import { describe, expect, it } from 'vitest';
import { DrainedShops } from '../../src/metering/meter-scripts';

describe("the meter's memory of drained legacy keys", () => {
  it('skips the check for ten minutes after one found the keys empty, then checks again', () => {
    let now = 0;
    const drained = new DrainedShops(600_000, () => now);
    expect(drained.flag('shop-a')).toBe('check');
    drained.learn('shop-a', 1);
    expect(drained.flag('shop-a')).toBe('check');
    drained.learn('shop-a', 0);
    expect(drained.flag('shop-a')).toBe('drained');
    expect(drained.flag('shop-b')).toBe('check');
    // Skipped checks report nothing left: that must not stretch the memory.
    now = 599_999;
    drained.learn('shop-a', 0);
    expect(drained.flag('shop-a')).toBe('drained');
    now = 600_000;
    expect(drained.flag('shop-a')).toBe('check');
    // Keys back behind the process (a restore): found again, drained again, forgotten meanwhile.
    drained.learn('shop-a', 1);
    expect(drained.flag('shop-a')).toBe('check');
    drained.learn('shop-a', 0);
    now = 1_199_999;
    expect(drained.flag('shop-a')).toBe('drained');
  });
});
