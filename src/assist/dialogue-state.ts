import type { OptionsInFocus } from './catalog-options';
import { namesValue } from './catalog-options';
import { toSimplified } from './locale-detection';
import { findPersonalData, redactPersonalData } from './personal-data';
import type { ChatMessage, DialogueState, GivenKind, Sentiment } from './vocabulary';

/**
 * What the whole conversation has established: the option values the buyer
 * settled, what they already handed over, their open question. Tactics read it
 * so a reply never re-offers a settled choice or asks again for what was given.
 */

/** A buyer sentence that picks rather than asks: 要/就/拿/来/选 ... "I'll take", "go with". */
const CHOOSES =
  /要|就|拿|来|選|选|定|拍|买|買|下单|下單|落單|訂|订|换成|換成|改成|確定|确定|決定|决定|吧|啦|喔|好了|\b(?:i'?ll (?:take|get|go|have)|go(?:ing)? with|take|want|i'd like|prefer|order|choose|pick|get the|make it|settle on)\b/i;
/** A sentence that asks about a value rather than choosing it: 有…吗, 有没有, do you have, is it. */
const ASKS =
  /有没有|有沒有|有冇|有无|有無|吗|嗎|么|麼|呢|咩|未|\?|？|\b(?:do you have|is there|are there|any|does it|is it|available|in stock|come in|what about|how about)\b/i;
/** Undoing a choice: "算了", "不要了", "actually no". */
const RETRACTS = /算了|不要了|唔要|不用了|\b(?:never ?mind|cancel|actually no)\b/i;

/** Letter and shoe sizes as buyers write them. */
const SIZE_VALUE =
  /(?<![A-Za-z0-9])(?:XXS|XS|XXXL|XXL|XL|[2-4]XL|S|M|L)(?![A-Za-z])|(?<!\d)(?:3[4-9]|4[0-6])(?:码|碼|号|號)?(?!\d)/u;

