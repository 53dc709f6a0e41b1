import { describe, expect, it } from 'vitest';
import { loadCorpus, parseBatch } from '../../../src/assist/corpus';

const line = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: 'hans-train-9-001',
    batch: 'hans-train-9',
    region: 'CN',
    channel: 'taobao',
    note: 'asks for black',
    input: { history: [{ from: 'buyer', text: '有黑色吗' }] },
    expected: {
      stage: 'interested',
      intent: 'colour',
      locale: 'zh-Hans',
      sentiment: 'neutral',
      settled: {},
      given: [],
    },
    ...overrides,
  });

describe('the assist corpus', () => {
  it('parses every committed batch: a malformed line fails the test suite', () => {
    const batches = loadCorpus();
    expect(batches.length).toBeGreaterThan(0);
    for (const batch of batches) expect(batch.items.length, batch.name).toBeGreaterThan(0);
  });

  it('keeps the locked test split apart: test batches are named as such', () => {
    const batches = loadCorpus();
    expect(batches.some((b) => b.split === 'test')).toBe(true);
    for (const b of batches) expect(b.name.includes('-test-')).toBe(b.split === 'test');
  });

  it('names the line of a malformed item', () => {
    expect(() =>
      parseBatch('hans-train-9', `${line()}\n${line({ id: 'hans-train-9-002', region: 'XX' })}`),
    ).toThrow(/hans-train-9\.jsonl:2/);
    expect(() => parseBatch('hans-train-9', '{not json')).toThrow(
      /hans-train-9\.jsonl:1: not JSON/,
    );
  });

  it('refuses a conversation whose last turn is not the buyer’s, unknown labels and misfiled ids', () => {
    const agentLast = line({
      input: {
        history: [
          { from: 'buyer', text: '有黑色吗' },
          { from: 'agent', text: '有的' },
        ],
      },
    });
    expect(() => parseBatch('hans-train-9', agentLast)).toThrow(/last turn/);
    const badStage = JSON.parse(line());
    badStage.expected.stage = 'angry';
    expect(() => parseBatch('hans-train-9', JSON.stringify(badStage))).toThrow(/stage/);
    expect(() => parseBatch('hans-train-9', line({ id: 'tw-train-1-001' }))).toThrow(
      /id must start/,
    );
    expect(() => parseBatch('hans-final', line())).toThrow(/batch name/);
  });

  it('accepts a well-formed item', () => {
    const batch = parseBatch('hans-train-9', line());
    expect(batch.split).toBe('train');
    expect(batch.items[0]?.expected.intent).toBe('colour');
  });
});
