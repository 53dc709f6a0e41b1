import { pickAlternative } from './alternative-close';
import {
  findOptions,
  type OptionDimension,
  type OptionsInFocus,
  productMentionDetector,
} from './catalog-options';
import { givenIn, readDialogueState, sameValue, settledIn } from './dialogue-state';
import { withoutInstructions } from './features';
import { MAX_REPLY_CHARS } from './guardrails';
import { lexicon, matches, type ReplyTemplates, templatesFor } from './lexicon';
import { hasLink, inReplyScript, resolveLocale, withoutLinks } from './locale-detection';
import type { Reader, ReaderOutput } from './reader';
import {
  type ConversationReading,
  classifyConversation,
  readMessage,
  splitSentences,
} from './stage-classifier';
import { type PolicyVerdict, tacticPolicy } from './tactic-policy';
import {
  type AfterSaleTopic,
  type AssistInput,
  type ChatMessage,
  type ComplaintTopic,
  type DialogueState,
  type DraftSuggestion,
  type EngineDraft,
  type Intent,
  type Locale,
  MAX_SUGGESTIONS,
  type Sentiment,
  type SignalName,
  type Stage,
} from './vocabulary';

/**
 * The deterministic engine: reads the conversation with the lexicons, picks
 * tactics as the source teaches, and fills templates only with catalog or
 * conversation data. No network, no randomness, never throws on valid input.
 */

export interface ConversationAnalysis {
  locale: Locale;
  /** What the lexicons saw (signals, topics, who spoke last). */
  reading: ConversationReading;
  options: OptionsInFocus;
  stage: Stage;
  intent: Intent;
  sentiment: Sentiment;
  /** Probability of the stage read (1 for a lexicon cue when there is no model). */
  confidence: number;
  complaintProbability: number;
  state: DialogueState;
  policy: PolicyVerdict;
  /** A message holds a code or long number (order, booking, parcel, phone): maybe an order already identified that the state did not recognise. */
  buyerWroteCode: boolean;
  /** The buyer's last message asks something: a reply must not answer it with "which item?". */
  lastIsQuestion: boolean;
  /** One of the buyer's last two messages gave height, weight or a body measurement (size help never asks again). */
  gaveMeasurements: boolean;
  /** The buyer's last message is only a voice message's placeholder: its words are not in the text. */
  lastIsVoiceNote: boolean;
  /** The buyer's last message fixed an option ("actually wait, make it the medium"); read only when unsure. */
  lastSettles: boolean;
  /** The buyer's goods have no parcel (a top-up, a gift card, a code): nothing to track. */
  digital: boolean;
  /** Something in the chat shows an order exists: a purchase word, an after-sale or complaint word, an id given. */
  hasPurchase: boolean;
  /** The buyer's last message is about a booking or an installation visit (no parcel to track, nothing to photograph). */
  lastIsAppointment: boolean;
  /** The buyer's last message asks for the agent's own contact ("加个微信", "your personal number"). */
  lastAsksPersonalContact: boolean;
  /** The buyer's last message asks whether the item fits their car or device ("fit a 2017 Civic?", "兼容吗"). */
  lastAsksFit: boolean;
  /** The buyer's last message names import duty or customs ("关税", "import duty"). */
  lastNamesDuty: boolean;
  /** The buyer's last message asks whether two offers combine ("能叠加吗", "does it stack"). */
  lastAsksStacking: boolean;
  /** The buyer's last message is about a bulk purchase ("批发", "wholesale", "500个"). */
  lastIsBulk: boolean;
  /** The buyer's last message thanks or acknowledges ("thx", "收到", "👍") and asks nothing. */
  lastAcknowledges: boolean;
  /** The buyer's last message names a material, make or behaviour (what a material answer is about). */
  lastNamesMaterial: boolean;
  /** The buyer's last message holds a link (a product they point at). */
  lastHasLink: boolean;
  /**
   * The questions of the buyer's last message, each by what its sentence asks about (lexicon
   * signals, and the answer the reader's intent for it points at): a buyer who asks two
   * things at once gets both taken up.
   */
  lastQuestions: ReadonlySet<string>[];
  /**
   * The complaint's topic once the buyer says the parcel came ("it showed up 3 weeks later",
   * "收到后发现…"): tracking it helps no more, so another topic the buyer named, else general;
   * null while it has not come.
   */
  topicOnceArrived: ComplaintTopic | 'general' | null;
}

/**
 * An order number or tracking code: four digits, or a letter (of a prefix) with three. Written
 * with one letter, not `[A-Za-z]+`: the same matches, but a long run of letters is not scanned
 * again from each of its positions (quadratic time on a pasted wall of text).
 */
const CODE_LIKE = /\d{4,}|[A-Za-z]-?\d{3}/;
/**
 * The buyer saying the parcel came: "it arrived", "showed up", "received it", "opened the box",
 * "收到", "到了" (not "hasn't arrived", "never received", "没收到", "快到了", "到了吗").
 * "Delivered" alone is not enough: "marked delivered but not here" is a delivery complaint.
 * The word is looked for first, so the negation behind it is only read where a word starts
 * (linear time on a long message).
 */
