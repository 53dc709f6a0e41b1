import { describe, expect, it } from 'vitest';
import {
  assistRequestSchema,
  MAX_HISTORY_ENTRIES,
  MAX_MESSAGE_CHARS,
} from '../../../src/assist/assist-request-schema';

const message = { from: 'buyer', text: '有黑色吗' };
const issuePaths = (body: unknown) =>
  assistRequestSchema.safeParse(body).error?.issues.map((i) => i.path.join('.')) ?? [];

describe('assistRequestSchema', () => {
  it('accepts a minimal and a full body', () => {
    expect(assistRequestSchema.parse({ history: [message] })).toEqual({ history: [message] });
    const full = {
      shopId: 'shop_1',
      locale: 'zh-Hant',
      history: [
        { ...message, at: '2026-11-27T10:00:00+08:00' },
        { from: 'agent', text: '有的' },
      ],
    };
    expect(assistRequestSchema.parse(full)).toEqual(full);
  });

  it('names the field at fault', () => {
    expect(issuePaths({ history: [] })).toEqual(['history']);
    expect(
      issuePaths({ history: Array.from({ length: MAX_HISTORY_ENTRIES + 1 }, () => message) }),
    ).toEqual(['history']);
    expect(issuePaths({ history: [{ from: 'buyer', text: '  ' }] })).toEqual(['history.0.text']);
    expect(
      issuePaths({ history: [{ from: 'buyer', text: 'x'.repeat(MAX_MESSAGE_CHARS + 1) }] }),
    ).toEqual(['history.0.text']);
    expect(issuePaths({ history: [{ from: 'bot', text: 'hi' }] })).toEqual(['history.0.from']);
    expect(issuePaths({ history: [message], locale: 'fr' })).toEqual(['locale']);
    expect(issuePaths({ history: [{ ...message, at: 'yesterday' }] })).toEqual(['history.0.at']);
    expect(issuePaths({ history: [message], extra: 1 })).toEqual(['']);
  });

  it('accepts exactly the limits', () => {
    expect(
      issuePaths({
        history: Array.from({ length: MAX_HISTORY_ENTRIES }, () => ({
          from: 'buyer',
          text: 'x'.repeat(MAX_MESSAGE_CHARS),
        })),
      }),
    ).toEqual([]);
  });
});
