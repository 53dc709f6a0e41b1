import type { OptionsInFocus } from './catalog-options';
import { namesValue } from './catalog-options';
import { toSimplified, withoutLinks } from './locale-detection';
import { findPersonalData, redactPersonalData } from './personal-data';
import { memoText, TEXT_MEMORY_BOUNDS, TextMemory } from './text-memo';
import type { ChatMessage, DialogueState, GivenKind, Sentiment } from './vocabulary';

/**
 * What the whole conversation has established: the option values the buyer
 * settled, what they already handed over, their open question. Tactics read it
 * so a reply never re-offers a settled choice or asks again for what was given.
 */

/**
 * A sentence that asks something (then a value in it is only settled when another value is asked about):
 * particles, A-not-A ("L码能不能穿", "黑色好不好看", Cantonese "啱唔啱"), question words. Cantonese 呢
 * before a classifier is "this" ("我要呢件黑色L碼"), not a question.
 */
const ASKS =
  /有没有|有沒有|有冇|有无|有無|(\p{Script=Han})[不没沒唔]\1|吗|嗎|么|麼|呢(?![件個个款對对隻只套條条雙双度排種种部本盒枝支張张位間间啲])|咩|未|会不会|會不會|會唔會|係唔係|哪|(?:还是|還是)(?![要选拿买来選買來])|邊個|边个|[?？]|\b(?:do you have|is there|are there|any|does it|do they|is it|are they|would|should|will it|which)\b/iu;
/** Undoing a choice: "算了", "不要了", "actually no". */
const RETRACTS = /算了|不要了|唔要|不用了|\b(?:never ?mind|cancel|actually no)\b/iu;
/**
 * Undoing a choice for another one: "算了还是要灰色吧", "算了换成M吧", "never mind, make it the
 * medium". The value named after it is the new choice, not the one dropped.
 */
