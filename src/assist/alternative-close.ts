import type { OptionDimension, OptionsInFocus } from './catalog-options';

/** Two real options for an either-or question whose both answers are a purchase (二选一). */
export interface AlternativePair {
  key: string;
  a: string;
  b: string;
}

/**
 * Picks the two options to offer, preferring what the buyer already weighed:
 * two values the chat named; else the one named plus the next real value;
 * else the first two values of a product option; delivery days last (they
 * settle when, not what). Null when no dimension has two real values: then
 * there is no honest either-or question to ask.
 */
export function pickAlternative(options: OptionsInFocus): AlternativePair | null {
  const usable = options.dimensions.filter((d) => d.values.length >= 2);
  const pair = (d: OptionDimension, a: string | undefined, b: string | undefined) =>
    a !== undefined && b !== undefined && a !== b ? { key: d.key, a, b } : null;

  for (const d of usable) {
    if (d.mentioned.length >= 2)
      return pair(d, d.mentioned[d.mentioned.length - 2], d.mentioned[d.mentioned.length - 1]);
  }
  for (const d of usable) {
    const named = d.mentioned[0];
    if (named !== undefined)
      return pair(
        d,
        named,
        d.values.find((v) => v !== named),
      );
  }
  const products = usable.filter((d) => d.key !== 'deliveryDays');
  const first = products[0] ?? usable[0];
  return first ? pair(first, first.values[0], first.values[1]) : null;
}
