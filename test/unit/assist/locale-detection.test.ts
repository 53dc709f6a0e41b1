import { describe, expect, it } from 'vitest';
import { detectLocale, foreignScriptCharacters } from '../../../src/assist/locale-detection';

describe('detectLocale', () => {
  it('tells Simplified from Traditional by the characters only one script uses', () => {
    expect(detectLocale(['这件衣服有黑色吗？'])).toBe('zh-Hans');
    expect(detectLocale(['這件衣服有黑色嗎？'])).toBe('zh-Hant');
  });

  it('treats Hong Kong Cantonese written in Traditional characters as zh-Hant', () => {
    expect(detectLocale(['呢件幾多錢？有冇其他顏色？'])).toBe('zh-Hant');
  });

  it('reads English as English, and a Chinese message with a Latin size code as Chinese', () => {
    expect(detectLocale(['Does it come in navy?'])).toBe('en');
    expect(detectLocale(['XL码还有吗'])).toBe('zh-Hans');
  });

  it('weighs the whole conversation, so one English greeting does not outvote Chinese questions', () => {
    expect(detectLocale(['hi', '请问这个有L码吗'])).toBe('zh-Hans');
  });

  it('falls back to Simplified when only shared characters appear', () => {
    expect(detectLocale(['好的'])).toBe('zh-Hans');
  });
});

describe('foreignScriptCharacters', () => {
  it('finds Traditional characters in a Simplified reply and the reverse', () => {
    expect(foreignScriptCharacters('您好，这款还有货', 'zh-Hans')).toEqual([]);
    expect(foreignScriptCharacters('您好，這款还有货', 'zh-Hans')).toEqual(['這']);
    expect(foreignScriptCharacters('您好，這款還有貨', 'zh-Hant')).toEqual([]);
    expect(foreignScriptCharacters('您好，這款还有貨', 'zh-Hant')).toEqual(['还']);
  });

  it('finds Han characters in an English reply', () => {
    expect(foreignScriptCharacters('Sure, 好的', 'en')).toEqual(['好', '的']);
  });
});
