import { describe, expect, it } from 'vitest';
import { createAssistant } from '../../../src/assist/assistant';
import { findOptions } from '../../../src/assist/catalog-options';
import { givenIn, readDialogueState, settledIn } from '../../../src/assist/dialogue-state';
import type { ChatMessage } from '../../../src/assist/vocabulary';
import type { Catalog } from '../../../src/shops/shop-schema';

const buyer = (text: string): ChatMessage => ({ from: 'buyer', text });
const agent = (text: string): ChatMessage => ({ from: 'agent', text });

const tee: Catalog = {
  products: [
    {
      id: 'tee',
      name: '纯棉T恤',
      options: { colour: ['黑色', '白色', '灰色'], size: ['S', 'M', 'L'] },
      deliveryDays: ['周二', '周三'],
    },
  ],
};
const settled = (history: ChatMessage[], catalog: Catalog | undefined = tee) =>
  settledIn(history, findOptions(history, catalog));

describe('settled options', () => {
  it('settles what the buyer chose, not what they only asked about', () => {
    expect(settled([buyer('有灰色吗')])).toEqual({});
    expect(settled([buyer('有灰色吗'), agent('有的'), buyer('那就灰色M码吧')])).toEqual({
      colour: '灰色',
      size: 'M',
    });
  });

  it('settles the value a question builds on, not the one it asks about', () => {
    expect(settled([buyer('M码有白色吗')])).toEqual({ size: 'M' });
  });

  it('does not settle a value the buyer asks about with A-not-A or a question after a space', () => {
    for (const text of [
      'L码她能不能穿',
      'M码合不合适',
      '黑色好不好看',
      '黑色是不是很显胖',
      '呢個L碼啱唔啱我',
      'M 有货吗',
      '黑色 还有吗',
      'Hi 想問下 size M 仲有冇貨? thx',
      'L碼 仲有冇',
    ])
      expect(settled([buyer(text)]), text).toEqual({});
    // The space still parts a question from a choice.
    expect(settled([buyer('有黑色吗 那就要M吧')])).toEqual({ size: 'M' });
  });

  it('reads Cantonese 呢 before a classifier as "this", not as a question', () => {
    expect(settled([buyer('好啦 我要呢件黑色L碼，點樣付款？')])).toEqual({
      colour: '黑色',
      size: 'L',
    });
    expect(settled([buyer('我要呢個 M碼 白色')])).toEqual({ colour: '白色', size: 'M' });
    expect(settled([buyer('呢件有冇黑色？')])).toEqual({});
  });

  it('does not settle values the buyer compares or describes as a habit', () => {
    expect(settled([buyer('黑色和白色哪个耐脏')])).toEqual({});
    expect(settled([buyer('我平时穿M 这款偏大吗')])).toEqual({});
    // What someone wears in English is a habit too, not the size chosen.
    expect(settled([buyer('what size runs true? my husband wears an L in most brands')])).toEqual(
      {},
    );
    expect(settled([buyer('I wear M in tops, is this one slim?')])).toEqual({});
  });

  it('settles a short yes to the agent’s one recommendation, and an answer to an either-or', () => {
    expect(settled([buyer('165穿什么码'), agent('建议您选M哦'), buyer('好的')])).toEqual({
      size: 'M',
    });
    expect(settled([agent('您要黑色还是白色呢？'), buyer('白色')])).toEqual({ colour: '白色' });
  });

  it('lets a later choice replace an earlier one, and "算了" undo it', () => {
    expect(settled([buyer('要黑色'), buyer('还是要白色吧')])).toEqual({ colour: '白色' });
    expect(settled([buyer('要黑色'), buyer('黑色算了')])).toEqual({});
  });

  it('takes the value named after "算了" or "never mind" as the new choice, not a retraction', () => {
    expect(settled([buyer('给我拿白色S'), agent('好的'), buyer('算了还是要黑色吧 L码')])).toEqual({
      colour: '黑色',
      size: 'L',
    });
    expect(settled([buyer('要灰色'), buyer('算了 换成白色')])).toEqual({ colour: '白色' });
    const hoodie: Catalog = {
      products: [{ id: 'h', name: 'Hoodie', options: { colour: ['White', 'Black'], size: ['S'] } }],
    };
    expect(
      settled([buyer('White in S please'), buyer('never mind, make it the Black')], hoodie),
    ).toEqual({ colour: 'Black', size: 'S' });
    // Dropping a value is still dropping it.
    expect(settled([buyer('要白色'), buyer('算了 白色不要了')])).toEqual({});
    // A value negated after the change word is dropped, not the new choice.
    for (const text of ['算了还是不要灰色了', '算了还是别拿灰色'])
      expect(settled([buyer('要灰色'), buyer(text)]), text).toEqual({});
    // A value turned down in a sentence of its own is not chosen either.
    for (const text of ['我不要灰色', '不想要灰色的', '灰色M码吧 不要L'])
      expect(settled([buyer('要白色'), buyer(text)]), text).toEqual(
        text.includes('M') ? { colour: '灰色', size: 'M' } : { colour: '白色' },
      );
    expect(settled([buyer('要灰色'), buyer('还是不要灰色了')])).toEqual({});
    expect(settled([buyer('没问题灰色M码')])).toEqual({ colour: '灰色', size: 'M' });
    // 要不 is "how about": the value after it is the new choice.
    for (const text of ['算了要不灰色吧', '算了要不还是灰色吧'])
      expect(settled([buyer('要白色'), buyer(text)]), text).toEqual({ colour: '灰色' });
    expect(
      settled(
        [buyer('White in S please'), buyer('never mind make it anything but the White')],
        hoodie,
      ),
    ).toEqual({ size: 'S' });
  });

  it('settles what the buyer asked about once they buy', () => {
    expect(settled([buyer('白色L码还有吗'), agent('有的'), buyer('好 拍了')])).toEqual({
      colour: '白色',
      size: 'L',
    });
  });

  it('settles a value named by a word no other value has ("the one with the controller")', () => {
    const goggles: Catalog = {
      products: [
        {
          id: 'fpv',
          name: 'FPV Goggles Lite',
          options: { bundle: ['Goggles only', 'Goggles + Motion Controller'] },
        },
      ],
    };
    const history = [
      buyer('how do you fly it?'),
      agent('You fly by pointing your hand with the motion controller.'),
      buyer('ok the one with the controller. can I split it with Klarna?'),
    ];
    expect(settled(history, goggles)).toEqual({ bundle: 'Goggles + Motion Controller' });
    // Asking about it is not choosing it.
    expect(settled([buyer('is the controller hard to use?')], goggles)).toEqual({});
    // A number only one value has: "48 it is" for "48mm conical" beside "38mm conical".
    const grinder: Catalog = {
      products: [
        { id: 'k2', name: 'K2 grinder', options: { burr: ['38mm conical', '48mm conical'] } },
      ],
    };
    expect(settled([buyer('48 it is then. how do i check out')], grinder)).toEqual({
      burr: '48mm conical',
    });
  });

  it('settles what the buyer asked about once they take it, however they say so', () => {
    const holder: Catalog = {
      products: [{ id: 'stubby', name: 'Stubby holder', options: { colour: ['Navy', 'Olive'] } }],
    };
    for (const take of ["sweet I'll grab 2", 'mine po! gcash or bank?', 'ok reserve 1 for me']) {
      const history = [
        buyer('do they come in navy?'),
        agent('Yep, navy is in stock.'),
        buyer(take),
      ];
      expect(settled(history, holder)).toEqual({ colour: 'Navy' });
    }
  });

  it('reads English choices too', () => {
    const shirt: Catalog = {
      products: [
        { id: 's', name: 'Linen Shirt', options: { colour: ['navy', 'sage'], size: ['S', 'M'] } },
      ],
    };
    expect(settled([buyer('do you have it in navy?')], shirt)).toEqual({});
    expect(settled([buyer('ok small in navy then, how do I check out?')], shirt)).toEqual({
      colour: 'navy',
      size: 'S',
    });
  });
});