const CHANGES_TO =
  /(?:算了|不要了|唔要|不用了|\b(?:never ?mind|actually no)\b)[\s,，.。!！~～]*(?:还是|還是|换成|換成|换|換|改成|改为|改為|改|要|拿|\b(?:make it|change it to|switch to|go with|i'?ll take|give me)\b)/iu;
/**
 * A negation just before the value named after the change: "算了，还是不要灰色了", "算了 换别的吧
 * 不要灰色", "never mind, make it anything but the black" drop that value, they do not choose it.
 */
const NEGATED_CHOICE =
  /(?:(?<!要)不|别|別|唔|没|沒)[^，,。.!！?？;；]{0,8}$|\b(?:not|no|don'?t|never|anything but|except)\b[^,.!?;]{0,24}$/iu;

/**
 * A refusal right before a value ("我不要灰色", "不想要黑色的", "I don't want the black"): the
 * value is turned down, not chosen. Tight on purpose: "没问题灰色M码", "要不灰色吧" choose.
 */
const REFUSED_BEFORE =
  /(?:不要|不想要|别要|別要|唔要|不用|不买|不買|别拿|別拿|不拿|不选|不選)$|\b(?:don'?t want|do not want|not)\s+(?:the\s+)?$/iu;

/** Whether the buyer turns `value` down in this sentence ("我不要灰色"). */
function refuses(sentence: string, value: string): boolean {
  const text = sentence.slice(0, 200);
  for (let end = 1; end <= text.length; end += 1) {
    if (!namesLoosely(text.slice(0, end), value)) continue;
    let start = end - 1;
    while (start > 0 && !namesLoosely(text.slice(start, end), value)) start -= 1;
    return REFUSED_BEFORE.test(text.slice(0, start));
  }
  return false;
}

/** Whether the words after a change ("还是", "make it") name `value` as the new choice, not negated. */
function switchesTo(sentence: string, switched: RegExpExecArray, value: string): boolean {
  const after = sentence.slice(switched.index + switched[0].length);
  // "算了要不灰色吧": 要不 is "how about", not a negation.
  const rest = switched[0].endsWith('要') ? after.replace(/^不/, '') : after;
  // Where the value is first named: the shortest start of `rest` that names it, and the value's
  // own first character in it (a value may hold a negation word itself, "不锈钢").
  const text = rest.slice(0, 200);
  for (let end = 1; end <= text.length; end += 1) {
    if (!namesLoosely(text.slice(0, end), value)) continue;
    let start = end - 1;
    while (start > 0 && !namesLoosely(text.slice(start, end), value)) start -= 1;
    return !NEGATED_CHOICE.test(text.slice(0, start));
  }
  return false;
}

/**
 * Two values set against each other are not a choice of both: an either-or ("L or XL", "torn
 * between L and XL", "M还是L", "米白和雾蓝纠结死了"), or what was ordered against what came
 * ("我拍的白色给我发了黑色", "got the grey, not the navy I paid for").
 */
const CONTRASTS =
  /还是|還是|或者|或是|定係|定系|不是|唔係|而不是|不要|纠结|糾結|犹豫|猶豫|拿不定|决定不了|決定不了|选不出|選不出|发了|發了|发成|發成|寄了|寄咗|寄成|收到|错|錯|\b(?:or|vs\.?|versus|between|either|instead|rather|than|not|sent|received|got|came|arrived|wrong|can'?t decide|undecided|unsure)\b|\//iu;
/** What the shop sent is not the buyer's choice: "你们发成白色了", "you sent me the L". */
const RECEIVED =
  /收到|收咗|发成|發成|寄成|发了|發了|寄了|寄咗|发错|發錯|寄错|寄錯|\b(?:received|sent me|you sent|they sent|came in|arrived|showed up)\b/iu;
/** What the buyer usually wears is not a choice: "我平时穿42", "my son wears a 10", "I wear 9". */
const HABITUAL =
  /平时|平時|一般穿|通常|\b(?:usually|normally|i'?m a|i am a|wears|i (?:always |mostly )?wear)\b/iu;
/** A short yes to the agent's one recommendation ("ok cool", "好的", "就这个"). */
const ACCEPTS =
  /^(?:ok(?:ay)?|好(?:的|啊|呀|吧)?|行|可以|就这个|就這個|就它|sure|cool|perfect|great|sounds good|yes|yep|deal|嗯+|好嘅|得)(?:[\s,，!！.。~～]|$)/iu;

/** A number with a unit ("120cm", "256GB", "20寸") is named by its number alone too ("120的", "256"). */
// A Map, not an object: catalog values such as "valueOf" must not reach Object.prototype.
const SIZE_ALIASES = new Map<string, RegExp>([
  ['S', /\bsmall\b|小码|小碼|細碼/iu],
  ['M', /\bmedium\b|中码|中碼/iu],
  ['L', /\blarge\b|大码|大碼/iu],
  ['XL', /\bextra large\b|加大/iu],
]);

function namesLoosely(text: string, value: string): boolean {
  if (namesValue(text, value)) return true;
  if (SIZE_ALIASES.get(value)?.test(text)) return true;
  // "UK 9" for "UK9", "32 inch" for "32寸" are left to the exact forms.
  const number = /^(\d+(?:\.\d+)?)\s*[A-Za-z\p{Script=Han}]{1,3}$/u.exec(value)?.[1];
  return number !== undefined && new RegExp(`(?<![\\d.])${number}(?![\\d.])`).test(text);
}

/**
 * Per value, patterns for the words and numbers no other value of its dimension has: "the one with the
 * controller" names "Goggles + Motion Controller" beside "Goggles only", "48 it is" names
 * "48mm conical" beside "38mm conical", "180 density" names "180%". Latin words of five
 * letters or more and numbers of two digits or more, so sizes and short words never count.
 */
function distinctiveWordPatterns(values: readonly string[]): Map<string, RegExp[]> {
  const words = (v: string) => v.toLowerCase().match(/[a-z]{5,}|\d{2,}/g) ?? [];
  return new Map(
    values.map((value) => {
      const others = new Set(values.filter((v) => v !== value).flatMap(words));
      const patterns = words(value)
        .filter((w) => !others.has(w))
        .map((w) =>
          /^\d/.test(w) ? new RegExp(`(?<![\\d.])${w}(?![\\d.])`) : new RegExp(`\\b${w}\\b`),
        );
      return [value, patterns];
    }),
  );
}

/** Where a value sits as the object of an availability question: "有黑色吗", "do you have it in navy". */
function isAskedAbout(sentence: string, value: string): boolean {
  const at = sentence.search(new RegExp(escapeForRegExp(value), 'iu'));
  if (at < 0) return false;
  const before = sentence.slice(Math.max(0, at - 14), at);
  const after = sentence.slice(at + value.length, at + value.length + 8);
  return (
    (/(?:有没有|有沒有|有冇|有无|有無|有|还有|還有|要不要|do you have|have it in|is there|any|got|come in|comes in|available in|in stock in|also in|in)\s*(?:the\s*)?\S{0,4}$/iu.test(
      before,
    ) &&
      ASKS.test(sentence)) ||
    /^(?:的|码|碼|号|號|色)?\s*(?:还有|還有|有冇|有没有|有沒有|有)?\s*(?:货|貨|现货|現貨)?\s*(?:吗|嗎|嘛|么|麼|冇|没|沒|未|呀|不)|^\s*(?:available|in stock)?\s*[?？]/u.test(
      after,
    )
  );
}

/** The buyer buying: what they asked about and kept is what they bought. */
const BUYS =
  /拍了|拍下|下单了|下單了|落單|落咗單|买了|買了|付了|付款了|\b(?:ordered|order(?:ing)? now|check(?:ed|ing)? out|add(?:ed|ing)? (?:it |them )?to (?:the )?cart|i'?ll take|i'?ll grab|grab me|buy(?:ing)? it|just did|sold|let'?s do it|do it|mine|reserve|book(?:ing)?|confirm(?:ed)?|it is|take it|kunin ko|payment link|checkout link)\b/iu;

/** The question is about something after the value: "27码有蓝色吗", "32 in sunset?", "L的 有现货吗" is not. */
function buildsOn(sentence: string, value: string): boolean {
  const at = sentence.search(new RegExp(escapeForRegExp(value), 'iu'));
  if (at < 0) return false;
  const after = sentence.slice(at + value.length);
  return (
    /^\S{0,2}\s*(?:有|还有|還有|有没有|有沒有|有冇|\bin\b|\bwith\b)\s*\S*[\p{Script=Han}A-Za-z]{2}/u.test(
      after,
    ) && !/^\S{0,2}\s*(?:还|還)?有(?:吗|嗎|冇|没|沒|现货|現貨|货|貨)/u.test(after)
  );
}

const escapeForRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** "还有吗", "有货吗", "仲有冇貨?" after a space: the question about the value before it ("M 有货吗"). */
const AVAILABILITY_AFTER_SPACE =
  '(?:还|還|仲|都)?(?:有没有|有沒有|有冇|有无|有無|有)(?:货|貨|现货|現貨)?(?:吗|嗎|嘛|么|麼|冇|没|沒|未|呀|啊|不)?(?=\\s*(?:[?？。！!，,~～]|$))';
/**
 * Sentences and space-separated phrases, so "有黑色吗 那就要M吧" settles M but not 黑色; a bare
 * availability question after a space stays with the value it asks about ("M 有货吗", "黑色 还有吗").
 */
const SENTENCE_BREAK = new RegExp(
  `(?<=[。！？!?\\n，,；;])|(?<=\\.)\\s+|(?<=\\p{Script=Han})\\s+(?!\\s)(?!${AVAILABILITY_AFTER_SPACE})|\\s+(?=\\p{Script=Han})(?!${AVAILABILITY_AFTER_SPACE})`,
  'u',
);
function sentencesOf(text: string): string[] {
  return text.split(SENTENCE_BREAK).filter((s) => s.trim().length > 0);
}

/**
 * Option values the buyer fixed, per dimension. A value the buyer names is
 * settled unless they only ask about it ("有灰色吗", "is M too small?"),
 * compare it ("6寸和7寸哪个好") or describe a habit ("我平时穿42"); in a
 * question about another dimension ("27码有蓝色吗") the value they build on is
 * settled. A short yes to the agent's single recommendation settles it too. A
 * later choice replaces an earlier one; "算了" drops what the sentence names.
 */
export function settledIn(
  history: readonly ChatMessage[],
  options: OptionsInFocus,
): Record<string, string> {
  // A Map: option names come from shops' catalogs ("__proto__", "constructor").
  const settled = new Map<string, string>();
  const asked = new Map<string, string>();
  const dimensions = options.dimensions.filter((d) => d.key !== 'deliveryDays');
  let previousAgent = '';
  for (const message of history) {
    if (message.from === 'agent') {
      previousAgent = message.text;
      continue;
    }
    for (const dimension of dimensions) {
      const { steps, buys } = readChoices(previousAgent, message.text, dimension.values);
      for (const [step, value] of steps) {
        if (step === 'choose') settled.set(dimension.key, value);
        else if (step === 'ask') asked.set(dimension.key, value);
        else if (settled.get(dimension.key) === value) settled.delete(dimension.key);
      }
      // Buying settles what the buyer asked about and did not change ("卡其色M码还有吗" ... "拍了").
      const pending = asked.get(dimension.key);
      if (buys && pending && !settled.has(dimension.key)) settled.set(dimension.key, pending);
    }
    previousAgent = '';
  }
  return Object.fromEntries(settled);
}

/**
 * What one buyer message does to one dimension's choice, in order: a value chosen, asked
 * about, or dropped (dropped only undoes that same value). A pure function of the message,
 * the agent's words just before it and the dimension's values, so it is remembered: every
 * suggestion reads the recent history again, and its earlier messages read the same each time.
 */
interface Choices {
  steps: ReadonlyArray<readonly ['choose' | 'ask' | 'drop', string]>;
  /** The message buys ("拍了"): what was asked about and not changed is settled. */
  buys: boolean;
}
// Keys hold the values and the agent's words too, so a longer key than a text's is held (up to
// 4,000 characters); the texts and characters held are bounded like every other text memory's.
const choicesMemory = new TextMemory<Choices>(
  TEXT_MEMORY_BOUNDS.texts,
  TEXT_MEMORY_BOUNDS.chars,
  4_000,
);

function readChoices(previousAgent: string, text: string, values: readonly string[]): Choices {
  // The values as JSON (a value may hold any character, so no separator would do), then the
  // agent's words by their length: no two readings share a key.
  const key = `${previousAgent.length}:${JSON.stringify(values)}${previousAgent}${text}`;
  const known = choicesMemory.get(key);
  if (known) return known;
  const steps: Array<readonly ['choose' | 'ask' | 'drop', string]> = [];
  const distinctive = distinctiveWordPatterns(values);
  const accepts = ACCEPTS.test(text.trim());
  const recommended = values.filter((v) => namesValue(previousAgent, v));
  const namedInMessage = values.filter((v) => namesLoosely(text, v));
  if (accepts && namedInMessage.length === 0 && recommended.length === 1)
    steps.push(['choose', recommended[0] as string]);
  for (const sentence of sentencesOf(text)) {
    const lower = sentence.toLowerCase();
    const named = values.filter(
      (v) => namesLoosely(sentence, v) || (distinctive.get(v) ?? []).some((p) => p.test(lower)),
    );
    if (named.length === 0) continue;
    if (named.length >= 2) {
      // "white and light blue" in an order settles both; "6寸和7寸哪个好" compares them,
      // "L or XL" weighs them, "ordered white, got black" reports a mix-up.
      if (!ASKS.test(sentence) && !HABITUAL.test(sentence) && !CONTRASTS.test(sentence))
        steps.push(['choose', named.join(', ')]);
      continue;
    }
    const value = named[0] as string;
    if (RETRACTS.test(sentence)) {
      const switched = CHANGES_TO.exec(sentence);
      // "算了还是要灰色吧": the value named after the change is chosen in place of the old one.
      steps.push([switched && switchesTo(sentence, switched, value) ? 'choose' : 'drop', value]);
      continue;
    }
    if (refuses(sentence, value)) {
      steps.push(['drop', value]);
      continue;
    }
    if (HABITUAL.test(sentence) || RECEIVED.test(sentence)) continue;
    if (isAskedAbout(sentence, value)) {
      steps.push(['ask', value]);
      continue;
    }
    // In a question the value is settled when the question builds on it ("27码有蓝色吗", "32 in sunset?").
    if (ASKS.test(sentence) && !buildsOn(sentence, value)) {
      steps.push(['ask', value]);
      continue;
    }
    steps.push(['choose', value]);
  }
  const choices = { steps, buys: BUYS.test(text) };
  choicesMemory.set(key, choices);
  return choices;
}

/** Letter and shoe sizes as buyers write them. */
const SIZE_VALUE =
  /(?<![A-Za-z0-9])(?:XXS|XS|XXXL|XXL|XL|[2-4]XL|S|M|L)(?![A-Za-z])|(?<!\d)(?:3[4-9]|4[0-6])(?:码|碼|号|號)?(?!\d)/u;

/** Words that make a number a quantity ("order 20000 pcs"), not an id. */
const QUANTITY_UNITS = 'pcs|pieces|units|items|sets|boxes|pax';
const CURRENCY_WORDS = 'pesos|php|rm|sgd|usd|rs|inr';
/** After an id token: it ends there and no quantity unit follows. */
const NOT_A_QUANTITY = String.raw`(?![A-Za-z0-9-]|\s*(?:${QUANTITY_UNITS})\b)`;
/** An order number: a labelled id, or a long digit run that is not a phone number. */
const ORDER_NUMBER = new RegExp(
  String.raw`(?:订单|訂單|单号|單號|張單|张单|order|訂單編號|订单编号)\s*(?:号|號|no\.?|number|#|id|編號|编号|號碼|号码)?\s*[:：#是係为為]?\s*#?\s?[A-Za-z]{0,4}-?\d{4,}[A-Za-z0-9-]*${NOT_A_QUANTITY}|(?<![\d*])\d{12,20}(?![\d*])|#\s?[A-Za-z]{0,4}-?\d{3,}`,
  'iu',
);
/**
 * Other references a buyer gives for an existing purchase ("Booking JZ-4471",
 * "subscription SUB-77310", "Order ID 40-29918-33"): the word, then one token
 * of letters, digits and dashes holding at least four digits in a row.
 */
const REFERENCE_NUMBER = new RegExp(
  String.raw`(?:\border|booking|reservation|subscription|ref(?:erence)?|receipt|invoice|ticket|預約|预约|訂位|订位|發票|发票)\s*(?:no\.?|number|#|id|code|號碼|号码|編號|编号|号|號)?\s*[:：#是係为為]?\s*#?(?=[A-Za-z0-9-]*\d{4})[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*${NOT_A_QUANTITY}`,
  'iu',
);
/**
 * An order word followed closely by a bare number of five digits or more ("status of my
 * order? 88102", "bonsai order? 20117"): the number is the order's. Not across a sentence
 * end, and not a quantity or a price (no unit or currency before it).
 */
const ORDER_THEN_NUMBER = new RegExp(
  String.raw`\border\b[^.!\n$€£¥₱₹]{0,16}?(?<![\d.,])\d{5,}(?![\d.,]|\s*(?:${QUANTITY_UNITS}|${CURRENCY_WORDS})\b)`,
  'iu',
);
/** An id of a few letters and eight or more digits ("SP2511290188"), when not a tracking number. */
const LETTERED_LONG_ID = /(?<![A-Za-z0-9])[A-Za-z]{1,4}\d{8,}(?![A-Za-z0-9])/u;
/** A message that is nothing but an id ("240915KX8821", "PH90321 po"). */
const BARE_ID = /^\s*#?[A-Za-z]{0,4}-?\d{4,}[A-Za-z0-9-]*(?:\s+\S{1,6})?\s*$/u;
const ID_TOKEN = /(?<![A-Za-z0-9])#?[A-Za-z]{0,4}-?\d{4,}[A-Za-z0-9-]*/u;
/** Words of an order placed: an id next to them is the order's ("剛才下單 W24112903"). */
const ORDER_CONTEXT = /下单|下單|落單|落咗單|拍下|订单|訂單|張單|张单|\border(?:ed)?\b/iu;
/** An id with letters and at least five digits, or eight digits and more. */
const ORDER_ID_TOKEN = /(?<![A-Za-z0-9])#?(?:[A-Za-z]{1,4}-?\d{5,}|\d{8,})[A-Za-z0-9-]*/u;
/** The agent asking for the order number: the buyer's next id is one. */
const AGENT_ASKS_ORDER =
  /订单号|訂單號|訂單編號|订单编号|單號|单号|order (?:number|no|#|id)|訂單號碼/iu;
/** The agent asking for a photo, screenshot or video: "sent" / "发了" next means one was sent. */
const AGENT_ASKS_PHOTO =
  /照片|图片|圖片|相片|截图|截圖|视频|視頻|拍照|拍个照|拍個照|拍张|拍張|影相|影張相|影张相|影吓|影條片|影条片|photo|picture|pic|screenshot|video/iu;
const SENT =
  /^(?:(?:好|好的|ok|okay|嗯)[\s,，]*)?(?:sent|done|uploaded|here\b|ok sent|发了|發了|已发|已發|传了|傳了|send咗|發咗|传咗|傳咗)|\b(?:just sent|have sent|i sent|sent (?:it|them))\b/iu;
const TRACKING_NUMBER =
  /(?:运单|運單|快递单|快遞單|物流单|物流單|tracking)\s*(?:号|號|no\.?|number|#)?\s*[:：#]?\s*[A-Za-z0-9]{8,}|\b(?:SF|YT|ZTO|JT|JD|YD|EMS|UPS|1Z)[A-Za-z0-9]{8,}\b/iu;
/** Masked or partly hidden phone numbers (138****5678) still count as given. */
const MASKED_PHONE =
  /1[3-9]\d[*＊xX]{4}\d{4}|(?:电话|電話|手机|手機|phone)\s*[:：]?\s*\+?\d[\d\s-]{6,}/iu;
const NAME_GIVEN =
  /收件人\s*[:：]?\s*\S|我叫\s*\S|我係\s*\S{1,4}(?:先生|小姐|太太)|(?:my name is|name:)\s*[A-Za-z]/iu;
const PHOTO_GIVEN =
  /\[(?:图片|圖片|image|photo|pic|picture|照片|相片|相|影片|视频|視頻|video|screenshot|截图|截圖)\]|(?:视频|視頻|截图|截圖|screenshot|video)(?:已)?(?:发|發|傳|传|sent)|(?:发|發|傳|传|拍|附|上)(?:了|咗)?(?:图|圖|照片|相片|视频|視頻|截图|截圖)|(?:图|圖|照片|相|相片)(?:已)?(?:发|發|傳|传)(?:你|妳|您|俾你|給你|给你)?(?:了|咗|给|給)|(?:看|睇)(?:图|圖|照片|相)|\b(?:attached|here'?s a (?:photo|pic|picture)|see (?:the )?(?:photo|pic|picture)s?|(?:sent|sending) (?:you |u )?(?:a |the )?(?:photo|pic|picture)s?|(?:photo|pic|picture)s? sent)\b/iu;
const ADDRESS_WORDS =
  /(?:地址|收货|收貨)\s*[:：是]?\s*\S{4,}|\d+\s*(?:号|號)\s*\d+\s*(?:室|楼|樓)|(?:省|市|区|區|縣|县).{0,12}(?:路|街|道)/u;

/** What the buyer handed over, in the order of GIVEN_KINDS. */
export function givenIn(history: readonly ChatMessage[]): GivenKind[] {
  const found = new Set<GivenKind>();
  let previousAgent = '';
  for (const message of history) {
    if (message.from === 'agent') {
      previousAgent = message.text;
      continue;
    }
    // Each buyer message is read with the agent's words just before it (the same pair every
    // time the history is read again): remembered per pair, or per text when no agent spoke
    // just before (most messages; the text's own hash is computed once, a pair's every time).
    const kinds =
      previousAgent === ''
        ? givenAlone(message.text)
        : givenByMessage(`${previousAgent.length}:${previousAgent}${message.text}`);
    for (const kind of kinds) found.add(kind);
    previousAgent = '';
  }
  const order: GivenKind[] = [
    'order_number',
    'address',
    'phone',
    'name',
    'photo',
    'tracking_number',
  ];
  return order.filter((k) => found.has(k));
}

/** What one buyer message hands over; the key is `length:previousAgent` followed by the message. */
const givenByMessage = memoText((key: string): readonly GivenKind[] => {
  const colon = key.indexOf(':');
  const agentEnd = colon + 1 + Number(key.slice(0, colon));
  return givenAfter(key.slice(colon + 1, agentEnd), key.slice(agentEnd));
});
/** What a buyer message hands over when the agent said nothing just before it. */
const givenAlone = memoText((text: string) => givenAfter('', text));

function givenAfter(previousAgent: string, message: string): readonly GivenKind[] {
  // A link's digits ("item.htm?id=682913374521") are the page's, not an order's.
  const text = withoutLinks(message);
  const found = new Set<GivenKind>();
  if (AGENT_ASKS_PHOTO.test(previousAgent) && SENT.test(text.trim())) found.add('photo');
  // Phones, addresses and e-mails redacted first: a phone number is not an order id.
  const answersOrderQuestion =
    (AGENT_ASKS_ORDER.test(previousAgent) && ID_TOKEN.test(redactPersonalData(text))) ||
    (ORDER_CONTEXT.test(text) && ORDER_ID_TOKEN.test(redactPersonalData(text)));
  const personal = findPersonalData(text);
  if (personal.some((p) => p.kind === 'phone') || MASKED_PHONE.test(text)) found.add('phone');
  if (personal.some((p) => p.kind === 'address') || ADDRESS_WORDS.test(text)) found.add('address');
  // A tracking number is checked first: "SF1234567890" is not an order number.
  const tracking = TRACKING_NUMBER.test(text);
  if (tracking) found.add('tracking_number');
  const withoutPhones = redactPersonalData(text);
  const withoutTracking = withoutPhones.replace(new RegExp(TRACKING_NUMBER.source, 'giu'), ' ');
  if (
    ORDER_NUMBER.test(withoutTracking) ||
    REFERENCE_NUMBER.test(withoutTracking) ||
    (!tracking &&
      (answersOrderQuestion ||
        BARE_ID.test(withoutPhones) ||
        ORDER_THEN_NUMBER.test(withoutPhones) ||
        LETTERED_LONG_ID.test(withoutPhones)))
  )
    found.add('order_number');
  if (NAME_GIVEN.test(text)) found.add('name');
  if (PHOTO_GIVEN.test(text)) found.add('photo');
  return [...found];
}

/** Sizes the chat named when there is no catalog dimension for them (kept as the buyer wrote them). */
export function sizeValuesIn(text: string): string[] {
  const out: string[] = [];
  const pattern = new RegExp(SIZE_VALUE.source, 'gu');
  for (const m of text.matchAll(pattern)) out.push(m[0]);
  return out;
}

const QUESTION =
  /[?？]|[吗嗎呢么麼咩](?=[～~。.!！,，\s]|$)|^(?:how|what|when|where|which|why|can|could|do|does|is|are|will|would)\b/iu;

/** The buyer's last message when it is a question (redacted: it may be shown or sent to a model). */
function openQuestionOf(history: readonly ChatMessage[]): string | null {
  const last = history[history.length - 1];
  if (last?.from !== 'buyer') return null;
  return QUESTION.test(last.text.trim()) ? redactPersonalData(last.text.trim()) : null;
}

export function readDialogueState(
  history: readonly ChatMessage[],
  options: OptionsInFocus,
  mood: Sentiment,
  /** `givenIn(history)`, when the caller already has it. */
  given: readonly GivenKind[] = givenIn(history),
): DialogueState {
  return {
    settled: settledIn(history, options),
    given: [...given],
    openQuestion: openQuestionOf(history),
    mood,
  };
}

/** Settled values compared as a reader would: script, case and spacing do not matter. */
export function sameValue(a: string, b: string): boolean {
  const norm = (s: string) => toSimplified(s).toLowerCase().replace(/\s+/g, '');
  return (
    norm(a) === norm(b) ||
    norm(a).replace(/[码碼号號色]$/u, '') === norm(b).replace(/[码碼号號色]$/u, '')
  );
}
