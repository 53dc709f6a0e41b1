import { describe, expect, it } from 'vitest';
import { createAssistant } from '../../../src/assist/assistant';
import { auditResult, loadEvalSet } from '../../../src/assist/eval-set';

const items = loadEvalSet();

describe('the labelled eval set', () => {
  it('covers the three locales and all six stages, with and without catalog, busy nudge and personal data', () => {
    expect(items.length).toBeGreaterThanOrEqual(60);
    expect(new Set(items.map((i) => i.expected.locale))).toEqual(
      new Set(['zh-Hans', 'zh-Hant', 'en']),
    );
    expect(new Set(items.map((i) => i.expected.stage)).size).toBe(6);
    expect(items.some((i) => i.input.catalog)).toBe(true);
    expect(items.some((i) => !i.input.catalog)).toBe(true);
    expect(items.some((i) => i.input.settings?.busyNudge === true)).toBe(true);
    expect(items.some((i) => i.id.includes('injection'))).toBe(true);
  });

  it('gets rules-engine answers that break no guardrail', async () => {
    const assistant = createAssistant();
    const problems: string[] = [];
    for (const item of items) {
      const result = await assistant.suggest(item.input);
      for (const p of auditResult(item.input, result, item.expected.stage))
        problems.push(`${item.id}: ${p}`);
    }
    expect(problems).toEqual([]);
  });
});