describe('remembered readings', () => {
  // Each buyer message's reading is remembered (every suggestion reads the history again):
  // the same words must still read by what surrounds them, never by an earlier conversation.
  it('reads the same message by whether the agent just asked for something', () => {
    expect(givenIn([buyer('sent.')])).toEqual([]);
    expect(givenIn([agent('Could you send a screenshot?'), buyer('sent.')])).toEqual(['photo']);
    expect(givenIn([buyer('sent.')])).toEqual([]);
  });

  it('reads the same yes by the agent words before it', () => {
    expect(settled([agent('推荐您选M码'), buyer('好的')])).toEqual({ size: 'M' });
    expect(settled([agent('推荐您选L码'), buyer('好的')])).toEqual({ size: 'L' });
    expect(settled([buyer('好的')])).toEqual({});
  });

  it('reads the same words against each catalog on its own', () => {
    const sweater = (colours: string[]): Catalog => ({
      products: [{ id: 'sw', name: '羊毛衫', options: { colour: colours } }],
    });
    const history = [buyer('那就要燕麦色吧')];
    expect(settled(history, sweater(['燕麦色', '黑色']))).toEqual({ colour: '燕麦色' });
    expect(settled(history, sweater(['雾蓝', '黑色']))).toEqual({});
    expect(findOptions(history, sweater(['雾蓝', '燕麦色'])).dimensions[0]?.mentioned).toEqual([
      '燕麦色',
    ]);
  });

  it('reads the same words by the products of each catalog', () => {
    const scarf = { id: 'sc', name: '围巾', options: { colour: ['红色'] } };
    const hat = { id: 'hat', name: '帽子', options: { colour: ['白色'] } };
    const sweater = { id: 'sw', name: '羊毛衫', options: { colour: ['燕麦色', '黑色'] } };
    const history = [buyer('羊毛衫还有黑色吗')];
    expect(findOptions(history, { products: [sweater, scarf] }).productName).toBe('羊毛衫');
    expect(findOptions(history, { products: [hat, sweater] }).productName).toBe('羊毛衫');
  });

  it('keeps option values apart whatever characters they hold', () => {
    const values = (colour: string[]): Catalog => ({
      products: [{ id: 'sw', name: '羊毛衫', options: { colour } }],
    });
    const history = [buyer('要黑色')];
    expect(settled(history, values(['黑色', '白色']))).toEqual({ colour: '黑色' });
    expect(settled(history, values(['黑色\u0001白色']))).toEqual({});
    expect(settled(history, values(['黑色', '白色']))).toEqual({ colour: '黑色' });
  });

  it('finds the colours and sizes a chat names in every conversation that names them', () => {
    const first = findOptions([buyer('有灰色吗'), buyer('M码呢')], undefined);
    const second = findOptions([buyer('M码呢'), buyer('有灰色吗')], undefined);
    expect(first.knownValues).toEqual(['灰色', 'M']);
    expect(second.knownValues).toEqual(['灰色', 'M']);
    expect(second.dimensions.map((d) => d.mentioned)).toEqual([['灰色'], ['M']]);
  });
});

