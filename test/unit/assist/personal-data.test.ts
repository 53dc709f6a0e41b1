import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findPersonalData, redactPersonalData } from '../../../src/assist/personal-data';

describe('redactPersonalData', () => {
  it.each([
    ['我的电话13812345678', '我的电话[phone]'],
    ['电话 +86 138 1234 5678 谢谢', '电话 [phone] 谢谢'],
    ['call 0086-139-1234-5678', 'call [phone]'],
    ['Call me on +44 20 7946 0958.', 'Call me on [phone].'],
    ['my number is (415) 555-0123', 'my number is [phone]'],
    ['手機0912-345-678', '手機[phone]'],
    ['座机 021-62345678', '座机 [phone]'],
    ['WhatsApp 9123 4567', 'WhatsApp [phone]'],
    ['手机１３８１２３４５６７８', '手机[phone]'],
  ])('redacts the phone number in %s', (input, expected) => {
    expect(redactPersonalData(input)).toBe(expected);
  });

  it.each([
    ['座机 (010)12345678', '座机 [phone]'],
    ['座机（０２１）６２３４５６７８', '座机[phone]'],
    ['座机 010 1234 5678', '座机 [phone]'],
    ['0755-8888 9999', '[phone]'],
    ['座机01012345678', '座机[phone]'],
    ['手机 138.1234.5678', '手机 [phone]'],
    ['手机：138—1234—5678', '手机：[phone]'],
    ['手机 138－1234－5678', '手机 [phone]'],
    ['电话 ＋８６ １３８ １２３４ ５６７８', '电话 [phone]'],
  ])('redacts the landline or IME-typed number in %s', (input, expected) => {
    expect(redactPersonalData(input)).toBe(expected);
  });

  // Buyers in the UK, Australia, the Philippines and India (regions the shops sell to) write their
  // numbers in national form, with no +country code: these must be redacted and never echoed too.
  it.each([
    ['call me on 07700 900123 when it arrives', 'call me on [phone] when it arrives'],
    ['landline 0161 496 0000', 'landline [phone]'],
    ['mob 0412 345 678 thanks', 'mob [phone] thanks'],
    ['text me 0412345678', 'text me [phone]'],
    ['(02) 9876 5432', '[phone]'],
    ['my number 0917 123 4567 po', 'my number [phone] po'],
    ['GCash 0917-123-4567', 'GCash [phone]'],
    ['09171234567 po', '[phone] po'],
    ['contact 98765 43210', 'contact [phone]'],
    ['07700900123', '[phone]'],
    // "No." and "#" before a number name a phone number as often as an order.
    ['Contact No. 0917-123-4567', 'Contact No. [phone]'],
    ['Mobile No: 07700 900123', 'Mobile No: [phone]'],
    ['Phone #: 0412 345 678', 'Phone #: [phone]'],
    ['电话No.010-12345678', '电话No.[phone]'],
  ])('redacts the national-format phone number in %s', (input, expected) => {
    expect(redactPersonalData(input)).toBe(expected);
  });

  it('redacts mainland ID numbers, with a digit or X as check character', () => {
    expect(redactPersonalData('身份证110101199003071234')).toBe('身份证[id-number]');
    expect(redactPersonalData('ID 44030619851212345X please')).toBe('ID [id-number] please');
  });

  it('redacts e-mail addresses', () => {
    expect(redactPersonalData('write to jane.doe+shop@example.co.uk')).toBe('write to [email]');
  });

  it.each([
    '收货地址：上海市浦东新区张江路88号3栋502室',
    '寄到杭州市西湖区文三路 100号',
    '地址是台北市大安區忠孝東路四段100號5樓',
    '我住阳光花园5栋1203',
    '送去九龍彌敦道123號',
    '成都市高新区天府大道北段1700号',
    '北京市朝阳区建国路88号SOHO现代城5号楼1201室',
    '浙江省杭州市西湖区文三路478号华星时代广场A座1501室',
    '海淀区学院路30号院5号楼302',
    '朝阳区某某小区3号楼2单元501室',
    '四季花城12栋3单元502',
    '翠苑一区12幢301室',
    '天通苑西三区8号楼4单元302',
    '北京市朝阳区望京SOHO T1 1501室',
  ])('redacts the Chinese street address in %s', (input) => {
    const out = redactPersonalData(input);
    expect(out).toContain('[address]');
    expect(out).not.toMatch(/\d{2,}/);
  });

  it('redacts English street addresses', () => {
    expect(redactPersonalData('ship to 221B Baker Street, London')).toBe(
      'ship to [address], London',
    );
    expect(redactPersonalData('1600 Pennsylvania Avenue NW')).toContain('[address]');
    expect(redactPersonalData('12 Queens Road, Apt 5 please')).toBe('[address] please');
  });

  it('leaves shopping talk alone: prices, sizes, quantities, questions about differences', () => {
    for (const text of [
      '这两个有什么区别',
      'M码和L码多少钱',
      '129元两件',
      'size 40 in black, $49.99',
      '我身高165体重110斤',
      '订单号 202611270001234',
      '三人座沙发，2座的也有吗',
      '3室1厅的客厅放得下吗',
      '38、39、40码都有吗',
      '价格 129-199元',
      'Shipped today, tracking JT0099812334.',
      'order 0201 2345',
      'delivered 2026-11-29 12:30',
      'SKU 04123 qty 2',
      'order #58213, 2 x 0.75 l',
      // A price range, a sofa's seats and length, a style code, order numbers after their label.
      '预算60000-80000元',
      '沙发3座210长',
      '款号 T1座2025',
      '订单号0412345678',
      '订单号：01012345678',
      'JT0412345678',
      'order #0412345678',
      'Order No. 0412345678',
      'tracking number 07700900123',
    ]) {
      expect(redactPersonalData(text)).toBe(text);
    }
  });

  it('always redacts generated Chinese mobile numbers, whatever surrounds them', () => {
    const mobile = fc
      .tuple(fc.constantFrom('3', '4', '5', '6', '7', '8', '9'), fc.stringMatching(/^\d{9}$/))
      .map(([second, rest]) => `1${second}${rest}`);
    fc.assert(
      fc.property(
        fc.string({ maxLength: 20 }).filter((s) => !/\d$/.test(s)),
        mobile,
        fc.constantFrom('', '，', ' 谢谢', '.'),
        (before, number, after) => {
          const out = redactPersonalData(`${before}${number}${after}`);
          expect(out).not.toContain(number);
        },
      ),
    );
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const once = redactPersonalData(text);
        expect(redactPersonalData(once)).toBe(once);
      }),
    );
  });
});

describe('findPersonalData', () => {
  it('names each kind found with its value', () => {
    expect(findPersonalData('电话13812345678，邮箱a@b.cn')).toEqual([
      { kind: 'email', value: 'a@b.cn' },
      { kind: 'phone', value: '13812345678' },
    ]);
    expect(findPersonalData('有黑色吗')).toEqual([]);
  });
});
