import { describe, expect, it } from 'vitest';
import {
  detectLocale,
  foreignScriptCharacters,
  inReplyScript,
  resolveLocale,
  shopDefaultLocale,
} from '../../../src/assist/locale-detection';

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

  it('lets neither 床 (written so in Taiwan and Hong Kong) nor 好嘞 (mainland too) decide the script', () => {
    const bed = [
      { from: 'buyer' as const, text: '想要套床品' },
      { from: 'agent' as const, text: '你好～請問張床幾大呢？' },
      { from: 'buyer' as const, text: '5呎 x 6呎2' },
    ];
    expect(resolveLocale(bed)).toBe('zh-Hant');
    expect(detectLocale(['好嘞 到上海大概几天呀'])).toBe('zh-Hans');
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

describe('resolveLocale: the reply locale of a conversation', () => {
  const b = (text: string) => ({ from: 'buyer' as const, text });
  const a = (text: string) => ({ from: 'agent' as const, text });

  it('gives "？" and emoji the script of the earlier turns, else the shop default', () => {
    expect(resolveLocale([b('這件有M嗎'), a('有的'), b('？')])).toBe('zh-Hant');
    expect(resolveLocale([b('？')], 'zh-Hant')).toBe('zh-Hant');
    expect(resolveLocale([b('👍')], 'zh-Hans')).toBe('zh-Hans');
    expect(resolveLocale([b('[Sticker]')], 'zh-Hant')).toBe('zh-Hant');
    expect(resolveLocale([b('SF1609283746512')], 'zh-Hant')).toBe('zh-Hant');
  });

  it('never answers a full-width "？" in English', () => {
    expect(resolveLocale([b('？')])).not.toBe('en');
    expect(resolveLocale([b('AirPods Pro 2？')], 'zh-Hant')).toBe('zh-Hant');
  });

  it('reads English by itself, and a bare "??" with nothing else as English', () => {
    expect(resolveLocale([b('??')])).toBe('en');
    expect(resolveLocale([b('where is my parcel')], 'zh-Hant')).toBe('en');
  });

  it('reads mixed text with Chinese in it, and pinyin, as Chinese', () => {
    expect(resolveLocale([b('ok I take this one，可以用PayLah吗？')])).toBe('zh-Hans');
    expect(resolveLocale([b('zhe ge you mei you hui se')])).toBe('zh-Hans');
  });

  it('reads Cantonese and zhuyin as Traditional even without convertible characters', () => {
    expect(resolveLocale([b('睇吓先 唔該')])).toBe('zh-Hant');
    expect(resolveLocale([b('安安 在ㄇ')])).toBe('zh-Hant');
  });
});

describe('messages that are not Chinese or English words', () => {
  it('reads no English in a pasted link: the conversation or the shop decides', () => {
    const link = {
      from: 'buyer' as const,
      text: 'https://item.taobao.com/item.htm?id=682913374521',
    };
    expect(resolveLocale([link], 'zh-Hans')).toBe('zh-Hans');
    expect(resolveLocale([link], 'zh-Hant')).toBe('zh-Hant');
    expect(resolveLocale([{ from: 'buyer', text: '這個還有貨嗎' }, link])).toBe('zh-Hant');
    expect(
      resolveLocale([{ from: 'buyer', text: 'www.shop.example/item/88 still available?' }]),
    ).toBe('en');
  });

  it('does not read Japanese or Korean as Chinese for the Han characters in it', () => {
    expect(resolveLocale([{ from: 'buyer', text: 'この靴の黒はまだ在庫ありますか？' }], 'en')).toBe(
      'en',
    );
    expect(
      resolveLocale([{ from: 'buyer', text: 'この靴の黒はまだ在庫ありますか？' }], 'zh-Hant'),
    ).toBe('zh-Hant');
    expect(resolveLocale([{ from: 'buyer', text: '이 가방 재고 있나요?' }], 'en')).toBe('en');
    // A Taiwanese "の" is still Chinese.
    expect(detectLocale(['我の最愛 這款還有嗎'])).toBe('zh-Hant');
  });
});

describe('shop default locale and catalog terms', () => {
  it('takes the setting, else the time zone (Taiwan, Hong Kong, Macau: Traditional)', () => {
    expect(shopDefaultLocale('en', 'Asia/Taipei')).toBe('en');
    expect(shopDefaultLocale(undefined, 'Asia/Hong_Kong')).toBe('zh-Hant');
    expect(shopDefaultLocale(undefined, 'Asia/Shanghai')).toBe('zh-Hans');
    expect(shopDefaultLocale(undefined, 'Europe/London')).toBeUndefined();
  });

  it('converts catalog terms into the reply script with OpenCC phrases', () => {
    expect(inReplyScript('浅灰色', 'zh-Hant')).toBe('淺灰色');
    expect(inReplyScript('护发精油', 'zh-Hant')).toBe('護髮精油');
    expect(inReplyScript('淺灰色', 'zh-Hans')).toBe('浅灰色');
    expect(inReplyScript('浅灰色', 'en')).toBe('浅灰色');
  });
});