describe('what the buyer gave', () => {
  it.each<[string, ChatMessage[], string[]]>([
    ['a labelled order number', [buyer('订单号 3582947710293847 到哪了')], ['order_number']],
    ['a hash order id', [buyer('order #GB20931 still not here')], ['order_number']],
    ['an id answering the agent', [agent('请提供订单号'), buyer('PH90321 po')], ['order_number']],
    ['a booking code', [buyer('Booking JZ-4471, can I move it to Friday?')], ['order_number']],
    ['a subscription id', [buyer('my subscription SUB-77310 box never came')], ['order_number']],
    ['a dashed order id', [buyer('Order ID 40-29918-33 still pending')], ['order_number']],
    ['a reservation number', [buyer('reservation no. 88213 for two')], ['order_number']],
    ['a tracking number', [buyer('顺丰单号SF1402938475610 查不到')], ['tracking_number']],
    [
      'a phone and an address',
      [buyer('电话13812345678，地址上海市浦东新区张江路88号')],
      ['address', 'phone'],
    ],
    ['a masked phone', [buyer('手机138****5678')], ['phone']],
    ['a photo', [buyer('收到是坏的 [图片]')], ['photo']],
    [
      'a photo sent after the agent asked',
      [agent('Could you send a screenshot?'), buyer('sent.')],
      ['photo'],
    ],
    ['a photo in Cantonese brackets', [buyer('[相] 第一次用就斷咗')], ['photo']],
    ['a video in brackets', [buyer('[影片]')], ['photo']],
    ['a photo sent to you', [buyer('字刻错了 图发你了')], ['photo']],
    [
      'a photo announced',
      [buyer('the shampoo leaked everywhere'), buyer('sending pic')],
      ['photo'],
    ],
    ['a photo sent, said after', [buyer('Wrong size again. Photo sent.')], ['photo']],
    [
      '"here" after the agent asked for a photo',
      [agent('Could you send a photo?'), buyer('here. it tears')],
      ['photo'],
    ],
    [
      '"ok, sent" in Chinese after the ask',
      [agent('請問可以拍照給我們嗎'), buyer('好 傳了')],
      ['photo'],
    ],
    [
      'an order number after its word',
      [buyer('any news for my bonsai order? 20117')],
      ['order_number'],
    ],
    ['an order id beside 張單', [buyer('想問下我張單去到邊 HK60217783 唔該')], ['order_number']],
    ['a lettered long id', [buyer('我重複下了兩筆 可以取消一筆嗎 SP2511290188')], ['order_number']],
  ])('finds %s', (_, history, kinds) => {
    expect(givenIn(history)).toEqual(kinds);
  });

  it('finds nothing in a plain question', () => {
    expect(givenIn([buyer('这件多少钱，有M码吗')])).toEqual([]);
    expect(givenIn([buyer('can I book a fitting for the 2024 model?')])).toEqual([]);
    expect(givenIn([buyer('do you send an invoice with the order?')])).toEqual([]);
    expect(givenIn([buyer('if I order 20000 pcs what is the price?')])).toEqual([]);
    expect(givenIn([buyer('can I order for ₱12500 total?')])).toEqual([]);
    expect(givenIn([buyer('here is my question: do you ship to Cebu?')])).toEqual([]);
  });
});