/** An order number: a labelled id, or a long digit run that is not a phone number. */
const ORDER_NUMBER =
  /(?:订单|訂單|单号|單號|order|訂單編號|订单编号)\s*(?:号|號|no\.?|number|#|id)?\s*[:：#]?\s*[A-Za-z0-9-]{6,}|(?<![\d*])\d{12,20}(?![\d*])|#\d{4,}/iu;
const TRACKING_NUMBER =
  /(?:运单|運單|快递单|快遞單|物流单|物流單|tracking)\s*(?:号|號|no\.?|number|#)?\s*[:：#]?\s*[A-Za-z0-9]{8,}|\b(?:SF|YT|ZTO|JT|JD|YD|EMS|UPS|1Z)[A-Za-z0-9]{8,}\b/iu;
/** Masked or partly hidden phone numbers (138****5678) still count as given. */
const MASKED_PHONE =
  /1[3-9]\d[*＊xX]{4}\d{4}|(?:电话|電話|手机|手機|phone)\s*[:：]?\s*\+?\d[\d\s-]{6,}/iu;
const NAME_GIVEN =
  /收件人\s*[:：]?\s*\S|我叫\s*\S|我係\s*\S{1,4}(?:先生|小姐|太太)|(?:my name is|name:)\s*[A-Za-z]/iu;
const PHOTO_GIVEN =
  /\[(?:图片|圖片|image|photo|picture|照片)\]|(?:发|發|傳|传|拍|附|上)(?:了|咗)?(?:图|圖|照片|相片|视频|視頻|截图|截圖)|(?:图|圖|照片|相)(?:发|發|傳|传)(?:了|咗|给|給)|(?:看|睇)(?:图|圖|照片|相)|\b(?:attached|here'?s a (?:photo|pic|picture)|see (?:the )?(?:photo|pic|picture)s?|sent (?:you )?(?:a |the )?(?:photo|pic|picture)s?)\b/iu;
const ADDRESS_WORDS =
  /(?:地址|收货|收貨)\s*[:：是]?\s*\S{4,}|\d+\s*(?:号|號)\s*\d+\s*(?:室|楼|樓)|(?:省|市|区|區|縣|县).{0,12}(?:路|街|道)/u;

/** What the buyer handed over, in the order of GIVEN_KINDS. */
export function givenIn(buyerTexts: readonly string[]): GivenKind[] {
  const found = new Set<GivenKind>();
  for (const text of buyerTexts) {
    const personal = findPersonalData(text);
    if (personal.some((p) => p.kind === 'phone') || MASKED_PHONE.test(text)) found.add('phone');
    if (personal.some((p) => p.kind === 'address') || ADDRESS_WORDS.test(text))
      found.add('address');
    // A tracking number is checked first: "SF1234567890" is not an order number.
    const tracking = TRACKING_NUMBER.test(text);
    if (tracking) found.add('tracking_number');
    const withoutPhones = redactPersonalData(text);
    const withoutTracking = withoutPhones.replace(new RegExp(TRACKING_NUMBER.source, 'giu'), ' ');
    if (ORDER_NUMBER.test(withoutTracking)) found.add('order_number');
    if (NAME_GIVEN.test(text)) found.add('name');
    if (PHOTO_GIVEN.test(text)) found.add('photo');
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

/** Sentences, so "有黑色吗？那就要M吧" settles M but not 黑色. */
function sentencesOf(text: string): string[] {
  return text.split(/(?<=[。！？!?\n，,；;])/u).filter((s) => s.trim().length > 0);
}

/**
 * Option values the buyer fixed, per dimension: a value named in a sentence
 * that chooses and does not ask, or the one value a buyer answered with when
 * the agent had just offered several ("M还是L？" -> "M"). A later choice
 * replaces an earlier one; "算了" drops what the sentence names.
 */
export function settledIn(
  history: readonly ChatMessage[],
  options: OptionsInFocus,
): Record<string, string> {
  const settled: Record<string, string> = {};
  const dimensions = options.dimensions.filter((d) => d.key !== 'deliveryDays');
  let previousAgent = '';
  for (const message of history) {
    if (message.from === 'agent') {
      previousAgent = message.text;
      continue;
    }
    const text = message.text;
    const sentences = sentencesOf(text);
    for (const dimension of dimensions) {
      const offered = dimension.values.filter((v) => namesValue(previousAgent, v));
      for (const sentence of sentences) {
        const named = dimension.values.filter((v) => namesValue(sentence, v));
        if (named.length !== 1) continue;
        const value = named[0] as string;
        if (RETRACTS.test(sentence)) {
          if (settled[dimension.key] === value) delete settled[dimension.key];
          continue;
        }
        const answersOffer = offered.length >= 2 && offered.includes(value) && !ASKS.test(sentence);
        const chooses = CHOOSES.test(sentence) && !ASKS.test(sentence);
        const bare = sentence.replace(/[\s。！!～~.,，]/gu, '').length <= value.length + 2;
        if (answersOffer || chooses || (bare && offered.includes(value))) {
          settled[dimension.key] = value;
        }
      }
    }
    previousAgent = '';
  }
  return settled;
}

/** Sizes the chat named when there is no catalog dimension for them (kept as the buyer wrote them). */
export function sizeValuesIn(text: string): string[] {
  const out: string[] = [];
  const pattern = new RegExp(SIZE_VALUE.source, 'gu');
  for (const m of text.matchAll(pattern)) out.push(m[0]);
  return out;
}

const QUESTION =
  /[?？]\s*$|[吗嗎呢么麼咩]\s*[～~。.!！]*$|^(?:how|what|when|where|which|why|can|could|do|does|is|are|will|would)\b/iu;

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
): DialogueState {
  const buyerTexts = history.filter((m) => m.from === 'buyer').map((m) => m.text);
  return {
    settled: settledIn(history, options),
    given: givenIn(buyerTexts),
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