const ARRIVED =
  /\b(?=arrived|showed up|came|received|got it|opened|open it|unboxed)(?<!(?:not|n't|never|yet|still)\s{1,3}(?:\w{1,12}\s{1,3})?)(?:arrived|showed up|came|received|got it|opened (?:it|the box|the parcel|the package)|open it|unboxed)\b|(?<![没沒未冇])(?:收到|拆开|拆開|打开一看|打開一看)|(?<![没沒未冇快还還])到了(?![吗嗎么麼没沒未])/iu;
/** A negation just before a word: "not yet received", "hasn't arrived", "还没收到", "不可以". */
const NEGATED_BEFORE =
  /(?:\b(?:not|no|never|yet|still|n't|hasn'?t|haven'?t|didn'?t|isn'?t|wasn'?t)\s+(?:\w+\s+)?|[没沒未冇不][\s还還都也]{0,2})$/iu;

/** An acknowledgement word ("received", "收到", "可以") that no negation turns into its opposite. */
function acknowledges(text: string): boolean {
  const pattern = lexicon.acknowledgements;
  if (!pattern) return false;
  pattern.lastIndex = 0;
  const found = [...text.matchAll(pattern)].some(
    (m) => !NEGATED_BEFORE.test(text.slice(Math.max(0, m.index - 24), m.index)),
  );
  pattern.lastIndex = 0;
  return found;
}

/** Whether the buyer's last message settled an option the messages before it had not. */
function lastChoiceMade(
  history: readonly ChatMessage[],
  options: OptionsInFocus,
  settled: Readonly<Record<string, string>>,
): boolean {
  const before = settledIn(history.slice(0, -1), options);
  return Object.entries(settled).some(([key, value]) => before[key] !== value);
}

/** Words of a purchase made or a delivery under way: an order exists ("买了", "明天送", "booked", "my order"). */
const PURCHASED =
  /买了|買了|买的|買的|下单|下單|落單|落咗單|拍了|拍的|付了|付咗|已付|付款了|订了|訂了|定金|收到|到货|到貨|到了|送[来到貨货的]|配送|派送|发货|發貨|寄[来來出到]|快递|快遞|物流|签收|簽收|订单|訂單|转账|轉賬|转过去|轉數|過數|过数|\b(?:bought|ordered|paid|purchased|booked|my order|received|arrived|delivered|shipped|delivery|scheduled|transferred|e-transfer|bank(?:ed)? in)\b/iu;
/** A booking or an installation visit: looked up, never tracked like a parcel or photographed. */
const APPOINTMENT =
  /\b(?:book(?:ed|ing)|slot|reservation|reserved|appointment|reschedule|install(?:ation|er)?|technician)\b|预约|預約|预订|預訂|改期|安装|安裝|上门|上門|师傅|師傅/iu;

/**
 * An offer, a code or a discount ("店铺券", "满300减40", "红包", "WELCOME10", "the sale"): what
 * "叠加", "一起用" or "stack" must be about to ask whether offers combine. Without one they are
 * about the goods: "stackable chairs", "洗面奶和精华能一起用吗", "能叠加穿吗".
 */
const OFFER =
  /券|优惠|優惠|满\d*减|滿\d*減|红包|紅包|折扣|打折|\d折|积分|積分|活动|活動|促销|促銷|会员价|會員價|折价|折價|\b(?:codes?|coupons?|vouchers?|discounts?|promo(?:s|tions?)?|offers?|deals?|sale|rebates?|cashback|points)\b|\d+\s*%/iu;
/** A promo code as shops write them ("WELCOME10", "SPRING15"): capitals, then digits. */
const PROMO_CODE = /\b[A-Z]{3,}\d+\b/u;

/**
 * A chat app's payment service ("your WeChat Pay", "你的微信支付二维码", "LINE Pay"): paying the
 * shop, not asking for the agent's own contact.
 */
const WALLET = /(?:微信|wechat|whatsapp|line)\s*(?:支付|付款|收款|pay\b)/iu;

/**
 * How to install the item oneself ("怎么安装啊", "how do I install it?", "安装说明书在哪"): a usage
 * question about the goods, not an installation visit to look up.
 */
const SELF_INSTALL =
  /\bhow (?:do|to|can|should|would|does)\b[^.?!]{0,30}\binstall|\binstall(?:ation|ing)? (?:guide|instructions?|manual|video|steps)|怎么安装|怎麼安裝|怎样安装|怎樣安裝|如何安装|如何安裝|安装说明|安裝說明|安装教程|安裝教學|安装视频|安裝影片|自己安装|自己安裝|點樣裝|点样装/iu;

/** A model year the item must fit ("fit a 2017 honda", "2019款卡罗拉"): a compatibility question. */
const MODEL_YEAR =
  /\bfits? (?:a |an |my |the |on |in )?(?:19|20)\d{2}\b|(?:19|20)\d{2}\s*(?:款|年款)/iu;

/**
 * A quantity only a trade buyer orders: 50 or more of a unit ("要500个", "200 units", "80 pcs").
 * Its price is a quote, not the page price. Not the size of one pack the shop sells ("200个装",
 * "100个一包", "a pack of 100 pcs", "the 100 pcs pack"): that is one item's own price.
 */
const BULK_QUANTITY =
  /(?<![\d.,])(?<!\b(?:pack|box|bag|tube|roll) of\s*)(?:[5-9]\d|[1-9]\d{2,})\s*(?:个|個|件|套|箱|盒|只|隻|条|條|双|雙|支|瓶|份|pcs\b|pieces\b|units\b|sets\b|boxes\b|cartons\b)(?!\s*(?:装|裝|入|一包|一盒|一袋|一卷|每包|每盒|\/|per\s+(?:pack|box|bag)|(?:-\s*)?(?:pack|box|bag|roll)s?\b|in (?:a|one|each) (?:pack|box|bag)))/iu;

/** What is left of a message once placeholders, emoji, punctuation and spaces are gone. */
const WORDS_LEFT = /[\p{L}\p{N}]/u;

/**
 * A question, in any of the three languages: a question mark; a Chinese question particle at
 * the end (吗, 么, 呢, Cantonese 咩/未/冇), or 吗 anywhere (buyers run a question on into the
 * next clause: "门票可以退吗 我去不了了"); an A-not-A ("有没有", "是不是") or an either-or
 * ("自己做的还是代工的", Cantonese 定係; not "还是要灰色吧", a choice); a question word (怎么, 啥, 哪, 幾, 點解); an English
 * question word anywhere ("hi what time do you close"), an auxiliary first, or a closing "or
 * not" ("this one still got warranty or not", as Singapore and Malaysia ask). Cheap and
 * conservative: it only picks the wording of a generic answer.
 */
const QUESTION =
  /[?？]|[吗嗎么麼呢咩冇未嘛][\s\p{P}\p{S}]*$|[吗嗎](?!啡)|(\p{Script=Han})[不没沒唔]\1|\p{Script=Han}[还還]是(?![要选拿买来選買來])\p{Script=Han}|定係|怎么|怎麼|怎样|怎樣|如何|什么|什麼|啥|咋|哪|幾|几|多少|[点點](解|樣|样)|\b(what|which|where|when|who|why|how)\b|\bor not\b[\s\p{P}\p{S}]*$|^\s*(?:(?:hi|hello|hey)\W+)?(do|does|did|can|could|is|are|will|would|any|have|has)\b/iu;

/**
 * Body measurements a buyer gives for a size-fit question ("165 110斤", "身高170", "5'6 and 140 lbs",
 * "158cm"): a height or weight word with a number, a weight with its unit, a height in cm or feet,
 * or the size they usually wear ("平时穿42", "my son wears a 10"). Then the size help never asks
 * for them again.
 */
const MEASUREMENTS =
  /(?:平时|平時|一般|通常)穿\s*\d|\bwears? (?:a |an |size |us |uk |eu )?\d{1,2}(?:\.5)?\b|(?:身高|体重|體重|腰围|腰圍|胸围|胸圍|臀围|臀圍)\s*[:：是]?\s*\d|\d{2,3}(?:\.\d)?\s*(?:斤|公斤|磅|kgs?\b|lbs?\b|pounds\b)|(?<!\d)1\d{2}(?:\.\d)?\s*(?:cm\b|厘米|公分|釐米)|\d米\d{1,2}|(?<![\d.])[4-6]\s*(?:'|’|ft\b|feet\b|foot\b)\s*\d{0,2}|\b(?:height|weight|waist|chest|bust|hips?)\b\s*(?:is|of|:)?\s*\d/iu;

/** Two delaying messages make a buyer "chronically indecisive" in the source's sense. */
const CHRONIC_HESITATION = 2;
/** Buying signals in two or more messages are the source's "repeated buying signals". */
const REPEATED_BUYING_SIGNALS = 2;
/** Options listed in one help-choose reply: more than four no longer fits one chat message. */
const MAX_LISTED_VALUES = 4;
/** Without a model, a stage no lexicon cue decided is a guess. */
const UNCUED_CONFIDENCE = 0.3;

/** The intent the lexicons point at, for when there is no model. */
function intentFromLexicon(reading: ConversationReading): Intent {
  const s = reading.focusSignals;
  if (reading.stage === 'complaint')
    return reading.complaintTopic === 'delivery'
      ? 'late_parcel'
      : reading.complaintTopic === 'service'
        ? 'service_complaint'
        : 'defect';
  if (reading.stage === 'after_sale') {
    const byTopic: Record<string, Intent> = {
      tracking: 'order_status',
      return: 'refund',
      cancel: 'refund',
      exchange: 'exchange',
      invoice: 'invoice',
      address: 'address_change',
    };
    return byTopic[reading.afterSaleTopic] ?? 'order_status';
  }
  if (reading.lastIsGreeting) return 'greeting';
  if (s.has('hesitation')) return 'hesitation';
  if (s.has('asks_how_to_order') || s.has('will_buy')) return 'ready';
  if (s.has('asks_payment')) return 'payment';
  if (s.has('asks_delivery')) return 'delivery';
  if (s.has('asks_discount')) return 'haggling';
  if (s.has('asks_price')) return 'price';
  if (s.has('asks_stock')) return 'stock';
  if (reading.asksAboutSize) return 'size';
  if (s.has('asks_option')) return 'colour';
  return 'general';
}

/** Stage, intent and mood: the learned reader when there is one, the lexicons otherwise. */
function readStage(reading: ConversationReading, read: ReaderOutput | null) {
  if (read) {
    return {
      stage: read.stage,
      intent: read.intent,
      sentiment: read.stage === 'complaint' ? 'negative' : read.sentiment,
      confidence: read.confidence,
      complaintProbability: read.stageProbabilities.complaint,
      afterSaleProbability: read.stageProbabilities.after_sale,
    } as const;
  }
  const cued = reading.stage !== 'browsing' || reading.lastIsGreeting;
  return {
    stage: reading.stage,
    intent: intentFromLexicon(reading),
    sentiment: reading.sentiment,
    confidence: cued ? 1 : UNCUED_CONFIDENCE,
    complaintProbability: reading.stage === 'complaint' ? 1 : 0,
    afterSaleProbability: reading.stage === 'after_sale' ? 1 : 0,
  } as const;
}

export function analyseConversation(
  input: AssistInput,
  reader: Reader | null = null,
): ConversationAnalysis {
  const locale = input.locale ?? resolveLocale(input.history, input.settings?.locale);
  const reading = classifyConversation(input.history, productMentionDetector(input.catalog));
  const options = findOptions(input.history, input.catalog);
  // A last message that only tried to instruct the assistant leaves the reader nothing to read.
  const lastBuyer = [...input.history].reverse().find((m) => m.from === 'buyer')?.text ?? '';
  const readable = withoutInstructions(lastBuyer).trim().length > 0;
  // Read once here and handed to the reader's features, which would read them again.
  const given = givenIn(input.history);
  const read = readStage(
    reading,
    reader && readable ? reader.read(input.history, input.catalog, { reading, given }) : null,
  );
  const state = readDialogueState(input.history, options, read.sentiment, given);
  const recentComplaint = reading.signals.includes('complaint') && reading.stage === 'complaint';
  const complaintWordsInLast = readMessage(lastBuyer, () => false).signals.has('complaint');
  const policy = tacticPolicy({
    ...read,
    state,
    buyingSignals: reading.buyingMessages > 0,
    troubleWords: recentComplaint || reading.sentiment === 'negative',
    complaintWordsInLast,
  });
  const buyerWroteCode = input.history.some((m) => CODE_LIKE.test(m.text));
  // "？", "???" after a greeting ask nothing yet: there are no words to answer.
  const lastIsQuestion =
    QUESTION.test(withoutInstructions(lastBuyer)) && WORDS_LEFT.test(lastBuyer);
  // The size question's own window (the buyer's last two messages), as the lexicons read it.
  const gaveMeasurements = input.history
    .filter((m) => m.from === 'buyer')
    .slice(-2)
    .some((m) => MEASUREMENTS.test(m.text));
  const recentBuyer = input.history
    .filter((m) => m.from === 'buyer')
    .slice(-3)
    .map((m) => m.text);
  const arrived = recentBuyer.some((text) => ARRIVED.test(text));
  const buyerTexts = input.history.filter((m) => m.from === 'buyer').map((m) => m.text);
  // The reading already holds every buyer message's signals: no message is read again here.
  const hasPurchase =
    state.given.length > 0 ||
    reading.signals.includes('after_sale') ||
    reading.signals.includes('complaint') ||
    buyerTexts.some((text) => PURCHASED.test(text));
  const otherTopic = (['quality', 'service'] as const).find((topic) =>
    recentBuyer.some((text) => matches(lexicon.complaintTopics[topic], text)),
  );
  const lastIsVoiceNote =
    matches(lexicon.voiceNotes, lastBuyer) &&
    !WORDS_LEFT.test(lastBuyer.replace(lexicon.voiceNotes as RegExp, ''));
  // A thank-you asks nothing and reports nothing: no question, no complaint word in it, and
  // the word is not negated ("not yet received", "还没收到", "不可以").
  const lastAcknowledges = acknowledges(lastBuyer) && !lastIsQuestion && !complaintWordsInLast;
  return {
    locale,
    reading,
    options,
    ...read,
    state,
    policy,
    buyerWroteCode,
    lastIsQuestion,
    gaveMeasurements,
    lastIsVoiceNote,
    lastAcknowledges,
    hasPurchase,
    digital: buyerTexts.some((text) => matches(lexicon.digitalGoods, text)),
    // Only needed when the reading is unsure: a second pass over the options then.
    lastSettles: policy.clarify && lastChoiceMade(input.history, options, state.settled),
    lastIsAppointment: APPOINTMENT.test(lastBuyer) && !SELF_INSTALL.test(lastBuyer),
    lastAsksPersonalContact: matches(lexicon.personalContact, lastBuyer) && !WALLET.test(lastBuyer),
    lastNamesDuty: matches(lexicon.dutyWords, lastBuyer),
    lastAsksStacking:
      matches(lexicon.stackingWords, lastBuyer) &&
      (OFFER.test(lastBuyer) || PROMO_CODE.test(lastBuyer)),
    lastAsksFit: matches(lexicon.compatibilityWords, lastBuyer) || MODEL_YEAR.test(lastBuyer),
    lastIsBulk: matches(lexicon.bulkWords, lastBuyer) || BULK_QUANTITY.test(lastBuyer),
    lastNamesMaterial: matches(lexicon.materialWords, lastBuyer),
    lastHasLink: hasLink(lastBuyer),
    lastQuestions: questionTopics(lastBuyer, reader),
    topicOnceArrived: arrived ? (otherTopic ?? 'general') : null,
  };
}

/**
 * The questions of one message, each as the topics its sentence asks about: its lexicon
 * signals, and with two questions or more, the answer the reader's intent for that sentence
 * alone points at ("if I buy a gift card how does it get sent?" says "card", but asks about
 * delivery). "在吗？", "hello?" and a lone "？" ask nothing to answer.
 */
function questionTopics(text: string, reader: Reader | null): ReadonlySet<string>[] {
  // A link's "?" ends no sentence.
  const questions = splitSentences(withoutLinks(withoutInstructions(text)))
    .filter(
      (sentence) =>
        // Latin script asks with a question mark ("...who puts everything in her mouth lol" does
        // not); Chinese often without one ("寄元朗要唔要運費"), but a sentence ending in 了
        // tells ("家裡剩沒幾片了").
        (/[?？]/.test(sentence) ||
          (/\p{Script=Han}/u.test(sentence) &&
            QUESTION.test(sentence) &&
            !/了[\s\p{P}\p{S}]*$/u.test(sentence))) &&
        [...sentence.replace(/[^\p{L}\p{N}]/gu, '')].length >= 2,
    )
    .map((sentence) => ({ sentence, read: readMessage(sentence, () => false) }))
    .filter(({ read }) => !read.greeting);
  return questions.map(({ sentence, read }) => {
    const topics = new Set<string>(read.signals);
    if (questions.length > 1 && reader) {
      const answer = ANSWER_FOR_INTENT[reader.read([{ from: 'buyer', text: sentence }]).intent];
      if (answer && answer !== 'general') topics.add(answer);
    }
    return topics;
  });
}

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}

function listValues(values: readonly string[], t: ReplyTemplates): string {
  const shown = values.slice(0, MAX_LISTED_VALUES);
  if (shown.length <= 1) return shown.join('');
  return `${shown.slice(0, -1).join(t.listSeparator)}${t.listLastSeparator}${shown[shown.length - 1]}`;
}

/** Lexicon questions the "answer" tactic can reply to, most order-relevant first. */
const ANSWERABLE = [
  'asks_how_to_order',
  'asks_payment',
  'will_buy',
  'asks_delivery',
  'asks_stock',
  'asks_price',
  'asks_discount',
] as const satisfies readonly SignalName[];

type AnswerKey = keyof ReplyTemplates['answer'];
/** The topics a second question gets a clause of its own for (an ordering push never does). */
const ALSO_TOPICS = [
  'asks_price',
  'asks_stock',
  'asks_delivery',
  'asks_payment',
] as const satisfies readonly (keyof ReplyTemplates['also'] & SignalName)[];
/** Answers to a question of fact, the ones a second question in the same message can follow. */
const FACTUAL_ANSWERS: readonly AnswerKey[] = [
  'asks_price',
  'asks_stock',
  'asks_delivery',
  'delivery_days',
  'asks_payment',
  'asks_how_to_order',
  'will_buy',
  'shipping_fee',
  'invoice',
  'material',
];
/** Topics an answer already takes up besides its own (the shipping fee's answer checks the delivery time). */
const COVERED_BY_ANSWER: Partial<Record<AnswerKey, readonly SignalName[]>> = {
  shipping_fee: ['asks_delivery'],
  delivery_days: ['asks_delivery'],
  asks_discount: ['asks_price'],
};
/** Answers that tell the buyer to go ahead and order: never to a buyer who may be reporting a fault. */
const ORDERING_ANSWERS: readonly AnswerKey[] = ['will_buy', 'asks_how_to_order'];

/** The answer template for what the buyer asked (the reader's intent), or null when another tactic answers it. */
const ANSWER_FOR_INTENT: Partial<Record<Intent, AnswerKey>> = {
  price: 'asks_price',
  haggling: 'asks_discount',
  stock: 'asks_stock',
  delivery: 'asks_delivery',
  shipping_fee: 'shipping_fee',
  invoice: 'invoice',
  payment: 'asks_payment',
  ready: 'will_buy',
  material: 'material',
  hesitation: 'hesitation',
  comparing: 'comparing',
  general: 'general',
  other: 'general',
};

const AFTER_SALE_FOR_INTENT: Partial<Record<Intent, AfterSaleTopic>> = {
  order_status: 'tracking',
  late_parcel: 'tracking',
  address_change: 'address',
  refund: 'return',
  exchange: 'exchange',
  invoice: 'invoice',
};

const COMPLAINT_FOR_INTENT: Partial<Record<Intent, ComplaintTopic>> = {
  wrong_item: 'quality',
  damaged: 'quality',
  defect: 'quality',
  late_parcel: 'delivery',
  order_status: 'delivery',
  service_complaint: 'service',
  review_threat: 'service',
};

/** Dimensions the buyer has not settled yet (delivery days are never "settled" by a choice of product). */
function undecided(options: OptionsInFocus, state: DialogueState): OptionDimension[] {
  return options.dimensions.filter((d) => !Object.hasOwn(state.settled, d.key));
}

/** Builds each tactic's reply for one conversation; a tactic without honest material returns null. */
function replyWriter(analysis: ConversationAnalysis) {
  const { reading, options, state, locale } = analysis;
  const t = templatesFor(locale);
  const term = (value: string) => inReplyScript(value, locale);
  const product = options.productName
    ? fill(t.productName, { name: term(options.productName) })
    : t.productFallback;
  // Option names come from shops' catalogs: "constructor" must not find Object.prototype.
  const label = (key: string) =>
    (Object.hasOwn(t.optionLabels, key) ? t.optionLabels[key] : undefined) ??
    t.optionLabels._other ??
    key;
  const open = undecided(options, state);
  const choosable = open.filter((d) => d.key !== 'deliveryDays' && d.values.length >= 2);
  const deliveryDays = open.find((d) => d.key === 'deliveryDays');
  const givenOrder =
    state.given.includes('order_number') || state.given.includes('tracking_number');
  const settledValues = Object.values(state.settled);
  // Import duty the buyer was not told about is about the service, not a late parcel.
  const readTopic = analysis.lastNamesDuty
    ? 'service'
    : (COMPLAINT_FOR_INTENT[analysis.intent] ?? reading.complaintTopic);
  const complaintTopic =
    readTopic === 'delivery' ? (analysis.topicOnceArrived ?? readTopic) : readTopic;

  const answerWith = (key: AnswerKey): DraftSuggestion => {
    if (key === 'asks_delivery' && deliveryDays) {
      return {
        tactic: 'answer',
        text: fill(t.answer.delivery_days, {
          product,
          values: listValues(deliveryDays.values.map(term), t),
        }),
      };
    }
    // A price for a bulk quantity is a quote to ask the shop for: the page price is not it.
    if ((key === 'asks_price' || key === 'asks_discount') && analysis.lastIsBulk)
      return { tactic: 'answer', text: t.answer.bulk_quote };
    return { tactic: 'answer', text: fill(t.answer[key], { product }) };
  };
  /**
   * The answer to one question, and a clause for the buyer's other question in the same
   * message: its own topic's when it has one the answer does not cover ("多少钱？几天能到？"
   * → the delivery time too), else "your other question too" when the answer is known to be
   * about one of the questions (a sentence carries its topic's words). Never an ordering push,
   * never past the reply's length.
   */
  const withSecondQuestion = (key: AnswerKey, answer: DraftSuggestion): DraftSuggestion => {
    const questions = analysis.lastQuestions;
    // A buyer weighing the price ("一个毛巾卖39？金子做的？", "can cheaper or not") asks
    // rhetorically: only a factual answer takes up a second question.
    if (questions.length < 2 || !FACTUAL_ANSWERS.includes(key)) return answer;
    const covered = new Set<string>([key, ...(COVERED_BY_ANSWER[key] ?? [])]);
    const answered = (q: ReadonlySet<string>) => [...q].some((topic) => covered.has(topic));
    const others = questions.filter((q) => !answered(q));
    // "多少钱？有优惠吗？": any clause would promise to look for an offer the shop never made.
    if (others.length === 0 || others.some((q) => q.has('asks_discount'))) return answer;
    const topic = ALSO_TOPICS.find((t) => !covered.has(t) && others.some((q) => q.has(t)));
    const clause = topic ? t.also[topic] : questions.some(answered) ? t.also.other : null;
    if (!clause) return answer;
    // An answer that ends by asking ("…Anything else you'd like to know?") keeps its question last.
    const sentences = splitSentences(answer.text);
    const last = sentences.at(-1) ?? '';
    const asksLast = sentences.length > 1 && /[?？]\s*$/.test(last);
    const head = asksLast ? answer.text.slice(0, answer.text.length - last.length) : answer.text;
    const space = locale === 'en' ? ' ' : '';
    const text = asksLast
      ? `${head.trimEnd()}${space}${clause}${space}${last.trimStart()}`
      : `${answer.text}${space}${clause}`;
    return [...text].length <= MAX_REPLY_CHARS[locale] ? { ...answer, text } : answer;
  };
  const confirmChoice = (): DraftSuggestion | null =>
    settledValues.length > 0
      ? {
          tactic: 'answer',
          text: fill(t.answer.confirm_choice, {
            // Two values settled together ("白色, 浅蓝色") are listed the way the reply's language lists.
            choice: settledValues
              .flatMap((v) => v.split(', '))
              .map(term)
              .join(locale === 'en' ? ', ' : '、'),
          }),
        }
      : null;

  return {
    greeting: (): DraftSuggestion => ({
      tactic: 'greeting',
      text: t.greeting[0] ?? t.answer.general,
    }),
    /** A reply to the buyer's actual question: the reader's intent, else the lexicon's; null when none applies and `onlyIfAsked`. */
    answer: (onlyIfAsked = false): DraftSuggestion | null => {
      // Questions no shop setting answers, whatever the intent read: the agent checks them.
      if (analysis.lastAsksStacking) return { tactic: 'answer', text: t.answer.coupon_check };
      if (analysis.lastNamesDuty && analysis.lastIsQuestion)
        return { tactic: 'answer', text: t.answer.duty_check };
      const byIntent = ANSWER_FOR_INTENT[analysis.intent];
      const bySignal = ANSWERABLE.find((s) => reading.focusSignals.has(s));
      // The material answer ("the material and care details...") only when the buyer named one:
      // "有M码吗 想要black的" read as material would answer a question nobody asked.
      const fits = byIntent !== 'material' || analysis.lastNamesMaterial;
      if (byIntent && byIntent !== 'general' && fits) {
        // "How do I order" reads as intent ready; the how-to answer fits it better than "great!".
        if (byIntent === 'will_buy' && reading.focusSignals.has('asks_how_to_order'))
          return answerWith('asks_how_to_order');
        return withSecondQuestion(byIntent, answerWith(byIntent));
      }
      if (bySignal) return withSecondQuestion(bySignal, answerWith(bySignal));
      if (onlyIfAsked) return null;
      // "Do you sell cat scratchers?" or "are they handmade?" with no catalog to answer from:
      // take the question up instead of asking which item the buyer means.
      // A pasted link points at the item: take it up rather than ask which item.
      const takesUp = (analysis.lastIsQuestion || analysis.lastHasLink) && !reading.lastIsGreeting;
      return answerWith(takesUp ? 'question' : 'general');
    },
    clarify: (): DraftSuggestion => ({ tactic: 'answer', text: t.answer.clarify }),
    /** The agent's own WeChat or number is never given: the buyer is looked after in this chat. */
    personalContact: (): DraftSuggestion => ({
      tactic: 'answer',
      text: t.answer.personal_contact,
    }),
    acknowledged: (): DraftSuggestion => ({ tactic: 'answer', text: t.answer.acknowledged }),
    answerText: (key: AnswerKey): string => fill(t.answer[key], { product }),
    /** A voice message the text does not hold: ask for it in writing too, never guess its words. */
    voiceNote: (): DraftSuggestion | null =>
      analysis.lastIsVoiceNote ? { tactic: 'answer', text: t.answer.voice_note } : null,
    /** "Just looking": let the buyer browse, no question about which item. */
    justLooking: (): DraftSuggestion => ({ tactic: 'answer', text: t.answer.just_looking }),
    /** Takes up a question nothing more specific answers ("let me check that for you"). */
    question: (): DraftSuggestion => ({
      tactic: 'answer',
      text: analysis.lastAsksStacking
        ? t.answer.coupon_check
        : analysis.lastNamesDuty
          ? t.answer.duty_check
          : t.answer.question,
    }),
    confirmChoice,
    afterSale: (): DraftSuggestion => {
      // "Is this noise normal?", "how do I unlock the buckle?": a question about the item in
      // hand wants a closer look, not the order number.
      const usage =
        analysis.intent === 'other' &&
        analysis.lastIsQuestion &&
        reading.afterSaleTopic === 'general';
      // "Got it, thank you!", "👍" after the agent's fix: a warm close, not a request for the
      // order number, whatever topic an earlier message had or the reader guessed.
      const thanks =
        analysis.lastAcknowledges ||
        (analysis.intent === 'other' &&
          !analysis.lastIsQuestion &&
          analysis.sentiment === 'positive' &&
          reading.afterSaleTopic === 'general');
      if (thanks)
        return { tactic: 'answer', text: (givenOrder ? t.afterSaleGiven : t.afterSale).thanks };
      // A parcel the buyer says has come is not tracked ("the parcel 到了 but a charger is missing").
      const lexiconTopic =
        reading.afterSaleTopic === 'tracking' && analysis.topicOnceArrived !== null
          ? 'general'
          : reading.afterSaleTopic;
      const topic = AFTER_SALE_FOR_INTENT[analysis.intent] ?? (usage ? 'usage' : lexiconTopic);
      // A booking or an installation visit is looked up: no tracking, no photo of it.
      // A top-up or a gift card has no parcel to track either.
      const looked =
        (analysis.lastIsAppointment && (topic === 'tracking' || topic === 'usage')) ||
        (analysis.digital && topic === 'tracking')
          ? 'general'
          : topic;
      // Read as after-sale, but nothing shows an order ("what's the expiry date?"): take the
      // question up instead of asking for an order number the buyer does not have.
      if (looked === 'general' && !analysis.hasPurchase && analysis.lastIsQuestion)
        return { tactic: 'answer', text: t.answer.check };
      return { tactic: 'answer', text: (givenOrder ? t.afterSaleGiven : t.afterSale)[looked] };
    },
    empathy: (): DraftSuggestion => {
      const topic = complaintTopic;
      // A top-up or a code that has not come: sorry, and a check, but no parcel to track.
      const text =
        topic === 'delivery' && analysis.digital
          ? t.empathy.reassure
          : topic === 'quality' && state.given.includes('photo')
            ? t.empathyGiven.quality
            : topic === 'general' && givenOrder
              ? t.empathyGiven.general
              : t.empathy[topic];
      return { tactic: 'empathy', text };
    },
    reassure: (): DraftSuggestion => ({ tactic: 'empathy', text: t.empathy.reassure }),
    /** The concrete next step on a complaint: look the order up (asking for its number unless given). */
    remedy: (): DraftSuggestion => {
      const topic = complaintTopic;
      const key = topic === 'delivery' && !analysis.digital ? 'tracking' : 'general';
      return { tactic: 'answer', text: (givenOrder ? t.afterSaleGiven : t.afterSale)[key] };
    },
    /** Help choosing on the next dimension the buyer has not settled; the confirmation when all are. */
    /** Real options the buyer has still to choose from (a catalog's, or named in the chat). */
    hasChoices: (): boolean => choosable.length > 0,
    helpChoose: (): DraftSuggestion | null => {
      const sizeAsked = analysis.intent === 'size' || reading.asksAboutSize;
      // Which size fits is answered from height and weight, not from what the buyer "prefers".
      const measured = analysis.gaveMeasurements;
      const dimension =
        choosable.find((d) => (sizeAsked ? d.key === 'size' : false)) ??
        choosable.find((d) => d.mentioned.length > 0) ??
        choosable[0];
      if (dimension) {
        const sizeFit = sizeAsked && dimension.key === 'size';
        return {
          tactic: 'help_choose',
          text: fill(
            sizeFit
              ? measured
                ? t.helpChoose.options_size_given
                : t.helpChoose.options_size
              : t.helpChoose.options,
            {
              product,
              label: label(dimension.key),
              values: listValues(dimension.values.map(term), t),
            },
          ),
        };
      }
      if (settledValues.length > 0) return null;
      const sizeQuestion = sizeAsked && options.dimensions.every((d) => d.key !== 'size');
      return {
        tactic: 'help_choose',
        text: sizeQuestion
          ? measured
            ? t.helpChoose.size_given
            : t.helpChoose.size
          : t.helpChoose.generic,
      };
    },
    /** Either-or on the next undecided dimension, then delivery days; never a settled one. */
    alternativeClose: (): DraftSuggestion | null => {
      const pair = pickAlternative({ ...options, dimensions: open });
      if (!pair) return null;
      const template =
        pair.key === 'deliveryDays' ? t.alternativeClose.delivery : t.alternativeClose.option;
      return {
        tactic: 'alternative_close',
        text: fill(template, { product, a: term(pair.a), b: term(pair.b) }),
      };
    },
    optionCheck: (): DraftSuggestion | null => {
      // Only without a catalog product, and only the single value the buyer named: nothing is promised but a check.
      if (options.productName) return null;
      const named = options.dimensions.filter((d) => d.values.length === 1);
      const value = named.length === 1 ? named[0]?.values[0] : undefined;
      if (!value || settledValues.some((v) => sameValue(v, value))) return null;
      return { tactic: 'answer', text: fill(t.answer.option_check, { value: term(value) }) };
    },
    busyNudge: (): DraftSuggestion => ({ tactic: 'busy_nudge', text: t.busyNudge }),
    followUp: (): DraftSuggestion => {
      const stage = analysis.stage;
      const text =
        stage === 'hesitating' || stage === 'ready' || stage === 'after_sale'
          ? t.followUp[stage]
          : t.followUp.default;
      return { tactic: 'follow_up', text };
    },
  };
}

/** The tactics for this conversation, best first, within the safety policy (tactic-policy.ts). */
function planReplies(
  analysis: ConversationAnalysis,
  busyNudgeEnabled: boolean,
): Array<DraftSuggestion | null> {
  const { reading, policy } = analysis;
  const write = replyWriter(analysis);
  const followUp =
    reading.awaitingBuyer && analysis.stage !== 'complaint' ? write.followUp() : null;
  const closing = <T>(draft: () => T): T | null => (policy.closingAllowed ? draft() : null);

  if (analysis.stage === 'complaint') {
    // Empathy first, then a concrete step on the order: never a closing tactic on an unhappy buyer.
    // The step asks for the order number, so it is left out whenever the buyer may have given one.
    const mayHaveGivenNumber = analysis.state.given.length > 0 || analysis.buyerWroteCode;
    return [
      write.empathy(),
      write.voiceNote(),
      mayHaveGivenNumber ? null : write.remedy(),
      write.reassure(),
    ];
  }
  if (policy.mayBeFault) {
    // Read as buying, with complaint words in it: maybe a fault reported. Never "go ahead and
    // order"; reassure, answer what else was asked, and ask what the buyer needs.
    const answer = write.answer(true);
    const ordering =
      answer && ORDERING_ANSWERS.some((key) => answer.text === write.answerText(key));
    return [write.reassure(), ordering ? null : answer, write.clarify()];
  }
  // A voice message: what it says is not in the text, so the first reply asks for it in writing.
  const voiceNote = write.voiceNote();
  if (voiceNote) return [followUp, voiceNote, write.answer(true), write.clarify()];
  if (policy.clarify) {
    // Not sure what the buyer wants: ask, never pitch. A question is taken up first.
    const opener = reading.lastIsGreeting ? write.greeting() : null;
    const takeUp = analysis.lastIsQuestion && !reading.lastIsGreeting ? write.question() : null;
    // A buyer who just named their choice ("actually, make it the medium") said what they want.
    const chosen = analysis.lastSettles ? write.confirmChoice() : null;
    return [followUp, opener, chosen, write.answer(true) ?? takeUp, write.clarify()];
  }
  switch (analysis.stage) {
    case 'after_sale':
      return [followUp, policy.empathyFirst ? write.empathy() : null, write.afterSale()];
    case 'browsing': {
      const quiet = reading.awaitingBuyer;
      const opener =
        reading.lastIsGreeting && !quiet
          ? write.greeting()
          : reading.focusSignals.has('just_browsing') && !analysis.lastIsQuestion
            ? write.justLooking()
            : // "👍", "thx" with nothing asked: a warm close, not "which item would you like?".
              analysis.lastAcknowledges && !quiet
              ? write.acknowledged()
              : write.answer();
      return [followUp, opener, closing(write.helpChoose)];
    }
    case 'interested': {
      // Interested but not ready: answer the question, help them choose, no talk of ordering.
      const asked = ANSWER_FOR_INTENT[analysis.intent];
      const answerFirst =
        asked !== undefined &&
        asked !== 'general' &&
        (asked !== 'material' || analysis.lastNamesMaterial);
      // A question comes first when listing the product's options does not answer it: the
      // check of the one option named with no catalog ("有黑色吗"), else taking it up
      // ("有前开式的吗" once size and colour are settled, a question about anything but the
      // options); then help choosing.
      // Listing the options answers only a question about them: "will these fit a 2017 Civic?"
      // is not answered by the colours.
      const check = write.optionCheck();
      const listsOptions = write.hasChoices();
      const aboutOptions =
        !analysis.lastAsksFit &&
        (reading.focusSignals.has('asks_option') ||
          analysis.intent === 'size' ||
          analysis.intent === 'colour');
      const questionFirst =
        !answerFirst &&
        (analysis.lastIsQuestion || analysis.lastHasLink) &&
        (check !== null || !listsOptions || !aboutOptions);
      return [
        followUp,
        answerFirst ? write.answer(true) : null,
        questionFirst ? (check ?? write.question()) : null,
        closing(write.helpChoose),
        check,
        write.answer(true),
        write.confirmChoice(),
      ];
    }
    case 'ready':
      return [followUp, write.answer(), closing(write.alternativeClose) ?? write.confirmChoice()];
    case 'hesitating': {
      const hesitationAnswer = write.answer(true);
      if (
        busyNudgeEnabled &&
        policy.closingAllowed &&
        reading.hesitationMessages >= CHRONIC_HESITATION
      ) {
        return [
          followUp,
          write.busyNudge(),
          write.alternativeClose() ?? write.helpChoose(),
          hesitationAnswer,
        ];
      }
      const close =
        reading.buyingMessages >= REPEATED_BUYING_SIGNALS ? closing(write.alternativeClose) : null;
      return [followUp, close, hesitationAnswer, closing(write.helpChoose)];
    }
  }
}

/**
 * Up to MAX_SUGGESTIONS replies, best first, each of a different tactic: the
 * first stays the best one, the next ones are the next best other tactics. A
 * second reply of the same tactic is kept only when no other tactic applies,
 * so the agent still has a choice.
 */
export function distinctTactics(candidates: readonly DraftSuggestion[]): DraftSuggestion[] {
  const chosen: DraftSuggestion[] = [];
  for (const draft of candidates) {
    if (chosen.length >= MAX_SUGGESTIONS) break;
    if (!chosen.some((s) => s.tactic === draft.tactic)) chosen.push(draft);
  }
  if (chosen.length === 1) {
    const alternative = candidates.find((d) => d !== chosen[0]);
    if (alternative) chosen.push(alternative);
  }
  return chosen;
}

export function draftWithRules(
  analysis: ConversationAnalysis,
  busyNudgeEnabled: boolean,
): EngineDraft {
  const candidates: DraftSuggestion[] = [];
  // Asked for the agent's own contact: say first that the chat stays here (a complainer's
  // empathy comes first, so this reply is for everyone else).
  const keepsChatHere =
    analysis.lastAsksPersonalContact && analysis.stage !== 'complaint'
      ? replyWriter(analysis).personalContact()
      : null;
  for (const draft of [keepsChatHere, ...planReplies(analysis, busyNudgeEnabled)]) {
    if (draft && !candidates.some((s) => s.text === draft.text)) candidates.push(draft);
  }
  if (candidates.length === 0) candidates.push(replyWriter(analysis).clarify());
  return {
    stage: analysis.stage,
    sentiment: analysis.sentiment,
    signals: [...analysis.reading.signals],
    suggestions: distinctTactics(candidates),
  };
}