describe('tactics that use the dialogue state', () => {
  const assistant = createAssistant({ newId: () => 'x', reader: null });

  it('never re-offers a settled choice: the either-or moves to the next undecided option', async () => {
    const result = await assistant.suggest({
      history: [buyer('白色有吗'), agent('有的'), buyer('那就白色，怎么下单')],
      catalog: tee,
    });
    expect(result.state.settled).toEqual({ colour: '白色' });
    const close = result.suggestions.find((s) => s.tactic === 'alternative_close');
    expect(close?.text).toBeDefined();
    expect(close?.text).not.toMatch(/黑色|灰色/);
    expect(close?.text).toMatch(/S|M|L/);
  });

  it('never asks again for an order number the buyer gave', async () => {
    const result = await assistant.suggest({
      history: [buyer('我的订单物流到哪了？订单号 3582947710293847')],
    });
    expect(result.stage).toBe('after_sale');
    for (const s of result.suggestions) expect(s.text).not.toMatch(/发一下订单号|提供.*订单/);
    expect(result.state.given).toContain('order_number');
  });

  it('never echoes the open question’s personal data', () => {
    const state = readDialogueState(
      [buyer('能寄到张江路88号吗？电话13812345678')],
      findOptions([], undefined),
      'neutral',
    );
    expect(state.openQuestion).not.toContain('13812345678');
    expect(state.openQuestion).toContain('[phone]');
  });

  it('does not settle two values set against each other: an either-or, or what came against what was ordered', () => {
    const sizes: Catalog = {
      products: [{ id: 'h', name: 'Hoodie', options: { size: ['S', 'M', 'L', 'XL'] } }],
    };
    expect(settled([buyer("i'm 5'9, torn between M and L")], sizes)).toEqual({});
    expect(settled([buyer('M or L for a 60kg guy')], sizes)).toEqual({});
    expect(settled([buyer('白色和灰色纠结死了，哪个耐脏')])).toEqual({});
    expect(settled([buyer("can't decide between S and M, help")], sizes)).toEqual({});
    expect(settled([buyer('下单的是白色结果收到黑色')])).toEqual({});
    // What they ordered is their choice; what the shop sent is not.
    expect(settled([buyer('我拍的灰色，你们发成白色了')])).toEqual({ colour: '灰色' });
    // An order of both still settles both.
    expect(settled([buyer('白色和黑色各来一件')])).toEqual({ colour: '黑色, 白色' });
  });

  it('takes no order number from the digits of a pasted link', () => {
    expect(givenIn([buyer('https://item.taobao.com/item.htm?id=682913374521')])).toEqual([]);
    expect(givenIn([buyer('www.example.com/p/20231129884417 这个还有吗')])).toEqual([]);
    expect(givenIn([buyer('订单号 682913374521')])).toEqual(['order_number']);
  });
});
